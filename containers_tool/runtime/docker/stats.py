"""DockerRuntime's resource counters: the container's own cgroup, else the stats endpoint."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from containers_tool.errors import ConflictError, EngineError
from containers_tool.runtime import cgroup
from containers_tool.runtime.docker.errors import _engine_errors
from containers_tool.runtime.docker.exec import DockerExec
from containers_tool.runtime.stats import (
    PEAK_REQUEST,
    docker_cpu_percent,
    docker_stats,
    parse_peak,
)
from containers_tool.runtime.types import ContainerStats


class DockerStats(DockerExec):
    """Stats read inside the container, in one exec; a mixin of DockerRuntime.

    Docker answers a stats request only on its collector's one-second tick (the second of two
    samples, for CPU %, a tick later), so a sample of the container's own cgroup and /proc
    (runtime/cgroup.py) is the fast path: it takes the CPU window and little more. Where that
    exec cannot run (no /bin/sh in the image, a paused container) or prints nothing readable,
    the stats endpoint answers instead, on its own time.
    """

    def container_stats(
        self, container: str, *, peak: bool = False, cpu_window_s: float = 0.0
    ) -> ContainerStats:
        """See Runtime.container_stats."""
        subject = f"Container {container!r}"
        with _engine_errors(subject):
            data: dict[str, Any] = self._api.inspect_container(container)
        state = data.get("State") or {}
        if not state.get("Running"):  # a paused container is still Running on Docker
            raise ConflictError(f"{subject} is not running.", hint="Call status to see its state.")
        host = data.get("HostConfig") or {}
        paused = bool(state.get("Paused"))
        found = None if paused else self._cgroup_stats(container, cpu_window_s, host)
        if found is None:
            found = self._endpoint_stats(container, peak, cpu_window_s, paused)
        if host.get("NetworkMode") == "host":
            # Inside, /proc/net/dev is the host's; the endpoint reports no networks for it.
            found = replace(found, net_rx_bytes=0, net_tx_bytes=0)
        return found

    def _cgroup_stats(
        self, container: str, window_s: float, host: dict[str, Any]
    ) -> ContainerStats | None:
        """The sample from inside; None when the exec cannot run or its output is unreadable."""
        try:
            result = self.exec_command(container, cgroup.stats_request(window_s))
        except (ConflictError, EngineError):  # paused or stopped since the inspect
            return None
        return cgroup.parse_stats(result.stdout.text, window_s, int(host.get("Memory") or 0))

    def _endpoint_stats(
        self, container: str, peak: bool, window_s: float, paused: bool
    ) -> ContainerStats:
        """The stats endpoint's sample, with CPU % between its two samples when one is asked.

        A paused container's processes are frozen: its CPU % is 0 without waiting a tick.
        """
        measure = window_s > 0 and not paused
        with _engine_errors(f"Container {container!r}"):
            # one-shot skips the second sample (precpu), a tick later, when no CPU % is asked.
            data: dict[str, Any] = self._api.stats(container, stream=False, one_shot=not measure)
        found = docker_stats(data)
        if measure:
            found = replace(found, cpu_percent=docker_cpu_percent(data))
        elif window_s > 0:
            found = replace(found, cpu_percent=0.0)
        if peak and found.memory_peak_bytes is None and not paused:  # cgroup v2: no max_usage
            try:
                text = self.exec_command(container, PEAK_REQUEST).stdout.text
            except (ConflictError, EngineError):
                text = ""
            found = replace(found, memory_peak_bytes=parse_peak(text))
        return found
