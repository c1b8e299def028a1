"""DockerRuntime: the Docker Engine through the `docker` SDK.

With errors, exec and networks beside it, the only modules importing docker.
"""

from __future__ import annotations

import contextlib
import urllib.parse
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests.exceptions

from containers_tool.errors import (
    NotFoundError,
)
from containers_tool.runtime.commit import config_changes, final_env_labels
from containers_tool.runtime.docker.errors import _engine_errors
from containers_tool.runtime.docker.networks import DockerNetworks
from containers_tool.runtime.docker.stats import DockerStats
from containers_tool.runtime.inspect import container_info, path_stat, summary_info
from containers_tool.runtime.streams import (
    build_failed,
    log_params,
    plain,
    read_frames,
    read_logs,
)
from containers_tool.runtime.types import (
    BUILD_SILENCE_S,
    ContainerInfo,
    ContainerLogs,
    ContainerSpec,
    EngineInfo,
    ImageInfo,
    PathStat,
)
from containers_tool.runtime.users import ExecUsers, exec_user_labels

DEFAULT_SOCKET = "unix:///var/run/docker.sock"


class DockerRuntime(DockerStats, DockerNetworks):
    """Docker Engine over its REST API.

    Args:
        endpoint: A base URL such as `unix:///var/run/docker.sock`.
    """

    name = "docker"

    def __init__(self, endpoint: str = DEFAULT_SOCKET) -> None:
        self.endpoint = endpoint
        with _engine_errors("Docker"):
            self._api = docker.APIClient(base_url=endpoint, version="1.41", timeout=60)
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

    def inspect_image(self, ref: str) -> ImageInfo:
        """See Runtime.inspect_image."""
        with _engine_errors(f"Image {ref!r}"):
            data = self._api.inspect_image(ref)  # type: ignore[no-untyped-call]
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
        filters = {"label": [f"{k}={v}" for k, v in labels.items()]}
        with _engine_errors("Docker"):
            rows = self._api.images(filters=filters)
        return [
            ImageInfo(
                id=str(r.get("Id", "")),
                tags=[t for t in r.get("RepoTags") or [] if t != "<none>:<none>"],
                labels=dict(r.get("Labels") or {}),
                size=int(r.get("Size") or 0),
                created=str(r.get("Created") or ""),
            )
            for r in rows or []
        ]

    def tag_image(self, ref: str, new_ref: str) -> None:
        """See Runtime.tag_image."""
        repo, _, tag = new_ref.rpartition(":")
        with _engine_errors(f"Image {ref!r}"):
            self._api.tag(ref, repo, tag, force=True)

    def remove_image(self, ref: str) -> None:
        """See Runtime.remove_image."""
        with _engine_errors(f"Image {ref!r}"):
            self._api.remove_image(ref)

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
        repo, _, tag = ref.rpartition(":")
        with _engine_errors(f"Container {container!r}"):
            # Not /commit: Docker copies the container's config, env values and labels
            # included, into the image. Export and import leave no such copy.
            config = self._api.inspect_container(container).get("Config") or {}
            entrypoint = config.get("Entrypoint")
            # A Docker change cannot hold a newline: env values and labels are set on a
            # container of the imported image instead, and that container is committed.
            changes = config_changes(
                config, entrypoint, labels, env, command, drop_labels, env_and_labels=False
            )
            envs, all_labels = final_env_labels(config, labels, env, drop_labels)
            self._api.pause(container)
            try:
                tar = self._api.export(container, chunk_size=1024 * 1024)
                self._api.import_image(
                    src=tar, repository=repo, tag=tag, changes=changes, stream_src=True
                )
            finally:
                self._api.unpause(container)
            bare = self._api.inspect_image(ref)["Id"]  # type: ignore[no-untyped-call]
            holder = self._api.create_container(
                ref, environment=[f"{k}={v}" for k, v in envs.items()], labels=all_labels
            )["Id"]
            try:
                self._api.commit(holder, repository=repo, tag=tag)
            finally:
                self._api.remove_container(holder, force=True)
            with contextlib.suppress(docker.errors.APIError):
                self._api.remove_image(bare)  # the untagged import, made just above
            created = self._api.inspect_image(ref)  # type: ignore[no-untyped-call]
        return str(created["Id"])

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

    def build_image(
        self,
        context: Path,
        tag: str,
        labels: Mapping[str, str],
        on_line: Callable[[str], None] | None = None,
        nocache: bool = False,
    ) -> str:
        """See Runtime.build_image."""
        tail: deque[str] = deque(maxlen=25)
        with _engine_errors(f"Image {tag!r}"):
            for chunk in self._api.build(
                path=str(context),
                tag=tag,
                labels=dict(labels),
                rm=True,
                forcerm=True,
                decode=True,
                pull=False,
                nocache=nocache,
                timeout=int(BUILD_SILENCE_S),
            ):
                if "error" in chunk:
                    raise build_failed(tag, str(chunk["error"]), tail)
                text = plain(str(chunk.get("stream") or chunk.get("status") or ""))
                if text.strip():
                    tail.append(text)
                    if on_line is not None:
                        on_line(text.rstrip())
            return str(self._api.inspect_image(tag)["Id"])  # type: ignore[no-untyped-call]

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
