"""Backend selection: explicit argument or setting, CONTAINERS_TOOL_RUNTIME, else discovery."""

from __future__ import annotations

from containers_tool.runtime.discovery import discover
from containers_tool.runtime.protocol import Runtime
from containers_tool.settings import Settings

__all__ = ["Runtime", "get_runtime"]


def get_runtime(settings: Settings) -> Runtime:
    """Connects to the engine the settings ask for (lazy imports keep the other SDK unloaded).

    Raises:
        RuntimeUnavailableError: No engine of the requested kind answers.
    """
    endpoint = discover(settings.runtime, settings.docker_host, settings.podman_host)
    if endpoint.engine == "docker":
        from containers_tool.runtime.docker.engine import DockerRuntime

        return DockerRuntime(endpoint.url)
    from containers_tool.runtime.podman.engine import PodmanRuntime

    return PodmanRuntime(endpoint.url)
