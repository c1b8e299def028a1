"""Optional capabilities of a backend, each a protocol over the core `Runtime`.

A backend declares a capability by implementing its methods; `supports` tells whether it has
one and `require` refuses an operation, as `invalid_input`, when it does not.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Protocol, TypeVar, runtime_checkable

from containers_tool.errors import InvalidInputError
from containers_tool.runtime.protocol import Runtime, ShellChannel
from containers_tool.runtime.types import (
    ContainerStats,
    ImageInfo,
    NetworkInfo,
    NetworkIsolation,
    VolumeInfo,
)

C = TypeVar("C", bound=Runtime)


@runtime_checkable
class Images(Runtime, Protocol):
    """Local images: look up, pull, tag, remove and build."""

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


@runtime_checkable
class Commit(Images, Protocol):
    """Saving a container's filesystem as a local image (snapshots)."""

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


@runtime_checkable
class Networks(Runtime, Protocol):
    """User-defined networks with DNS between their containers."""

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


@runtime_checkable
class Volumes(Runtime, Protocol):
    """Named volumes (listed and removed; compose stacks make them)."""

    def list_volumes(self, labels: Mapping[str, str]) -> list[VolumeInfo]:
        """Lists named volumes carrying all of `labels`."""
        ...

    def remove_volume(self, volume: str) -> None:
        """Removes a named volume; idempotent."""
        ...


@runtime_checkable
class Shell(Runtime, Protocol):
    """Attached processes (persistent shells) and the command a human runs to get one."""

    def open_shell(
        self,
        container: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        user: str | None,
        workdir: str | None,
    ) -> ShellChannel:
        """Starts `argv` with stdin attached and returns the open channel.

        Raises:
            NotFoundError: No such container (or workdir).
            ConflictError: The container is not running.
        """
        ...

    def shell_command(
        self, container: str, *, user: str | None, workdir: str | None, shell: Sequence[str]
    ) -> list[str]:
        """Returns the argv a human runs to get `shell` interactively in the container."""
        ...


@runtime_checkable
class Stats(Runtime, Protocol):
    """Resource usage of running containers (stats, run)."""

    def container_stats(
        self, container: str, *, peak: bool = False, cpu_window_s: float = 0.0
    ) -> ContainerStats:
        """Returns one sample of a running (or paused) container's counters (never a stream).

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


@runtime_checkable
class Layers(Images, Protocol):
    """Deriving an image from another plus one archive, with nothing run (Docker).

    Not in CAPABILITIES: no operation needs it; create uses it to save a write per container.
    """

    def derive_image(self, base: str, tar: bytes, ref: str) -> str:
        """Saves `base` with `tar` extracted at / as image `ref`; returns the new image's id.

        The new image's config (command, env, labels, user, workdir) is `base`'s.

        Raises:
            NotFoundError: No such base image.
        """
        ...

    def derived_images(self, repository: str) -> list[ImageInfo]:
        """Returns the images tagged in `repository` (every tag of it), with created times."""
        ...


@runtime_checkable
class Engine(Commit, Networks, Volumes, Shell, Stats, Protocol):
    """A backend with every capability (Docker and Podman)."""


#: Every optional capability, by the name results and docs use.
CAPABILITIES: dict[str, type[Runtime]] = {
    "images": Images,
    "commit": Commit,
    "networks": Networks,
    "volumes": Volumes,
    "shell": Shell,
    "stats": Stats,
}


#: (backend class, capability) -> whether it has it. A runtime-checkable isinstance looks up
#: every method of the protocol each time; a backend's methods are its class's, fixed.
_HAS: dict[tuple[type, type], bool] = {}


def _has(runtime: Runtime, capability: type) -> bool:
    key = (type(runtime), capability)
    found = _HAS.get(key)
    if found is None:
        found = _HAS[key] = isinstance(runtime, capability)
    return found


def supports(runtime: Runtime, capability: type[C]) -> C | None:
    """Returns `runtime` typed as having `capability`, or None when it lacks it."""
    return runtime if _has(runtime, capability) else None  # type: ignore[return-value]


def require(runtime: Runtime, capability: type[C], operation: str) -> C:
    """Returns `runtime` typed as having `capability`, or refuses `operation`.

    Raises:
        InvalidInputError: The backend lacks the capability (field `operation`).
    """
    if _has(runtime, capability):
        return runtime  # type: ignore[return-value]
    kind = next((k for k, v in CAPABILITIES.items() if v is capability), capability.__name__)
    raise InvalidInputError(
        f"{operation} is not supported by this backend ({runtime.name} has no {kind}).",
        hint=f"Use a backend with {kind} (the runtime setting), or another operation.",
        field="operation",
    )


def capabilities_of(runtime: Runtime) -> list[str]:
    """Returns the names of the optional capabilities `runtime` has."""
    return [name for name, cap in CAPABILITIES.items() if isinstance(runtime, cap)]
