"""DockerRuntime's resource counters: one-shot stats and the memory high-water mark."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from containers_tool.runtime.docker.errors import _engine_errors
from containers_tool.runtime.docker.exec import DockerExec
from containers_tool.runtime.stats import PEAK_REQUEST, docker_stats, parse_peak
from containers_tool.runtime.types import ContainerStats


class DockerStats(DockerExec):
    """Stats over Docker's stats endpoint; a mixin of DockerRuntime (the peak may need an exec)."""

    def container_stats(self, container: str, *, peak: bool = False) -> ContainerStats:
        """See Runtime.container_stats."""
        with _engine_errors(f"Container {container!r}"):
            # one-shot: without it Docker waits a second for a second sample (for precpu).
            data: dict[str, Any] = self._api.stats(container, stream=False, one_shot=True)
        stats = docker_stats(data)
        if peak and stats.memory_peak_bytes is None:  # cgroup v2: max_usage is not reported
            found = parse_peak(self.exec_command(container, PEAK_REQUEST).stdout.text)
            stats = replace(stats, memory_peak_bytes=found)
        return stats
