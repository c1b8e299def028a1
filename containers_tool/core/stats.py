"""stats: one resource sample per container, fetched in parallel, with totals.

Each container gets one sample (never a stream); its CPU % covers `SAMPLE_GAP_S`, measured the
cheapest way its engine allows (see the runtime's container_stats). All containers are
sampled at the same time, so a session's stats take about one sample whatever its size.
Where the engine cannot measure it, CPU % is the average since the container started.
A paused container is sampled too: its memory and processes are still there, its CPU % is 0.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from containers_tool import labels as lb
from containers_tool.context import Context
from containers_tool.errors import ConflictError, NotFoundError
from containers_tool.runtime.capabilities import Stats
from containers_tool.runtime.types import ContainerInfo, ContainerStats
from containers_tool.times import iso

#: Seconds between a container's two readings (the window its CPU % covers).
SAMPLE_GAP_S = 0.2
#: Containers sampled at most in one call (the result stays bounded); the rest are counted.
MAX_CONTAINERS = 100
WORKERS = 32
#: States whose counters are live: a paused container keeps its memory and processes.
SAMPLED = ("running", "paused")


_NUMBERS = (
    "cpu_percent",
    "memory_used_bytes",
    "memory_limit_bytes",
    "net_rx_bytes",
    "net_tx_bytes",
    "blk_read_bytes",
    "blk_write_bytes",
    "pids",
)


def in_scope(ctx: Context, session_id: str | None) -> list[ContainerInfo]:
    """The containers of `stats()` and `stats(session_id)`: the same scope as `list`."""
    return ctx.visible_containers(session_id)


def stats(ctx: Context, container: str | None, session_id: str | None) -> dict[str, object]:
    """Samples one container, or every container in scope, and sums them.

    Raises:
        NotFoundError: `container` names no managed container.
    """
    if container is not None:
        infos = [ctx.using(container, lambda ref: ctx.runtime.inspect_container(ref.id))]
    else:
        infos = in_scope(ctx, session_id)
        infos.sort(key=lambda i: i.name)
    shown = infos[:MAX_CONTAINERS]
    rows: list[dict[str, object]] = []
    if shown:
        with ThreadPoolExecutor(max_workers=min(WORKERS, len(shown))) as pool:
            rows = [r for r in pool.map(lambda i: sample(ctx, i), shown) if r is not None]
    result: dict[str, object] = {
        "containers": rows,
        "count": len(rows),
        "total": total(rows),
    }
    if len(infos) > len(shown):
        result["omitted"] = len(infos) - len(shown)
        result["hint"] = "Pass session_id or container to see the others."
    return result


def sample(ctx: Context, listed: ContainerInfo) -> dict[str, object] | None:
    """One container's row; None when it vanished while being sampled."""
    try:
        info = ctx.runtime.inspect_container(listed.id)
    except NotFoundError:
        return None
    if info.state not in SAMPLED:
        return _row(info, None, None)
    try:
        one = ctx.require(Stats, "stats").container_stats(info.id, cpu_window_s=SAMPLE_GAP_S)
    except NotFoundError:
        return None
    except ConflictError:  # stopped between the inspect and the reading
        return _row(info, None, None)
    cpu = one.cpu_percent
    if cpu is None:
        up = uptime_s(info.started_at)
        cpu = one.cpu_ns / (up * 1e9) * 100 if up else 0.0
    return _row(info, one, cpu)


def _row(info: ContainerInfo, s: ContainerStats | None, cpu: float | None) -> dict[str, object]:
    limit = s.memory_limit_bytes if s else info.memory_bytes or 0
    used = s.memory_used_bytes if s else 0
    return {
        "container": info.name,
        "state": info.state,
        "uptime_s": uptime_s(info.started_at) if info.state in SAMPLED else None,
        "cpu_percent": round(cpu, 2) if cpu is not None else 0.0,
        "memory_used_bytes": used,
        "memory_limit_bytes": limit,
        "memory_percent": round(used / limit * 100, 2) if limit else 0.0,
        "net_rx_bytes": s.net_rx_bytes if s else 0,
        "net_tx_bytes": s.net_tx_bytes if s else 0,
        "blk_read_bytes": s.blk_read_bytes if s else 0,
        "blk_write_bytes": s.blk_write_bytes if s else 0,
        "pids": s.pids if s else 0,
        "session_id": info.labels.get(lb.SESSION),
    }


def total(rows: list[dict[str, object]]) -> dict[str, object]:
    """Sums the rows; memory_percent is of the summed limits."""
    sums: dict[str, object] = {}
    for key in _NUMBERS:
        value = sum(float(str(r[key])) for r in rows)
        sums[key] = round(value, 2) if key == "cpu_percent" else int(value)
    used, limit = int(str(sums["memory_used_bytes"])), int(str(sums["memory_limit_bytes"]))
    sums["memory_percent"] = round(used / limit * 100, 2) if limit else 0.0
    sums["running"] = sum(1 for r in rows if r["state"] == "running")
    return sums


def uptime_s(started_at: str) -> int | None:
    """Seconds since an engine's StartedAt (any form times.iso reads); None if unknown."""
    moment = iso(started_at)
    if moment is None:
        return None
    started = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return max(int((datetime.now(UTC) - started).total_seconds()), 0)
