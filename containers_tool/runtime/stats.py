"""Parses the Docker stats JSON (Docker's own endpoint, and Podman's compatible one)."""

from __future__ import annotations

from typing import Any

from containers_tool.runtime.types import ContainerStats, ExecRequest

#: Prints the container's memory high-water mark: cgroup v1, else v2's memory.peak (kernel 5.19+).
PEAK_SCRIPT = (
    "cat /sys/fs/cgroup/memory/memory.max_usage_in_bytes 2>/dev/null"
    " || cat /sys/fs/cgroup/memory.peak 2>/dev/null"
)
PEAK_REQUEST = ExecRequest(argv=["/bin/sh", "-c", PEAK_SCRIPT], user="0:0", timeout_s=10)


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _blkio(data: dict[str, Any]) -> tuple[int, int]:
    read = write = 0
    for row in (data.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []:
        op = str(row.get("op", "")).lower()
        if op == "read":
            read += _int(row.get("value"))
        elif op == "write":
            write += _int(row.get("value"))
    return read, write


def docker_stats(data: dict[str, Any]) -> ContainerStats:
    """Builds a ContainerStats from one `GET /containers/{id}/stats?stream=false` answer.

    Memory in use leaves out inactive page cache, as `docker stats` does; the peak is cgroup
    v1's max_usage (absent on v2, where the caller reads memory.peak itself).
    """
    memory = data.get("memory_stats") or {}
    detail = memory.get("stats") or {}
    cache = _int(detail.get("total_inactive_file", detail.get("inactive_file")))
    usage = _int(memory.get("usage"))
    nets = (data.get("networks") or {}).values()
    read, write = _blkio(data)
    peak = memory.get("max_usage")
    return ContainerStats(
        cpu_ns=_int(((data.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage")),
        memory_used_bytes=max(usage - cache, 0),
        memory_limit_bytes=_int(memory.get("limit")),
        memory_peak_bytes=_int(peak) if peak else None,
        net_rx_bytes=sum(_int(n.get("rx_bytes")) for n in nets),
        net_tx_bytes=sum(_int(n.get("tx_bytes")) for n in nets),
        blk_read_bytes=read,
        blk_write_bytes=write,
        pids=_int((data.get("pids_stats") or {}).get("current")),
    )


def docker_cpu_percent(data: dict[str, Any]) -> float | None:
    """CPU % (100 = one CPU) between a stats answer's two samples, as `docker stats` shows it.

    Only an answer without one-shot has them (precpu_stats is the sample a tick before);
    None when either is missing.
    """
    now, before = data.get("cpu_stats") or {}, data.get("precpu_stats") or {}
    used = _int((now.get("cpu_usage") or {}).get("total_usage")) - _int(
        (before.get("cpu_usage") or {}).get("total_usage")
    )
    system = _int(now.get("system_cpu_usage")) - _int(before.get("system_cpu_usage"))
    cpus = _int(now.get("online_cpus")) or len(
        (now.get("cpu_usage") or {}).get("percpu_usage") or []
    )
    if not before.get("system_cpu_usage") or system <= 0 or not cpus:
        return None
    return max(used / system * cpus * 100, 0.0)


def parse_peak(text: str) -> int | None:
    """Reads the number PEAK_SCRIPT printed; None when the container's cgroup told nothing."""
    first = text.strip().split("\n", 1)[0].strip()
    return int(first) if first.isdigit() else None
