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

#: Prints the cgroup's CPU time (ns) twice, $1 seconds apart, each with the uptime (v1, v2).
CPU_SCRIPT = """
r() { cat /sys/fs/cgroup/cpuacct/cpuacct.usage 2>/dev/null \\
  || cat /sys/fs/cgroup/cpu,cpuacct/cpuacct.usage 2>/dev/null \\
  || awk '/^usage_usec/ { printf "%d000\\n", $2 }' /sys/fs/cgroup/cpu.stat 2>/dev/null; }
u() { cut -d' ' -f1 /proc/uptime; }
a=$(r); s=$(u); sleep "$1"; b=$(r); e=$(u); echo "$a $b $s $e"
"""


def cpu_request(window_s: float) -> ExecRequest:
    """The exec that reads the container's own cgroup CPU time twice, `window_s` apart."""
    argv = ["/bin/sh", "-c", CPU_SCRIPT, "containers-tool-cpu", f"{window_s:g}"]
    return ExecRequest(argv=argv, user="0:0", timeout_s=window_s + 10)


def parse_cpu(text: str, window_s: float) -> float | None:
    """CPU % (100 = one CPU) from CPU_SCRIPT's line; None when the cgroup told nothing."""
    try:
        first, second, start, end = (float(w) for w in text.split())
    except ValueError:
        return None
    gap = end - start if end > start else window_s  # /proc/uptime counts in 10 ms steps
    return max((second - first) / (gap * 1e9) * 100, 0.0)


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


def parse_peak(text: str) -> int | None:
    """Reads the number PEAK_SCRIPT printed; None when the container's cgroup told nothing."""
    first = text.strip().split("\n", 1)[0].strip()
    return int(first) if first.isdigit() else None
