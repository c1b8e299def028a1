"""PodmanRuntime: Podman through the `podman` SDK (libpod REST); the only podman importer."""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import tarfile
import urllib.parse
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import podman
import podman.errors
import requests.exceptions
import urllib3.exceptions

from containers_tool.errors import (
    ConflictError,
    EngineError,
    NotFoundError,
    RuntimeUnavailableError,
    ToolError,
)
from containers_tool.runtime import isolation
from containers_tool.runtime.base import (
    ContainerInfo,
    ContainerLogs,
    ContainerSpec,
    EngineInfo,
    ExecRequest,
    ExecResult,
    ImageInfo,
    NetworkInfo,
    NetworkIsolation,
    PathStat,
    ShellChannel,
    VolumeInfo,
)
from containers_tool.runtime.commit import config_changes
from containers_tool.runtime.inspect import container_info, path_stat, summary_info
from containers_tool.runtime.shell import SocketShell
from containers_tool.runtime.streams import (
    build_failed,
    collect,
    kill_argv,
    log_params,
    new_marker,
    plain,
    read_frames,
    read_logs,
    stream_timeout,
)
from containers_tool.runtime.transport import transport_error
from containers_tool.runtime.users import ExecUsers, exec_user_labels

ROOTFUL_SOCKET = "unix:///run/podman/podman.sock"
UNAVAILABLE_HINT = (
    "Start the Podman API socket (`systemctl --user enable --now podman.socket`, or as root "
    "`podman system service --time=0 unix:///run/podman/podman.sock &`, or run "
    "scripts/provision-engines.sh), then call preflight."
)


def _explain(exc: Any) -> str:
    response = getattr(exc, "response", None)
    with contextlib.suppress(Exception):
        body = response.json() if response is not None else {}
        if isinstance(body, dict) and body.get("message"):
            return str(body["message"])
    return str(getattr(exc, "explanation", None) or exc)


@contextlib.contextmanager
def _engine_errors(subject: str) -> Iterator[None]:
    """Translates podman SDK exceptions into the tool's error types, once, here."""
    try:
        yield
    except ToolError:
        raise  # already translated (and some are OSErrors, caught below otherwise)
    except (podman.errors.NotFound, podman.errors.ImageNotFound) as exc:
        # podman's ImageNotFound is not a NotFound: list both.
        raise NotFoundError(
            f"{subject} was not found ({_explain(exc)}).", hint="Call list to see names."
        ) from exc
    except podman.errors.APIError as exc:
        response = getattr(exc, "response", None)
        if response is None and exc.__cause__ is not None:
            # podman-py wraps a failed connection (an OSError) in an APIError with no answer.
            raise transport_error("Podman", subject, exc.__cause__, UNAVAILABLE_HINT) from exc
        status = getattr(response, "status_code", None)
        # Podman answers 500 "no such container" for one removed while it is being looked at.
        if status == 404 or "no such container" in _explain(exc):
            raise NotFoundError(
                f"{subject} was not found ({_explain(exc)}).", hint="Call list."
            ) from exc
        text = _explain(exc)
        # Podman 4 answers 500 for some conflicts; its messages are stable across versions.
        if status == 409 or "already in use" in text or "state improper" in text:
            raise ConflictError(
                f"{subject}: {text}", hint="Call status or list to see its state."
            ) from exc
        raise EngineError(f"{subject}: {_explain(exc)}", hint="Check the engine log.") from exc
    except podman.errors.PodmanError as exc:
        raise RuntimeUnavailableError(
            f"Podman is not reachable ({type(exc).__name__}).", hint=UNAVAILABLE_HINT
        ) from exc
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        # A read timeout of a streamed response (exec, logs, build) surfaces here unwrapped.
        raise transport_error("Podman", subject, exc, UNAVAILABLE_HINT) from exc


def _network(data: dict[str, Any], containers: Mapping[str, str] | None = None) -> NetworkInfo:
    return NetworkInfo(
        id=str(data.get("id", "")),
        name=str(data.get("name", "")),
        driver=str(data.get("driver", "")),
        internal=bool(data.get("internal")),
        labels=dict(data.get("labels") or {}),
        containers=dict(containers or {}),
        subnets=[str(s.get("subnet")) for s in data.get("subnets") or []],
    )


