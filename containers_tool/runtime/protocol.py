"""The engine boundary: the core every backend implements.

What a backend may lack (images, commit, networks, volumes, interactive shells) is in
`containers_tool.runtime.capabilities`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Protocol, runtime_checkable

from containers_tool.runtime.types import (
    ContainerInfo,
    ContainerLogs,
    ContainerSpec,
    EngineInfo,
    ExecRequest,
    ExecResult,
    PathStat,
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
    """The required core of a backend: containers, exec and files.

    Methods raise only `containers_tool.errors` types.

    Attributes:
        name: The backend's name, as in BACKENDS and the `runtime` setting.
        remote: True when the engine runs on another machine (ssh://, tcp:// to another host):
            host paths mean nothing there, so nothing is bind-mounted from this machine.
    """

    name: str
    remote: bool

    def info(self) -> EngineInfo:
        """Returns the engine's version and endpoint.

        Raises:
            RuntimeUnavailableError: The engine does not answer.
        """
        ...

    def close(self) -> None:
        """Releases the connection; the runtime is unusable afterwards."""
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

    def rename_container(self, container: str, name: str) -> None:
        """Gives a container (running or not) a new name; hostname and labels stay.

        Raises:
            NotFoundError: No such container.
            ConflictError: Another container has that name.
        """
        ...

    def remove_container(self, container: str) -> None:
        """Kills and removes a container with its anonymous volumes; idempotent."""
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
