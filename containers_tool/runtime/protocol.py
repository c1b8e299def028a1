"""The engine boundary: the Runtime protocol every backend implements."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from containers_tool.runtime.types import (
    ContainerInfo,
    ContainerLogs,
    ContainerSpec,
    ContainerStats,
    EngineInfo,
    ExecRequest,
    ExecResult,
    ImageInfo,
    NetworkInfo,
    NetworkIsolation,
    PathStat,
    VolumeInfo,
)


class ShellChannel(Protocol):
    """An attached, non-tty exec kept open: write to its stdin, read frames.

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

    def pull_check(self, ref: str) -> str | None:
        """Asks the image's registry, through the engine and without pulling, if it answers.

        Returns:
            None when the registry answers (a pull can work), else why it cannot.
        """
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

    def rename_container(self, container: str, name: str) -> None:
        """Gives a container (running or not) a new name; hostname and labels stay.

        Raises:
            NotFoundError: No such container.
            ConflictError: Another container has that name.
        """
        ...

    # --- images and logs: service containers, snapshots ---

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
        """Starts `argv` with stdin attached and returns the open channel (for persistent shells).

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

        `is_link` tells whether `path` itself is a symlink, on every engine.

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

    # --- networks ---

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

    # --- resource usage (stats, run): a capability of its own, kept apart from the core ---

    def container_stats(
        self, container: str, *, peak: bool = False, cpu_window_s: float = 0.0
    ) -> ContainerStats:
        """Returns one sample of a running container's counters (never a stream).

        Args:
            container: The container.
            peak: Also read the most memory it ever used (may cost an exec on some engines).
            cpu_window_s: When > 0, also measure CPU % over about that many seconds, the
                cheapest way the engine allows (the call then takes about that long).

        Raises:
            NotFoundError: No such container.
            ConflictError: The container is not running.
        """
        ...
