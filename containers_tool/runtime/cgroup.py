"""A container's resource counters read from inside it: its own cgroup (v1 or v2) and /proc.

One exec of SCRIPT prints every counter a stats sample needs, and `parse_stats` turns that text
into a ContainerStats with the same meaning as the engine's stats endpoint (see
runtime/stats.py's `docker_stats`): memory in use leaves out inactive page cache, an unlimited
memory limit is the host's memory, and the loopback interface is left out of the network
counters. The exec's own shell is one of the container's processes while it reads, so it is
taken out of the pids; its memory (a few hundred KiB) cannot be told apart and stays in.
"""

from __future__ import annotations

from collections.abc import Iterable

from containers_tool.runtime.types import ContainerStats, ExecRequest

#: Prints each counter file under a heading line `@name`, with shell builtins only: a forked
#: `cat` would itself be counted in the pids and memory being read. Processes, memory, block
#: and network I/O come first, then CPU time and uptime once, and, when $1 is not 0, again
#: $1 seconds later: so the window holds nothing but `sleep`. v1 paths are tried before v2's,
#: which are the cgroup's own files at /sys/fs/cgroup under a cgroup namespace. POSIX sh, so
#: busybox ash and dash run it alike.
SCRIPT = r"""
c=/sys/fs/cgroup
d() {
  [ -r "$2" ] || return 1
  printf '@%s\n' "$1"
  while IFS= read -r l || [ -n "$l" ]; do printf '%s\n' "$l"; done < "$2"
}
d pids $c/pids/pids.current || d pids $c/pids.current
d usage $c/memory/memory.usage_in_bytes || d usage $c/memory.current
d limit $c/memory/memory.limit_in_bytes || d limit $c/memory.max
d peak $c/memory/memory.max_usage_in_bytes || d peak $c/memory.peak
d memstat $c/memory/memory.stat || d memstat $c/memory.stat
d blkio $c/blkio/blkio.throttle.io_service_bytes_recursive \
  || d blkio $c/blkio/blkio.throttle.io_service_bytes || d iostat $c/io.stat
d netdev /proc/net/dev
{ read -r l < /proc/meminfo && printf '@meminfo\n%s\n' "$l"; } 2>/dev/null
t() {
  d "cpu$1" $c/cpuacct/cpuacct.usage || d "cpu$1" $c/cpu,cpuacct/cpuacct.usage \
    || d "cpu$1" $c/cpu.stat
  d "uptime$1" /proc/uptime
}
t 0
[ "$1" = 0 ] || { sleep "$1" && t 1; }
"""

#: At and above this a cgroup v1 memory limit means none (the kernel's page-counter maximum,
#: 2**63 less a page, whatever the page size).
UNLIMITED = 1 << 62

#: The exec's own shell: counted in pids.current while it reads, never by the engine.
OWN_PROCESSES = 1


def stats_request(window_s: float) -> ExecRequest:
    """The exec that prints the counters, and CPU time twice `window_s` apart when > 0.

    As root, since the files are the same for every user but the exec user may not exist.
    """
    window = f"{window_s:.3f}" if window_s > 0 else "0"
    argv = ["/bin/sh", "-c", SCRIPT, "containers-tool-stats", window]
    return ExecRequest(argv=argv, user="0:0", timeout_s=window_s + 10, output_limit=1 << 20)


def sections(text: str) -> dict[str, list[str]]:
    """Splits SCRIPT's output into its headed sections (name -> lines)."""
    found: dict[str, list[str]] = {}
    lines: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("@"):
            lines = found.setdefault(line[1:].strip(), [])
        elif lines is not None:
            lines.append(line)
    return found


def _number(lines: Iterable[str] | None) -> int | None:
    first = next(iter(lines or []), "").strip()
    return int(first) if first.isdigit() else None


def _pairs(lines: Iterable[str] | None) -> dict[str, int]:
    """`key value` lines (memory.stat, cpu.stat) as a dict; other lines are skipped."""
    found: dict[str, int] = {}
    for line in lines or []:
        key, _, value = line.strip().partition(" ")
        if value.strip().isdigit():
            found[key] = int(value)
    return found


def _cpu_ns(lines: list[str] | None) -> int | None:
    """v1 cpuacct.usage is nanoseconds; v2 cpu.stat's usage_usec is microseconds."""
    if lines is None:
        return None
    number = _number(lines)
    if number is not None:
        return number
    usec = _pairs(lines).get("usage_usec")
    return usec * 1000 if usec is not None else None


def _uptime(lines: list[str] | None) -> float | None:
    try:
        return float((lines or [""])[0].split()[0])
    except (IndexError, ValueError):
        return None


