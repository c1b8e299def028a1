"""PodmanRuntime's resource counters: libpod's one-shot stats and the memory high-water mark."""

from __future__ import annotations

import time
from typing import Any

from containers_tool.errors import ConflictError, NotFoundError
from containers_tool.runtime.podman.errors import _check, _engine_errors
from containers_tool.runtime.podman.exec import PodmanExec
from containers_tool.runtime.stats import PEAK_REQUEST, parse_peak
from containers_tool.runtime.types import ContainerStats


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


class PodmanStats(PodmanExec):
    """Stats over libpod's stats endpoint; a mixin of PodmanRuntime (the peak needs an exec)."""

    def container_stats(
        self, container: str, *, peak: bool = False, cpu_window_s: float = 0.0
    ) -> ContainerStats:
        """See Runtime.container_stats."""
        row = self._stats_row(container)
        cpu = None
        if cpu_window_s:  # libpod answers at once: two readings, the window apart
            time.sleep(cpu_window_s)
            first, row = row, self._stats_row(container)
            wall = _int(row.get("SystemNano")) - _int(first.get("SystemNano"))
            used = _int(row.get("CPUNano")) - _int(first.get("CPUNano"))
            cpu = max(used / wall * 100, 0.0) if wall > 0 else None
        found = None
        if peak:  # libpod reports no high-water mark; the container's own cgroup has it
            found = parse_peak(self.exec_command(container, PEAK_REQUEST).stdout.text)
        return ContainerStats(
            cpu_ns=_int(row.get("CPUNano")),
            memory_used_bytes=_int(row.get("MemUsage")),
            memory_limit_bytes=_int(row.get("MemLimit")),
            memory_peak_bytes=found,
            net_rx_bytes=_int(row.get("NetInput")),
            net_tx_bytes=_int(row.get("NetOutput")),
            blk_read_bytes=_int(row.get("BlockInput")),
            blk_write_bytes=_int(row.get("BlockOutput")),
            pids=_int(row.get("PIDs")),
            cpu_percent=cpu,
        )

    def _stats_row(self, container: str) -> dict[str, Any]:
        subject = f"Container {container!r}"
        params = {"stream": "false", "containers": container}
        with _engine_errors(subject):
            body = _check(self._api.get("/containers/stats", params=params)).json()
        rows = body.get("Stats") or [] if isinstance(body, dict) else []
        if not rows:
            error = str((body or {}).get("Error") or "no stats") if isinstance(body, dict) else ""
            if "no such container" in error:
                raise NotFoundError(f"{subject} was not found.", hint="Call list.")
            raise ConflictError(f"{subject} has no stats: {error}", hint="Is it running?")
        return dict(rows[0])
