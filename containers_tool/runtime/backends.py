"""The backends: a registry by name, filled by the built-ins and the `containers_tool.runtimes`
entry points, and the selection of one from the settings.

A backend is a factory `(Settings) -> Runtime`, given as `module:attribute` and imported only
when it is chosen, so the SDK of an engine not in use is never loaded. A package adds one with

    [project.entry-points."containers_tool.runtimes"]
    k8s = "containers_tool_k8s:connect"

The runtime it returns implements `protocol.Runtime` and whichever optional capabilities
(`capabilities.Images`, `Networks`, ...) it can; operations needing one it lacks are refused.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, cast

from containers_tool.errors import InvalidInputError
from containers_tool.runtime.discovery import discover
from containers_tool.runtime.protocol import Runtime

if TYPE_CHECKING:
    from containers_tool.settings import Settings

__all__ = ["BACKENDS", "ENTRY_POINT_GROUP", "Backend", "Runtime", "backends", "get_runtime"]

ENTRY_POINT_GROUP = "containers_tool.runtimes"
#: What `runtime: auto` means: the first of these whose endpoint answers.
AUTO = "auto"
DISCOVERED = ("docker", "podman")


@dataclass(frozen=True, slots=True)
class Backend:
    """A backend by name: where its factory lives, imported on first use."""

    name: str
    target: str  # "module:attribute", a callable (Settings) -> Runtime
    origin: str = "built-in"

    def load(self) -> Callable[[Settings], Runtime]:
        """Imports the factory.

        Raises:
            InvalidInputError: The target does not import (a broken plugin).
        """
        module, _, attr = self.target.partition(":")
        try:
            factory = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise InvalidInputError(
                f"Backend {self.name!r} ({self.target}) does not load: {exc}.",
                hint="Reinstall the package that provides it, or choose another runtime.",
                field="runtime",
            ) from exc
        return cast("Callable[[Settings], Runtime]", factory)


BUILT_IN: Mapping[str, Backend] = {
    "docker": Backend("docker", "containers_tool.runtime.docker.connect:connect"),
    "podman": Backend("podman", "containers_tool.runtime.podman.connect:connect"),
}


@functools.cache
def backends() -> Mapping[str, Backend]:
    """Returns every backend: the built-ins, then entry points (which cannot replace them)."""
    found = dict(BUILT_IN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, Backend(ep.name, ep.value, ep.dist.name if ep.dist else "?"))
    return found


class _Registry(Mapping[str, Backend]):
    """BACKENDS: a live view of `backends()` (entry points are read on first use)."""

    def __getitem__(self, name: str) -> Backend:
        return backends()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(backends())

    def __len__(self) -> int:
        return len(backends())


BACKENDS: Mapping[str, Backend] = _Registry()


def runtime_choices() -> list[str]:
    """Returns what the `runtime` setting accepts: "auto" and every backend's name."""
    return [AUTO, *backends()]


def get_runtime(settings: Settings) -> Runtime:
    """Connects to the backend the settings name; "auto" finds Docker or Podman.

    Raises:
        RuntimeUnavailableError: No engine of the requested kind answers.
        InvalidInputError: The backend does not load.
    """
    name = settings.runtime
    if name == AUTO:
        name = discover(AUTO, settings.docker_host, settings.podman_host).engine
    return BACKENDS[name].load()(settings)