def cpu_percent(first_ns: int, second_ns: int, start: float, end: float, window_s: float) -> float:
    """CPU % (100 = one CPU) between two readings of CPU time, taken at uptimes start and end.

    /proc/uptime counts in 10 ms steps: a zero gap means the window itself.
    """
    gap = end - start if end > start else window_s
    return max((second_ns - first_ns) / (gap * 1e9) * 100, 0.0)


def memory_used(usage: int, stat: dict[str, int]) -> int:
    """Usage less inactive page cache, as `docker stats` counts it (v1's total_ is hierarchical)."""
    cache = stat.get("total_inactive_file", stat.get("inactive_file", 0))
    return usage - cache if cache < usage else usage


def memory_limit(limit: str, host_bytes: int, configured: int) -> int:
    """The limit as the engine reports it: none ("max", or v1's huge number) is the host's memory.

    Args:
        limit: The cgroup's memory.limit_in_bytes (v1) or memory.max (v2).
        host_bytes: The host's memory (MemTotal); 0 when unknown.
        configured: The limit the container was created with; 0 for none or unknown.
    """
    value = int(limit) if limit.isdigit() else 0
    if not value or value >= UNLIMITED:
        value = configured
    if host_bytes:  # the engine caps any limit at the host's memory
        value = min(value, host_bytes) if value else host_bytes
    return value


def _meminfo_total(lines: list[str] | None) -> int:
    words = (lines or [""])[0].split()
    if len(words) >= 2 and words[0] == "MemTotal:" and words[1].isdigit():
        return int(words[1]) * 1024  # always in kB
    return 0


def block_io(blkio: list[str] | None, iostat: list[str] | None) -> tuple[int, int]:
    """Bytes read and written, summed over devices: v1's Read/Write rows, v2's rbytes/wbytes."""
    read = write = 0
    for line in blkio or []:
        words = line.split()
        if len(words) == 3 and words[2].isdigit():
            if words[1] == "Read":
                read += int(words[2])
            elif words[1] == "Write":
                write += int(words[2])
    for line in iostat or []:
        for word in line.split()[1:]:
            key, _, value = word.partition("=")
            if key == "rbytes" and value.isdigit():
                read += int(value)
            elif key == "wbytes" and value.isdigit():
                write += int(value)
    return read, write


def network_io(netdev: list[str] | None) -> tuple[int, int]:
    """Bytes received and sent on every interface but loopback (the engines leave lo out)."""
    rx = tx = 0
    for line in netdev or []:
        name, colon, counters = line.partition(":")
        words = counters.split()
        if not colon or name.strip() == "lo" or len(words) < 9:
            continue  # the two header lines, loopback
        if words[0].isdigit() and words[8].isdigit():
            rx += int(words[0])
            tx += int(words[8])
    return rx, tx


def parse_stats(text: str, window_s: float, configured_limit: int = 0) -> ContainerStats | None:
    """A ContainerStats from SCRIPT's output; None when it holds no memory or CPU reading.

    Args:
        text: What SCRIPT printed.
        window_s: The seconds asked between the two CPU readings (0: one reading, no CPU %).
        configured_limit: The container's memory limit as created (0: none), for a cgroup that
            reports none while the host's memory is unknown.

    Returns:
        The sample; cpu_percent is None unless both CPU readings are there.
    """
    found = sections(text)
    usage = _number(found.get("usage"))
    first = _cpu_ns(found.get("cpu0"))
    if usage is None or first is None:
        return None
    second = _cpu_ns(found.get("cpu1"))
    start, end = _uptime(found.get("uptime0")), _uptime(found.get("uptime1"))
    percent = None
    if window_s > 0 and second is not None and start is not None and end is not None:
        percent = cpu_percent(first, second, start, end, window_s)
    read, write = block_io(found.get("blkio"), found.get("iostat"))
    rx, tx = network_io(found.get("netdev"))
    limit = (found.get("limit") or [""])[0].strip()
    return ContainerStats(
        cpu_ns=second if second is not None else first,
        memory_used_bytes=memory_used(usage, _pairs(found.get("memstat"))),
        memory_limit_bytes=memory_limit(
            limit, _meminfo_total(found.get("meminfo")), configured_limit
        ),
        memory_peak_bytes=_number(found.get("peak")),
        net_rx_bytes=rx,
        net_tx_bytes=tx,
        blk_read_bytes=read,
        blk_write_bytes=write,
        pids=max((_number(found.get("pids")) or 0) - OWN_PROCESSES, 0),
        cpu_percent=percent,
    )
