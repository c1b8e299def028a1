"""PodmanRuntime: Podman through the `podman` SDK (libpod REST).

With errors, exec and networks beside it, the only modules importing podman.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import podman
import podman.errors

from containers_tool.errors import (
    NotFoundError,
)
from containers_tool.runtime.discovery import is_remote
from containers_tool.runtime.inspect import container_info, path_stat, summary_info
from containers_tool.runtime.podman.errors import _check, _engine_errors, _explain
from containers_tool.runtime.podman.images import PodmanImages
from containers_tool.runtime.podman.networks import PodmanNetworks, parse_info
from containers_tool.runtime.podman.stats import PodmanStats
from containers_tool.runtime.streams import (
    log_params,
    read_frames,
    read_logs,
)
from containers_tool.runtime.tunnel import SshTunnel
from containers_tool.runtime.types import (
    ContainerInfo,
    ContainerLogs,
    ContainerSpec,
    EngineInfo,
    NetworkIsolation,
    PathStat,
)
from containers_tool.runtime.users import ExecUsers, exec_user_labels

ROOTFUL_SOCKET = "unix:///run/podman/podman.sock"


class PodmanRuntime(PodmanImages, PodmanStats, PodmanNetworks):
    """Podman over its libpod REST API.

    Args:
        endpoint: A base URL such as `unix:///run/podman/podman.sock`.
        via: The ssh tunnel that reaches an ssh:// endpoint (closed with the runtime).
    """

    name = "podman"
    #: A missing WorkingDir is made at every start, at ~45 ms (core/create_options.py).
    slow_missing_workdir = True

    def __init__(self, endpoint: str = ROOTFUL_SOCKET, *, via: SshTunnel | None = None) -> None:
        self.endpoint = endpoint
        self.remote = is_remote(endpoint)
        self._tunnel = via
        with _engine_errors("Podman"):
            self._client = podman.PodmanClient(base_url=via.url if via else endpoint, timeout=60)
        self._api = self._client.api
        if via is not None or not self.remote:
            self._api.trust_env = False  # no proxy to this machine: skip the environment scan
        self._isolation: NetworkIsolation | None = None
        self._info: dict[str, Any] | None = None
        self._users = ExecUsers(self._labels_of)

    def _labels_of(self, container: str) -> tuple[str, Mapping[str, str]]:
        with _engine_errors(f"Container {container!r}"):
            data = _check(self._api.get(f"/containers/{container}/json")).json()
        return str(data.get("Id", "")), dict((data.get("Config") or {}).get("Labels") or {})

    def info(self) -> EngineInfo:
        """See Runtime.info (asks every time: preflight uses it to see the engine answers)."""
        with _engine_errors("Podman"):
            data = self._info = dict(_check(self._api.get("/info")).json())
        return parse_info(data, self.endpoint)

    def close(self) -> None:
        """See Runtime.close."""
        self._client.close()  # type: ignore[no-untyped-call]
        if self._tunnel is not None:
            self._tunnel.close()

    def image_exists(self, ref: str) -> bool:
        """See Runtime.image_exists."""
        with _engine_errors(f"Image {ref!r}"):
            return bool(self._api.get(f"/images/{ref}/exists").status_code == 204)

    def pull_check(self, ref: str) -> str | None:
        """See Runtime.pull_check."""
        # Podman has no distribution endpoint: a search of the image's own repository makes
        # the engine reach that registry (with its proxy, mirrors and credentials).
        last = _qualified(ref).rsplit("/", 1)
        repo = "/".join([*last[:-1], last[-1].split("@")[0].split(":")[0]])
        try:
            response = self._api.get("/images/search", params={"term": repo, "limit": 1})
        except (podman.errors.APIError, OSError) as exc:
            return str(exc)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                return f"HTTP {response.status_code}"
            return str(body.get("cause") or body.get("message") or response.status_code)
        return None

    def pull_image(self, ref: str) -> None:
        """See Runtime.pull_image."""
        qualified = _qualified(ref)
        with _engine_errors(f"Image {ref!r}"):
            try:
                self._client.images.pull(qualified)
            except (podman.errors.APIError, podman.errors.ImageNotFound) as exc:
                raise NotFoundError(
                    f"Image {ref!r} could not be pulled: {_explain(exc)}",
                    hint=PULL_HINT,
                    field="image",
                ) from exc
        # podman-py reports a failed pull in the stream only: check it arrived, as Docker does.
        if not self.image_exists(qualified) and not self.image_exists(ref):
            reason = self.pull_check(ref) or "the registry has no such image"
            raise NotFoundError(
                f"Image {ref!r} could not be pulled: {reason}", hint=PULL_HINT, field="image"
            )

    def create_container(self, spec: ContainerSpec) -> str:
        """See Runtime.create_container."""
        body = _create_body(spec)
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

    def rename_container(self, container: str, name: str) -> None:
        """See Runtime.rename_container."""
        with _engine_errors(f"Container {container!r}"):
            _check(self._api.post(f"/containers/{container}/rename", params={"name": name}))

    # --- images and logs: service containers, snapshots ---

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

    # --- networks ---


PULL_HINT = (
    "Check the name, or point the tool at a mirror or a local image "
    "(settings image_prefix / image_overrides)."
)


def _qualified(ref: str) -> str:
    """A short reference as Docker means it (docker.io/library/...); Podman asks otherwise."""
    first = ref.split("/", 1)[0]
    if "/" not in ref:
        return f"docker.io/library/{ref}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{ref}"
    return ref


def _limits(spec: ContainerSpec) -> dict[str, Any]:
    limits: dict[str, Any] = {}
    if spec.memory_bytes:
        limits["memory"] = {"limit": spec.memory_bytes, "swap": spec.memory_bytes}
    if spec.nano_cpus:
        limits["cpu"] = {"quota": spec.nano_cpus // 10_000, "period": 100_000}
    if spec.pids_limit:
        limits["pids"] = {"limit": spec.pids_limit}
    return limits


def _create_body(spec: ContainerSpec) -> dict[str, Any]:
    """The libpod create request for a spec: limits, mounts and tmpfs, ports, namespaces."""
    body: dict[str, Any] = {
        "name": spec.name,
        "image": spec.image,
        "env": dict(spec.env),
        "labels": exec_user_labels(spec),
        "init": spec.init,
        "privileged": spec.privileged,
        "no_new_privileges": spec.no_new_privileges,
        "resource_limits": _limits(spec),
        "stop_timeout": 2,
        "remove": spec.auto_remove,
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
    return body
