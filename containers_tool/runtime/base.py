"""The engine boundary: the Runtime protocol and the engine-neutral values that cross it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from containers_tool.envelope import Bounded


@dataclass(frozen=True, slots=True)
class EngineInfo:
    """What an engine says of itself."""

    name: str
    version: str
    api_version: str
    endpoint: str
    rootless: bool
    os: str = ""
    cgroup_version: str = ""
    #: CPUs of the engine's host, the most a container's limit may ask for; 0 when unknown.
    cpus: int = 0


@dataclass(frozen=True, slots=True)
class MountSpec:
    """A host path bind-mounted into a container."""

    source: str
    target: str
    read_only: bool = False


@dataclass(frozen=True, slots=True)
class PortSpec:
    """A published port; `host_port=None` lets the engine choose one."""

    container_port: int
    host_port: int | None = None
    protocol: str = "tcp"
    host_ip: str = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class PortBinding:
    """A published port as the engine reports it."""

    container_port: int
    protocol: str
    host_ip: str
    host_port: int


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """Everything needed to create a container; policy has already been applied."""

    name: str
    image: str
    command: Sequence[str] | None
    labels: Mapping[str, str]
    #: None keeps the image's ENTRYPOINT; an empty sequence clears it, so `command` runs as is.
    entrypoint: Sequence[str] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    workdir: str | None = None
    user: str | None = None
    #: The default user of execs when it differs from the main process's `user` (see users.py).
    exec_user: str | None = None
    mounts: Sequence[MountSpec] = ()
    ports: Sequence[PortSpec] = ()
    network: str | None = None
    memory_bytes: int | None = None
    nano_cpus: int | None = None
    pids_limit: int | None = None
    init: bool = True
    privileged: bool = False
    no_new_privileges: bool = True
    #: tmpfs mounts: path -> mount options (e.g. "mode=1777"); never part of a commit/snapshot.
    tmpfs: Mapping[str, str] = field(default_factory=dict)
    hostname: str | None = None


@dataclass(frozen=True, slots=True)
class ContainerInfo:
    """A container as the engine reports it."""

    id: str
    name: str
    image: str
    state: str
    labels: Mapping[str, str]
    created: str = ""
    started_at: str = ""
    exit_code: int | None = None
    user: str = ""
    workdir: str = ""
    ports: Sequence[PortBinding] = ()
    mounts: Sequence[MountSpec] = ()
    networks: Sequence[str] = ()
    memory_bytes: int | None = None
    nano_cpus: int | None = None
    pids_limit: int | None = None
    privileged: bool = False
    env_names: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """An image as the engine reports it."""

    id: str
    tags: Sequence[str]
    labels: Mapping[str, str]
    size: int = 0
    created: str = ""
    #: The image config's environment (issue 4: snapshots strip values); empty in lists.
    env: Mapping[str, str] = field(default_factory=dict)
    #: The image config's WORKDIR ("" when unset or in lists).
    workdir: str = ""


@dataclass(frozen=True, slots=True)
class ContainerLogs:
    """A container's own output (its main command's), bounded per stream."""

    stdout: Bounded
    stderr: Bounded


@dataclass(frozen=True, slots=True)
class ExecRequest:
    """One command to run in a container. `argv` is never re-split by a shell."""

    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    workdir: str | None = None
    user: str | None = None
    timeout_s: float | None = None
    output_limit: int = 16_000


@dataclass(frozen=True, slots=True)
class ExecResult:
    """How a command ended. `exit_code=None` means unknown (e.g. killed on timeout), never 0."""

    exit_code: int | None
    stdout: Bounded
    stderr: Bounded
    timed_out: bool
    duration_ms: int
    #: The kill did not end the output stream, so this side closed it: a process of the
    #: command may still be running in the container.
    abandoned: bool = False


@dataclass(frozen=True, slots=True)
class NetworkInfo:
    """A network as the engine reports it; `containers` maps attached container names to IPs."""

    id: str
    name: str
    driver: str
    internal: bool
    labels: Mapping[str, str]
    containers: Mapping[str, str] = field(default_factory=dict)
    subnets: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class PathStat:
    """What the engine says about a path inside a container (symlinks followed)."""

    name: str
    is_dir: bool
    size: int


@dataclass(frozen=True, slots=True)
class NetworkIsolation:
    """How an engine keeps the tool's networks apart, and what still crosses (issue 5).

    Attributes:
        options: Driver options the adapter gives every bridge network it creates; compose
            networks of a stack get them too, so they are as isolated as the tool's own.
        default_isolated: Whether the engine's default network is cut off from the tool's
            networks; when not, containers that ask for no network join the tool's own default.
        others_reach_in: Whether containers on networks the tool did not make (the engine's
            default one included) can open connections into the tool's networks.
        internal_reaches_host: Whether a container on an internal network still reaches the
            host itself (at the network's gateway address).
        gap: "" when nothing crosses; else what does, and why.
        fix: What makes the gap go away.
    """

    options: Mapping[str, str]
    default_isolated: bool
    others_reach_in: bool = False
    internal_reaches_host: bool = False
    gap: str = ""
    fix: str = ""


@dataclass(frozen=True, slots=True)
class VolumeInfo:
    """A named volume as the engine reports it."""

    name: str
    labels: Mapping[str, str]


class ShellChannel(Protocol):
    """An attached, non-tty exec kept open (issue 4: sessions): write to its stdin, read frames.

    Methods raise only `containers_tool.errors` types, besides `EOFError` when the process ended.
    """

    def send(self, data: bytes) -> None:
        """Writes to the process's stdin.

        Raises:
            EOFError: The process ended or the connection closed.
        """
        ...

    def recv(self, timeout_s: float) -> tuple[int, bytes] | None:
        """Returns the next frame as (1 stdout | 2 stderr, bytes); None once timeout_s passed.

        Raises:
            EOFError: The process ended (its output is complete).
        """
        ...

    def exit_code(self) -> int | None:
        """Returns the exit code of a process that ended; None while it runs or if unknown."""
        ...

    def kill(self) -> None:
        """Kills the process and every process it started, inside the container."""
        ...

    def close(self) -> None:
        """Closes the connection (the process sees EOF on stdin); idempotent."""
        ...


@runtime_checkable
class Runtime(Protocol):
    """One container engine. Methods raise only `containers_tool.errors` types."""

    name: str

    def info(self) -> EngineInfo:
        """Returns the engine's version and endpoint.

        Raises:
            RuntimeUnavailableError: The engine does not answer.
        """
        ...

    def close(self) -> None:
        """Releases the connection; the runtime is unusable afterwards."""
        ...

    def image_exists(self, ref: str) -> bool:
        """Tells whether the image is present locally (never pulls)."""
        ...

    def pull_image(self, ref: str) -> None:
        """Pulls an image from its registry.

        Raises:
            NotFoundError: The registry has no such image or cannot be reached.
        """
        ...

    def create_container(self, spec: ContainerSpec) -> str:
        """Creates (does not start) a container and returns its id.

        Raises:
            ConflictError: The name is taken.
            NotFoundError: The image is missing.
        """
        ...

    def start_container(self, container: str) -> None:
        """Starts a created container.

        Raises:
            NotFoundError: No such container.
        """
        ...

    def inspect_container(self, container: str) -> ContainerInfo:
        """Returns the container's state.

        Raises:
            NotFoundError: No such container.
        """
        ...

    def list_containers(self, labels: Mapping[str, str]) -> list[ContainerInfo]:
        """Lists containers (running or not) carrying all of `labels`."""
        ...

    def remove_container(self, container: str) -> None:
        """Kills and removes a container with its anonymous volumes; idempotent."""
        ...

    # --- images, logs (issue 4: service containers, snapshots) ---

    def inspect_image(self, ref: str) -> ImageInfo:
        """Returns a local image with its config env (never pulls).

        Raises:
            NotFoundError: No such local image.
        """
        ...

    def list_images(self, labels: Mapping[str, str]) -> list[ImageInfo]:
        """Lists local images carrying all of `labels`."""
        ...

    def tag_image(self, ref: str, new_ref: str) -> None:
        """Gives a local image another reference (moved if another image had it).

        Raises:
            NotFoundError: No such image.
        """
        ...

    def remove_image(self, ref: str) -> None:
        """Removes a local image by reference (never forced); a reference of an image that
        has others only loses that tag.

        Raises:
            NotFoundError: No such image.
            ConflictError: A container still uses it.
        """
        ...

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
        """Saves a container's filesystem as image `ref` and returns the image id.

        Mounts (tmpfs, volumes, binds) are not part of it.

        Args:
            container: The container to commit (paused while it is copied).
            ref: `repository:tag` of the new image.
            labels: Labels added to the image.
            env: Variables whose value in the image config is replaced (e.g. blanked secrets).
            command: The image's new CMD; None keeps the container's.
            drop_labels: Container labels the image does not inherit.

        Raises:
            NotFoundError: No such container.
        """
        ...

    def container_logs(
        self, container: str, *, tail: int | None, since_s: float | None, limit: int
    ) -> ContainerLogs:
        """Returns the last `tail` lines of the merged output (of the last `since_s` seconds).

        Both streams are read in one request and kept as head and tail of `limit` bytes each,
        so a long log never sits in memory whole. `since_s=0` returns nothing.

        Raises:
            NotFoundError: No such container.
        """
        ...

    def exec_command(self, container: str, req: ExecRequest) -> ExecResult:
        """Runs a command and waits for it; on timeout kills it inside the container.

        A non-zero exit code is data, not an error.

        Raises:
            NotFoundError: No such container.
            ConflictError: The container is not running.
        """
        ...

    def open_shell(
        self,
        container: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        user: str | None,
        workdir: str | None,
    ) -> ShellChannel:
        """Starts `argv` with stdin attached and returns the open channel (issue 4: sessions).

        Raises:
            NotFoundError: No such container (or workdir).
            ConflictError: The container is not running.
        """
        ...

    def put_archive(self, container: str, dest: str, tar: Iterable[bytes] | bytes) -> None:
        """Extracts a tar stream into an existing directory of the container.

        Raises:
            NotFoundError: No such container or directory.
        """
        ...

    def stat_path(self, container: str, path: str) -> PathStat | None:
        """Returns what `path` is in the container (a symlink is followed), None when absent.

        Raises:
            NotFoundError: No such container (engines that can tell it from a missing path).
        """
        ...

    def get_archive(self, container: str, src: str) -> Iterator[bytes]:
        """Streams a tar archive of a path in the container.

        Raises:
            NotFoundError: No such container or path.
        """
        ...

    def build_image(
        self,
        context: Path,
        tag: str,
        labels: Mapping[str, str],
        on_line: Callable[[str], None] | None = None,
        nocache: bool = False,
    ) -> str:
        """Builds `context`/Dockerfile as `tag` and returns the image id; streams lines to on_line.

        Raises:
            BuildFailedError: A step failed (the message carries the engine's last lines).
        """
        ...

    def shell_command(
        self, container: str, *, user: str | None, workdir: str | None, shell: Sequence[str]
    ) -> list[str]:
        """Returns the argv a human runs to get `shell` interactively in the container."""
        ...

    # --- networks (issue 5) ---

    def create_network(self, name: str, labels: Mapping[str, str], internal: bool) -> NetworkInfo:
        """Creates a bridge network with DNS between its containers.

        Raises:
            ConflictError: A network of that name exists.
        """
        ...

    def network_isolation(self) -> NetworkIsolation:
        """Says how networks made by `create_network` are isolated, and what still crosses.

        Raises:
            RuntimeUnavailableError: The engine does not answer.
        """
        ...

    def inspect_network(self, network: str) -> NetworkInfo:
        """Returns a network with the containers attached to it.

        Raises:
            NotFoundError: No such network.
        """
        ...

    def list_networks(self, labels: Mapping[str, str]) -> list[NetworkInfo]:
        """Lists networks carrying all of `labels` (`containers` is left empty)."""
        ...

    def remove_network(self, network: str) -> None:
        """Removes a network; idempotent.

        Raises:
            ConflictError: Containers are still attached.
        """
        ...

    def connect_network(self, network: str, container: str, aliases: Sequence[str]) -> None:
        """Attaches a container to a network under extra DNS `aliases`.

        Raises:
            NotFoundError: No such network or container.
            ConflictError: Already attached.
        """
        ...

    def disconnect_network(self, network: str, container: str) -> None:
        """Detaches a container from a network.

        Raises:
            NotFoundError: No such network or container, or it is not attached.
        """
        ...

    def container_addresses(self, container: str) -> dict[str, str]:
        """Returns the container's IPv4 address on each network it is attached to.

        Raises:
            NotFoundError: No such container.
        """
        ...

    def list_volumes(self, labels: Mapping[str, str]) -> list[VolumeInfo]:
        """Lists named volumes carrying all of `labels`."""
        ...

    def remove_volume(self, volume: str) -> None:
        """Removes a named volume; idempotent."""
        ...
