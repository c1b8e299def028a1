"""DockerRuntime: the Docker Engine through the `docker` SDK.

With errors, exec and networks beside it, the only modules importing docker.
"""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

import docker
import docker.errors
import docker.tls
import requests.exceptions

from containers_tool.errors import (
    NotFoundError,
)
from containers_tool.runtime.discovery import is_remote
from containers_tool.runtime.docker.errors import _engine_errors
from containers_tool.runtime.docker.images import DockerImages
from containers_tool.runtime.docker.networks import DockerNetworks
from containers_tool.runtime.docker.stats import DockerStats
from containers_tool.runtime.inspect import container_info, path_stat, summary_info
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
    PathStat,
)
from containers_tool.runtime.users import ExecUsers, exec_user_labels

DEFAULT_SOCKET = "unix:///var/run/docker.sock"


class DockerRuntime(DockerImages, DockerStats, DockerNetworks):
    """Docker Engine over its REST API.

    Args:
        endpoint: A base URL such as `unix:///var/run/docker.sock`.
        tls: Mutual TLS for a tcp:// endpoint.
        via: The ssh tunnel that reaches an ssh:// endpoint (closed with the runtime).
    """

    name = "docker"

    def __init__(
        self,
        endpoint: str = DEFAULT_SOCKET,
        *,
        tls: docker.tls.TLSConfig | None = None,
        via: SshTunnel | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.remote = is_remote(endpoint)
        self._tunnel = via
        with _engine_errors("Docker"):
            self._api = docker.APIClient(
                base_url=via.url if via else endpoint, version="1.41", timeout=60, tls=tls or False
            )
        if tls is not None or via is not None or not self.remote:
            # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE beat the session's own CA:
            # the engine's CA must be the one its certificate is checked against. An engine
            # on this machine (or a tunnel to one) needs no proxy either, and looking for one
            # scans the environment on every request.
            self._api.trust_env = False
        self._users = ExecUsers(self._labels_of)

    def _labels_of(self, container: str) -> tuple[str, Mapping[str, str]]:
        with _engine_errors(f"Container {container!r}"):
            data = self._api.inspect_container(container)
        return str(data.get("Id", "")), dict((data.get("Config") or {}).get("Labels") or {})

    def info(self) -> EngineInfo:
        """See Runtime.info."""
        with _engine_errors("Docker"):
            ver = self._api.version()
            sysinfo = self._api.info()
        rootless = any("rootless" in str(o) for o in sysinfo.get("SecurityOptions") or [])
        return EngineInfo(
            name=self.name,
            version=str(ver.get("Version", "")),
            api_version=str(ver.get("ApiVersion", "")),
            endpoint=self.endpoint,
            rootless=rootless,
            os=str(sysinfo.get("OperatingSystem", "")),
            cgroup_version=str(sysinfo.get("CgroupVersion", "")),
            cpus=int(sysinfo.get("NCPU") or 0),
            storage_root=str(sysinfo.get("DockerRootDir") or ""),
            memory_bytes=int(sysinfo.get("MemTotal") or 0),
        )

    def close(self) -> None:
        """See Runtime.close."""
        self._api.close()
        if self._tunnel is not None:
            self._tunnel.close()

    def image_exists(self, ref: str) -> bool:
        """See Runtime.image_exists."""
        try:
            with _engine_errors(f"Image {ref!r}"):
                self._api.inspect_image(ref)  # type: ignore[no-untyped-call]
        except NotFoundError:
            return False
        return True

    def pull_check(self, ref: str) -> str | None:
        """See Runtime.pull_check."""
        try:
            self._api.inspect_distribution(ref)  # type: ignore[no-untyped-call]
        except docker.errors.APIError as exc:
            return str(exc.explanation or exc)
        except docker.errors.DockerException as exc:
            return str(exc)
        return None

    def pull_image(self, ref: str) -> None:
        """See Runtime.pull_image."""
        repo, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "latest")
        with _engine_errors(f"Image {ref!r}"):
            try:
                self._api.pull(repo, tag=tag)
            except docker.errors.APIError as exc:
                raise NotFoundError(
                    f"Image {ref!r} could not be pulled: {exc.explanation or exc}",
                    hint="Check the name, or point the tool at a mirror or a local image "
                    "(settings image_prefix / image_overrides).",
                    field="image",
                ) from exc

    def create_container(self, spec: ContainerSpec) -> str:
        """See Runtime.create_container."""
        port_bindings: dict[int | str, Any] = {
            f"{p.container_port}/{p.protocol}": (p.host_ip, p.host_port or "") for p in spec.ports
        }
        host_config = self._api.create_host_config(
            mem_limit=spec.memory_bytes,
            memswap_limit=spec.memory_bytes,
            nano_cpus=spec.nano_cpus,
            pids_limit=spec.pids_limit,
            init=spec.init,
            privileged=spec.privileged,
            security_opt=["no-new-privileges"] if spec.no_new_privileges else None,
            binds=[f"{m.source}:{m.target}:{'ro' if m.read_only else 'rw'}" for m in spec.mounts],
            port_bindings=port_bindings or None,
            network_mode=spec.network,
            tmpfs=dict(spec.tmpfs) or None,
            auto_remove=spec.auto_remove,
        )
        with _engine_errors(f"Container {spec.name!r}"):
            created = self._api.create_container(
                spec.image,
                command=list(spec.command) if spec.command is not None else None,
                # [""] is how the docker CLI clears an image's ENTRYPOINT (--entrypoint "").
                entrypoint=None if spec.entrypoint is None else list(spec.entrypoint) or [""],
                name=spec.name,
                environment=dict(spec.env),
                labels=exec_user_labels(spec),
                working_dir=spec.workdir,
                user=spec.user,
                hostname=spec.hostname,
                ports=[(p.container_port, p.protocol) for p in spec.ports] or None,
                host_config=host_config,
            )
        self._users.remember(str(created["Id"]), spec.exec_user)
        return str(created["Id"])

    def start_container(self, container: str) -> None:
        """See Runtime.start_container."""
        with _engine_errors(f"Container {container!r}"):
            self._api.start(container)

    def inspect_container(self, container: str) -> ContainerInfo:
        """See Runtime.inspect_container."""
        with _engine_errors(f"Container {container!r}"):
            data = self._api.inspect_container(container)
        return container_info(data)

    def list_containers(self, labels: Mapping[str, str]) -> list[ContainerInfo]:
        """See Runtime.list_containers."""
        filters = {"label": [f"{k}={v}" for k, v in labels.items()]}
        with _engine_errors("Docker"):
            rows = self._api.containers(all=True, filters=filters)
        return [summary_info(r) for r in rows]

    def remove_container(self, container: str) -> None:
        """See Runtime.remove_container."""
        with contextlib.suppress(NotFoundError), _engine_errors(f"Container {container!r}"):
            self._users.forget(container)
            self._api.remove_container(container, v=True, force=True)

    def rename_container(self, container: str, name: str) -> None:
        """See Runtime.rename_container."""
        with _engine_errors(f"Container {container!r}"):
            self._api.rename(container, name)

    # --- images and logs: service containers, snapshots ---

    def container_logs(
        self, container: str, *, tail: int | None, since_s: float | None, limit: int
    ) -> ContainerLogs:
        """See Runtime.container_logs."""
        ctr = urllib.parse.quote(container, safe="")
        # Not the SDK's logs(): it reads both streams as one (or one per call, each with its
        # own tail), and without stream=True it holds the whole log in memory.
        url = f"{self._api.base_url}/v{self._api.api_version}/containers/{ctr}/logs"
        with _engine_errors(f"Container {container!r}"):
            response = self._api.get(url, params=log_params(tail, since_s), stream=True)
            try:
                try:
                    response.raise_for_status()
                except requests.exceptions.HTTPError as exc:
                    docker.errors.create_api_error_from_http_exception(exc)
                return read_logs(read_frames(response.raw.read), limit)
            finally:
                response.close()

    def put_archive(self, container: str, dest: str, tar: Iterable[bytes] | bytes) -> None:
        """See Runtime.put_archive."""
        with _engine_errors(f"Path {dest!r} in container {container!r}"):
            self._api.put_archive(container, dest, tar)

    def stat_path(self, container: str, path: str) -> PathStat | None:
        """See Runtime.stat_path."""
        subject = f"Path {path!r} in container {container!r}"
        ctr = urllib.parse.quote(container, safe="")
        linked = False
        for _ in range(2):  # Docker does not follow a symlink: stat its target once
            with _engine_errors(subject):
                # The SDK has no HEAD for this endpoint; it is the same session and base URL.
                url = f"{self._api.base_url}/v{self._api.api_version}/containers/{ctr}/archive"
                response = self._api.head(url, params={"path": path})
                if response.status_code == 404:  # a HEAD has no body: path or container
                    return None
                try:
                    response.raise_for_status()
                except requests.exceptions.HTTPError as exc:
                    docker.errors.create_api_error_from_http_exception(exc)
            decoded = path_stat(response.headers.get("x-docker-container-path-stat"))
            if decoded is None or not decoded[1]:
                if decoded is None:
                    return None
                return replace(decoded[0], is_link=linked or decoded[0].is_link)
            linked = True
            path = decoded[1]
        return None

    def get_archive(self, container: str, src: str) -> Iterator[bytes]:
        """See Runtime.get_archive."""
        with _engine_errors(f"Path {src!r} in container {container!r}"):
            stream, _stat = self._api.get_archive(container, src, chunk_size=256 * 1024)
        return iter(stream)

    def shell_command(
        self, container: str, *, user: str | None, workdir: str | None, shell: Sequence[str]
    ) -> list[str]:
        """See Runtime.shell_command."""
        argv = ["docker"]
        if self.endpoint not in (DEFAULT_SOCKET, "unix://var/run/docker.sock"):
            argv += ["-H", self.endpoint]
        argv += ["exec", "-it"]
        if user:
            argv += ["-u", user]
        if workdir:
            argv += ["-w", workdir]
        return [*argv, container, *shell]

    # --- networks ---
