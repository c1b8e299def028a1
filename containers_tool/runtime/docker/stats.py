"""DockerRuntime's resource counters: one-shot stats and the memory high-water mark."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from containers_tool.errors import ToolError
from containers_tool.runtime.docker.errors import _engine_errors
from containers_tool.runtime.docker.exec import DockerExec
from containers_tool.runtime.stats import (
    PEAK_REQUEST,
    cpu_request,
    docker_stats,
    parse_cpu,
    parse_peak,
)
from containers_tool.runtime.types import ContainerStats


class DockerStats(DockerExec):
    """Stats over Docker's stats endpoint; a mixin of DockerRuntime.

    Docker answers a stats request only on its collector's one-second tick, so two requests
    for CPU % would take a second or two: the two CPU readings come from the container's own
    cgroup instead, in one exec beside the request.
    """

    def container_stats(
        self, container: str, *, peak: bool = False, cpu_window_s: float = 0.0
    ) -> ContainerStats:
        """See Runtime.container_stats."""
        with ThreadPoolExecutor(max_workers=1) as beside:
            cpu = (
                beside.submit(self._cpu_percent, container, cpu_window_s) if cpu_window_s else None
            )
            with _engine_errors(f"Container {container!r}"):
                # one-shot: without it Docker waits another tick for a second sample (precpu).
                data: dict[str, Any] = self._api.stats(container, stream=False, one_shot=True)
            stats = docker_stats(data)
            if cpu is not None:
                stats = replace(stats, cpu_percent=cpu.result())
        if peak and stats.memory_peak_bytes is None:  # cgroup v2: max_usage is not reported
            found = parse_peak(self.exec_command(container, PEAK_REQUEST).stdout.text)
            stats = replace(stats, memory_peak_bytes=found)
        return stats

    def _cpu_percent(self, container: str, window_s: float) -> float | None:
        try:
            return parse_cpu(
                self.exec_command(container, cpu_request(window_s)).stdout.text, window_s
            )
        except ToolError:
            return None