def _network_conflict(subject: str, exc: ConflictError | EngineError) -> ToolError:
    text = exc.message
    if "being used" in text or "in use" in text or "already" in text:
        return ConflictError(text, hint="Call list_networks.")
    if "not connected" in text or "no such" in text.lower():
        return NotFoundError(text, hint="Call status.")
    return exc


def _check(response: Any) -> Any:
    response.raise_for_status()
    return response


def _response_socket(response: Any) -> socket.socket | None:
    """The socket under a streamed response.

    http.client drops the connection's `sock` once a response will close, so this looks
    under the response's file too (the route docker-py's `_get_raw_response_socket` takes).
    """
    conn = getattr(response.raw, "connection", None) or getattr(response.raw, "_connection", None)
    sock = getattr(conn, "sock", None)
    if not isinstance(sock, socket.socket):
        reader = getattr(getattr(response.raw, "_fp", None), "fp", None)
        sock = getattr(getattr(reader, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _shutdown(sock: socket.socket | None) -> None:
    # Shutting the socket down ends a read blocked in another thread. Closing the response
    # instead would wait for that read: the reader holds the buffered file's lock.
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class PodmanRuntime:
    """Podman over its libpod REST API.

    Args:
        endpoint: A base URL such as `unix:///run/podman/podman.sock`.
    """

    name = "podman"

    def __init__(self, endpoint: str = ROOTFUL_SOCKET) -> None:
        self.endpoint = endpoint
        with _engine_errors("Podman"):
            self._client = podman.PodmanClient(base_url=endpoint, timeout=60)
        self._api = self._client.api
        self._isolation: NetworkIsolation | None = None
        self._users = ExecUsers(self._labels_of)

    def _labels_of(self, container: str) -> tuple[str, Mapping[str, str]]:
        with _engine_errors(f"Container {container!r}"):
            data = _check(self._api.get(f"/containers/{container}/json")).json()
        return str(data.get("Id", "")), dict((data.get("Config") or {}).get("Labels") or {})

    def info(self) -> EngineInfo:
        """See Runtime.info."""
        with _engine_errors("Podman"):
            data = _check(self._api.get("/info")).json()
        host = data.get("host") or {}
        ver = data.get("version") or {}
        return EngineInfo(
            name=self.name,
            version=str(ver.get("Version", "")),
            api_version=str(ver.get("APIVersion", "")),
            endpoint=self.endpoint,
            rootless=bool((host.get("security") or {}).get("rootless")),
            os=str(host.get("distribution", {}).get("distribution", "")),
            cgroup_version=str(host.get("cgroupVersion", "")),
            cpus=int(host.get("cpus") or 0),
        )

    def close(self) -> None:
        """See Runtime.close."""
        self._client.close()  # type: ignore[no-untyped-call]

    def image_exists(self, ref: str) -> bool:
        """See Runtime.image_exists."""
        with _engine_errors(f"Image {ref!r}"):
            return bool(self._api.get(f"/images/{ref}/exists").status_code == 204)

    def pull_image(self, ref: str) -> None:
        """See Runtime.pull_image."""
        qualified = ref
        first = ref.split("/", 1)[0]
        if "/" not in ref:
            qualified = f"docker.io/library/{ref}"
        elif "." not in first and ":" not in first and first != "localhost":
            qualified = f"docker.io/{ref}"
        with _engine_errors(f"Image {ref!r}"):
            try:
                self._client.images.pull(qualified)
            except (podman.errors.APIError, podman.errors.ImageNotFound) as exc:
                raise NotFoundError(
                    f"Image {ref!r} could not be pulled: {_explain(exc)}",
                    hint="Check the name, or point the tool at a mirror or a local image "
                    "(settings image_prefix / image_overrides).",
                    field="image",
                ) from exc

    def create_container(self, spec: ContainerSpec) -> str:
        """See Runtime.create_container."""
        limits: dict[str, Any] = {}
        if spec.memory_bytes:
            limits["memory"] = {"limit": spec.memory_bytes, "swap": spec.memory_bytes}
        if spec.nano_cpus:
            limits["cpu"] = {"quota": spec.nano_cpus // 10_000, "period": 100_000}
        if spec.pids_limit:
            limits["pids"] = {"limit": spec.pids_limit}
        body: dict[str, Any] = {
            "name": spec.name,
            "image": spec.image,
            "env": dict(spec.env),
            "labels": exec_user_labels(spec),
            "init": spec.init,
            "privileged": spec.privileged,
            "no_new_privileges": spec.no_new_privileges,
            "resource_limits": limits,
            "stop_timeout": 2,
            "mounts": [
                {
                    "destination": m.target,
                    "source": m.source,
                    "type": "bind",
                    "options": ["rbind", "ro" if m.read_only else "rw"],
                }
                for m in spec.mounts
            ]
            + [
                {
                    "destination": path,
                    "type": "tmpfs",
                    "source": "tmpfs",
                    "options": [o for o in opts.split(",") if o],
                }
                for path, opts in spec.tmpfs.items()
            ],
            "portmappings": [
                {
                    "container_port": p.container_port,
                    "host_port": p.host_port or 0,
                    "protocol": p.protocol,
                    "host_ip": p.host_ip,
                }
                for p in spec.ports
            ],
        }
        if spec.command is not None:
            body["command"] = list(spec.command)
        if spec.entrypoint is not None:
            body["entrypoint"] = list(spec.entrypoint)  # [] clears the image's
        if spec.workdir:
            body["work_dir"] = spec.workdir
            body["create_working_dir"] = True
        if spec.user:
            body["user"] = spec.user
        if spec.hostname:
            body["hostname"] = spec.hostname
        if spec.network in ("none", "host"):
            body["netns"] = {"nsmode": spec.network}
        elif spec.network == "bridge":  # Docker's name for the default network; podman's differs
            body["netns"] = {"nsmode": "bridge"}
        elif spec.network:
            body["netns"] = {"nsmode": "bridge"}
            body["networks"] = {spec.network: {}}
        with _engine_errors(f"Container {spec.name!r}"):
            created = _check(self._api.post("/containers/create", data=json.dumps(body))).json()
        self._users.remember(str(created["Id"]), spec.exec_user)
        return str(created["Id"])

    def start_container(self, container: str) -> None:
        """See Runtime.start_container."""
        with _engine_errors(f"Container {container!r}"):
            _check(self._api.post(f"/containers/{container}/start"))

    def inspect_container(self, container: str) -> ContainerInfo:
        """See Runtime.inspect_container."""
        with _engine_errors(f"Container {container!r}"):
            data = _check(self._api.get(f"/containers/{container}/json")).json()
        return container_info(data)

    def list_containers(self, labels: Mapping[str, str]) -> list[ContainerInfo]:
        """See Runtime.list_containers."""
        filters = {"label": [f"{k}={v}" for k, v in labels.items()]}
        return [summary_info(r) for r in self._container_rows(filters)]

    def _container_rows(self, filters: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
        params = {"all": "true", "filters": json.dumps(filters)}
        for attempt in range(3):
            try:
                with _engine_errors("Podman"):
                    return list(_check(self._api.get("/containers/json", params=params)).json())
            except NotFoundError:  # a container was removed while Podman listed it: ask again
                if attempt == 2:
                    raise
        return []

    def remove_container(self, container: str) -> None:
        """See Runtime.remove_container."""
        params = {"force": "true", "v": "true", "timeout": "0"}
        self._users.forget(container)
        with contextlib.suppress(NotFoundError), _engine_errors(f"Container {container!r}"):
            _check(self._api.delete(f"/containers/{container}", params=params))

    # --- images, logs (issue 4: service containers, snapshots) ---

    def inspect_image(self, ref: str) -> ImageInfo:
        """See Runtime.inspect_image."""
        with _engine_errors(f"Image {ref!r}"):
            data = _check(self._api.get(f"/images/{ref}/json")).json()
        config = data.get("Config") or {}
        env = dict(str(e).partition("=")[::2] for e in config.get("Env") or [])
        return ImageInfo(
            id=str(data.get("Id", "")),
            tags=list(data.get("RepoTags") or []),
            labels=dict(config.get("Labels") or data.get("Labels") or {}),
            env=env,
            size=int(data.get("Size") or 0),
            created=str(data.get("Created") or ""),
            workdir=str(config.get("WorkingDir") or ""),
        )

    def list_images(self, labels: Mapping[str, str]) -> list[ImageInfo]:
        """See Runtime.list_images."""
        # Podman 4.3's image list answers nothing for two or more label filters: send one and
        # check the rest here.
        first = dict(list(labels.items())[:1])
        filters = {"label": [f"{k}={v}" for k, v in first.items()]}
        with _engine_errors("Podman"):
            rows = _check(
                self._api.get("/images/json", params={"filters": json.dumps(filters)})
            ).json()
        return [
            ImageInfo(
                id=str(r.get("Id", "")),
                tags=[t for t in r.get("RepoTags") or [] if t != "<none>:<none>"],
                labels=dict(r.get("Labels") or {}),
                size=int(r.get("Size") or 0),
                created=str(r.get("Created") or ""),
            )
            for r in rows or []
            if all((r.get("Labels") or {}).get(k) == v for k, v in labels.items())
        ]

    def tag_image(self, ref: str, new_ref: str) -> None:
        """See Runtime.tag_image."""
        repo, _, tag = new_ref.rpartition(":")
        with _engine_errors(f"Image {ref!r}"):
            _check(self._api.post(f"/images/{ref}/tag", params={"repo": repo, "tag": tag}))

    def remove_image(self, ref: str) -> None:
        """See Runtime.remove_image."""
        with _engine_errors(f"Image {ref!r}"):
            _check(self._api.delete(f"/images/{ref}"))

    def commit_container(
        self,
        container: str,
        ref: str,
        *,
        labels: Mapping[str, str],
        env: Mapping[str, str],
        command: Sequence[str] | None = None,
        drop_labels: Collection[str] = (),
    ) -> str:
        """See Runtime.commit_container."""
        subject = f"Container {container!r}"
        with _engine_errors(subject):
            data = _check(self._api.get(f"/containers/{container}/json")).json()
            config = data.get("Config") or {}
            # Podman 4 reports the entrypoint as one string; the image's is a list, and the
            # tool never overrides it.
            image = _check(self._api.get(f"/images/{data.get('Image', '')}/json")).json()
            entrypoint = (image.get("Config") or {}).get("Entrypoint")
            changes = config_changes(config, entrypoint, labels, env, command, drop_labels)
            # Not /commit: it copies every container label into the image, and no change can
            # remove one. Export and import give the image exactly the config built here.
            _check(self._api.post(f"/containers/{container}/pause"))
            try:
                exported = _check(self._api.get(f"/containers/{container}/export", stream=True))
                try:
                    created = _check(
                        self._api.post(
                            "/images/import",
                            params={"reference": ref, "changes": changes},
                            data=exported.iter_content(1024 * 1024),
                            headers={"Content-Type": "application/x-tar"},
                            timeout=600,  # a big filesystem takes a while to store
                        )
                    ).json()
                finally:
                    exported.close()
            finally:
                _check(self._api.post(f"/containers/{container}/unpause"))
        return str(created.get("Id") or created.get("id") or "")

    def container_logs(
        self, container: str, *, tail: int | None, since_s: float | None, limit: int
    ) -> ContainerLogs:
        """See Runtime.container_logs."""
        with _engine_errors(f"Container {container!r}"):
            response = _check(
                self._api.get(
                    f"/containers/{container}/logs",
                    params=log_params(tail, since_s),
                    stream=True,
                )
            )
            try:
                return read_logs(read_frames(response.raw.read), limit)
            finally:
                response.close()

    def exec_command(self, container: str, req: ExecRequest) -> ExecResult:
        """See Runtime.exec_command."""
        marker = new_marker()
        env = [f"{k}={v}" for k, v in req.env.items()] + [marker]
        body: dict[str, Any] = {
            "Cmd": list(req.argv),
            "AttachStdout": True,
            "AttachStderr": True,
            "Env": env,
        }
        if req.workdir:
            body["WorkingDir"] = req.workdir
        user = self._users.resolve(container, req.user)
        if user:
            body["User"] = user
        subject = f"Container {container!r}"
        with _engine_errors(subject):
            exec_id = _check(
                self._api.post(f"/containers/{container}/exec", data=json.dumps(body))
            ).json()["Id"]
            response = _check(
                self._api.post(
                    f"/exec/{exec_id}/start",
                    data=json.dumps({"Detach": False, "Tty": False}),
                    stream=True,
                )
            )
        sock = _response_socket(response)
        if sock is not None:  # not the client's 60 s: an exec may be silent for longer
            sock.settimeout(stream_timeout(req))
        with _engine_errors(subject):
            return collect(
                req,
                read_frames(response.raw.read),
                kill=lambda: self._kill_marked(container, marker, user),
                abort=lambda: _shutdown(sock),
                close=response.close,
                inspect=lambda: _check(self._api.get(f"/exec/{exec_id}/json")).json(),
            )

    def open_shell(
        self,
        container: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        user: str | None,
        workdir: str | None,
    ) -> ShellChannel:
        """See Runtime.open_shell."""
        marker = new_marker()
        body: dict[str, Any] = {
            "Cmd": list(argv),
            "AttachStdin": True,
            "AttachStdout": True,
            "AttachStderr": True,
            "Env": [f"{k}={v}" for k, v in env.items()] + [marker],
        }
        if workdir:
            body["WorkingDir"] = workdir
        user = self._users.resolve(container, user)
        if user:
            body["User"] = user
        subject = f"Container {container!r}"
        with _engine_errors(subject):
            exec_id = _check(
                self._api.post(f"/containers/{container}/exec", data=json.dumps(body))
            ).json()["Id"]
            sock, pending = self._hijack(f"exec/{exec_id}/start", {"Detach": False, "Tty": False})

        def inspect() -> Mapping[str, Any]:
            with _engine_errors(subject):
                return dict(_check(self._api.get(f"/exec/{exec_id}/json")).json())

        return SocketShell(
            sock,
            pending,
            inspect=inspect,
            kill=lambda: self._kill_marked(container, marker, user),
            release=sock.close,
        )

    def _hijack(self, path: str, body: Mapping[str, Any]) -> tuple[socket.socket, bytes]:
        """POSTs `path` on a connection of its own and returns it once upgraded to a raw stream.

        requests cannot hand over a connection it has upgraded, so this speaks the libpod
        API's small HTTP/1.1 upgrade itself, over the same socket the SDK uses.
        """
        url = self._api.base_url
        if url.scheme == "http+unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(60)
            sock.connect(urllib.parse.unquote(url.netloc))
        elif url.scheme == "http":
            host, _, port = url.netloc.rpartition(":")
            sock = socket.create_connection((host, int(port or 80)), timeout=60)
        else:
            raise EngineError(
                f"Sessions are not supported over a {url.scheme} Podman endpoint.",
                hint="Use a unix or tcp endpoint, or exec without session.",
            )
        payload = json.dumps(dict(body)).encode()
        head = (
            f"POST {urllib.parse.urljoin(self._api.path_prefix, path)} HTTP/1.1\r\n"
            "Host: d\r\nContent-Type: application/json\r\n"
            "Connection: Upgrade\r\nUpgrade: tcp\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        try:
            sock.sendall(head.encode() + payload)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            sock.close()
            raise
        header, _, rest = data.partition(b"\r\n\r\n")
        status = header.split(b" ", 2)[1:2]
        code = int(status[0]) if status and status[0].isdigit() else 0
        if code in (101, 200):
            return sock, rest
        sock.close()
        text = rest.decode("utf-8", "replace").strip()
        with contextlib.suppress(ValueError, AttributeError):
            text = str(json.loads(text).get("message") or text)
        if code == 404:
            raise NotFoundError(f"Podman: {text}", hint="Call list to see names.")
        if code == 409 or "state improper" in text:
            raise ConflictError(f"Podman: {text}", hint="Call status; start the container.")
        raise EngineError(
            f"Podman answered {code} to an exec start: {text}", hint="Call preflight."
        )

    def _kill_marked(self, container: str, marker: str, user: str | None) -> None:
        # As the command's own user (see streams.KILL_SCRIPT): root may lack CAP_KILL.
        body: dict[str, Any] = {"Cmd": kill_argv(marker), "AttachStdout": True}
        if user:
            body["User"] = user
        with _engine_errors(f"Container {container!r}"):
            exec_id = _check(
                self._api.post(f"/containers/{container}/exec", data=json.dumps(body))
            ).json()["Id"]
            _check(self._api.post(f"/exec/{exec_id}/start", data=json.dumps({"Detach": False})))

    def put_archive(self, container: str, dest: str, tar: Iterable[bytes] | bytes) -> None:
        """See Runtime.put_archive."""
        with _engine_errors(f"Path {dest!r} in container {container!r}"):
            # The Docker-compatible endpoint keeps each member's owner, as Docker does; the
            # libpod one chowns everything to the container's user (root under the keep-alive).
            _check(
                self._api.put(
                    f"/containers/{container}/archive",
                    params={"path": dest},
                    data=tar,  # type: ignore[arg-type]  # requests streams any iterable
                    compatible=True,
                )
            )

    def stat_path(self, container: str, path: str) -> PathStat | None:
        """See Runtime.stat_path."""
        with _engine_errors(f"Path {path!r} in container {container!r}"):
            response = self._api.head(f"/containers/{container}/archive", params={"path": path})
        if response.status_code == 404:  # a HEAD has no body: path or container
            return None
        with _engine_errors(f"Path {path!r} in container {container!r}"):
            _check(response)
        # Podman follows symlinks itself (isDir is the target's).
        decoded = path_stat(response.headers.get("x-docker-container-path-stat"))
        return decoded[0] if decoded else None

    def get_archive(self, container: str, src: str) -> Iterator[bytes]:
        """See Runtime.get_archive."""
        with _engine_errors(f"Path {src!r} in container {container!r}"):
            response = _check(
                self._api.get(f"/containers/{container}/archive", params={"path": src}, stream=True)
            )
        return iter(response.iter_content(chunk_size=256 * 1024))

    def build_image(
        self,
        context: Path,
        tag: str,
        labels: Mapping[str, str],
        on_line: Callable[[str], None] | None = None,
        nocache: bool = False,
    ) -> str:
        """See Runtime.build_image."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            tar.add(str(context), arcname=".")
        params = {
            "t": tag,
            "labels": json.dumps(dict(labels)),
            "rm": "true",
            "forcerm": "true",
            "layers": "false",  # one image per purpose; no labelled intermediates
            "pull": "false",
            "nocache": str(nocache).lower(),
        }
        tail: deque[str] = deque(maxlen=25)
        with _engine_errors(f"Image {tag!r}"):
            response = _check(
                self._api.post(
                    "/build",
                    params=params,
                    data=buf.getvalue(),
                    stream=True,
                    headers={"Content-Type": "application/x-tar"},
                )
            )
            for raw in response.iter_lines():
                if not raw:
                    continue
                chunk = json.loads(raw)
                if chunk.get("error"):
                    raise build_failed(tag, str(chunk["error"]), tail)
                text = plain(str(chunk.get("stream") or ""))
                if text.strip():
                    tail.append(text)
                    if on_line is not None:
                        on_line(text.rstrip())
            data = _check(self._api.get(f"/images/{tag}/json")).json()
        return str(data.get("Id", ""))

    def shell_command(
        self, container: str, *, user: str | None, workdir: str | None, shell: Sequence[str]
    ) -> list[str]:
        """See Runtime.shell_command."""
        argv = ["podman"]
        if not self._local_cli_matches():
            argv += ["--remote", "--url", self.endpoint]
        argv += ["exec", "-it"]
        if user:
            argv += ["--user", user]
        if workdir:
            argv += ["--workdir", workdir]
        return [*argv, container, *shell]

    def _local_cli_matches(self) -> bool:
        # A plain `podman` reaches the same storage when the socket is this user's own service.
        if self.endpoint == ROOTFUL_SOCKET:
            return os.geteuid() == 0
        runtime_dir = os.environ.get("XDG_RUNTIME_DIR", "")
        return bool(runtime_dir) and self.endpoint == f"unix://{runtime_dir}/podman/podman.sock"

    # --- networks (issue 5) ---

    def network_isolation(self) -> NetworkIsolation:
        """See Runtime.network_isolation."""
        if self._isolation is None:
            with _engine_errors("Podman"):
                data = _check(self._api.get("/info")).json()
            host = data.get("host") or {}
            self._isolation = isolation.podman(
                str((data.get("version") or {}).get("Version", "")),
                str(host.get("networkBackend", "")),
                str((host.get("networkBackendInfo") or {}).get("version", "")),
            )
        return self._isolation

    def create_network(self, name: str, labels: Mapping[str, str], internal: bool) -> NetworkInfo:
        """See Runtime.create_network."""
        body = {
            "name": name,
            "driver": "bridge",
            "labels": dict(labels),
            "internal": internal,
            "dns_enabled": True,
            # Docker isolates its bridges from each other by default; netavark only when asked.
            "options": dict(self.network_isolation().options),
        }
        subject = f"Network {name!r}"
        try:
            with _engine_errors(subject):
                _check(self._api.post("/networks/create", data=json.dumps(body)))
        except (ConflictError, EngineError) as exc:
            raise _network_conflict(subject, exc) from exc
        return self.inspect_network(name)

    def inspect_network(self, network: str) -> NetworkInfo:
        """See Runtime.inspect_network."""
        with _engine_errors(f"Network {network!r}"):
            data = _check(self._api.get(f"/networks/{network}/json")).json()
        rows = self._container_rows({"network": [str(data.get("name", network))]})
        attached: dict[str, str] = {}
        for row in rows or []:
            name = str((row.get("Names") or [""])[0])
            with contextlib.suppress(NotFoundError):
                attached[name] = self.container_addresses(name).get(str(data.get("name")), "")
        return _network(data, attached)

    def list_networks(self, labels: Mapping[str, str]) -> list[NetworkInfo]:
        """See Runtime.list_networks."""
        filters = json.dumps({"label": [f"{k}={v}" for k, v in labels.items()]})
        with _engine_errors("Podman"):
            rows = _check(self._api.get("/networks/json", params={"filters": filters})).json()
        return [_network(r) for r in rows or []]

    def remove_network(self, network: str) -> None:
        """See Runtime.remove_network."""
        subject = f"Network {network!r}"
        try:
            with contextlib.suppress(NotFoundError), _engine_errors(subject):
                _check(self._api.delete(f"/networks/{network}"))
        except (ConflictError, EngineError) as exc:
            raise _network_conflict(subject, exc) from exc

    def connect_network(self, network: str, container: str, aliases: Sequence[str]) -> None:
        """See Runtime.connect_network."""
        body = {"container": container, "aliases": list(aliases)}
        subject = f"Network {network!r}"
        try:
            with _engine_errors(subject):
                _check(self._api.post(f"/networks/{network}/connect", data=json.dumps(body)))
        except (ConflictError, EngineError) as exc:
            raise _network_conflict(subject, exc) from exc

    def disconnect_network(self, network: str, container: str) -> None:
        """See Runtime.disconnect_network."""
        body = {"Container": container}
        subject = f"Network {network!r}"
        try:
            with _engine_errors(subject):
                _check(self._api.post(f"/networks/{network}/disconnect", data=json.dumps(body)))
        except (ConflictError, EngineError) as exc:
            raise _network_conflict(subject, exc) from exc

    def container_addresses(self, container: str) -> dict[str, str]:
        """See Runtime.container_addresses."""
        with _engine_errors(f"Container {container!r}"):
            data = _check(self._api.get(f"/containers/{container}/json")).json()
        nets = (data.get("NetworkSettings") or {}).get("Networks") or {}
        return {str(k): str(v.get("IPAddress") or "") for k, v in nets.items()}

    def list_volumes(self, labels: Mapping[str, str]) -> list[VolumeInfo]:
        """See Runtime.list_volumes."""
        filters = json.dumps({"label": [f"{k}={v}" for k, v in labels.items()]})
        with _engine_errors("Podman"):
            rows = _check(self._api.get("/volumes/json", params={"filters": filters})).json()
        found = [
            VolumeInfo(str(r.get("Name", "")), dict(r.get("Labels") or {})) for r in rows or []
        ]
        # Podman 4.3 matches volumes carrying ANY of the labels (containers and networks: all).
        return [v for v in found if all(v.labels.get(k) == val for k, val in labels.items())]

    def remove_volume(self, volume: str) -> None:
        """See Runtime.remove_volume."""
        with contextlib.suppress(NotFoundError), _engine_errors(f"Volume {volume!r}"):
            _check(self._api.delete(f"/volumes/{volume}", params={"force": "true"}))
