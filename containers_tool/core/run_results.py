"""run_result and run_cancel: from the process that started the run, or from any other one.

The starting process holds a run's result in memory. Another process finds the run's
container by its run-id label and reads the result the run left in the container's tmpfs; a
run whose keep-alive bound passed with no result there lost its owner (killed tool process).
"""

from __future__ import annotations

import json
import time

from containers_tool import labels as lb
from containers_tool.context import Context
from containers_tool.core import run as runs
from containers_tool.errors import NotFoundError, ToolError
from containers_tool.runtime.types import ContainerInfo, ExecRequest

#: Seconds between looks at a run another process started.
POLL_S = 0.25


def _not_found(run_id: str) -> NotFoundError:
    return NotFoundError(
        f"No run {run_id!r}: it was never started, its result was already read, it was "
        "cancelled, or it was removed after waiting unread.",
        hint="Call run again; with wait: false keep the run_id it returns for run_result.",
        field="run_id",
    )


def _running(run_id: str, name: str, elapsed_s: float | None) -> dict[str, object]:
    return {
        "run_id": run_id,
        "state": "running",
        "container": name,
        "elapsed_ms": None if elapsed_s is None else int(elapsed_s * 1000),
        "hint": "Still running: call run_result again with wait: <seconds>.",
    }


def result(ctx: Context, run_id: str, wait_s: float) -> dict[str, object]:
    """Returns the run's result once it ended (waiting up to `wait_s`), else its state.

    Raises:
        NotFoundError: No such run (or its result was read already).
        ToolError: The engine failed during the run.
    """
    handle = runs.find(run_id)
    if handle is None:
        return _elsewhere(ctx, run_id, wait_s)
    if not handle.done.wait(wait_s):
        return _running(run_id, handle.name, time.monotonic() - handle.started)
    return _collect(ctx, handle)


def _collect(ctx: Context, handle: runs.RunHandle) -> dict[str, object]:
    with runs._LOCK:
        if handle.read.is_set():
            raise _not_found(handle.run_id)
        handle.read.set()
    runs.remove(ctx, handle)
    runs.forget(handle)
    if handle.error is not None:
        raise handle.error
    return dict(handle.result or {})


def cancel(ctx: Context, run_id: str) -> dict[str, object]:
    """Kills a running run and removes its container; an ended one is left for run_result.

    Raises:
        NotFoundError: No such run.
    """
    handle = runs.find(run_id)
    if handle is None:
        return _cancel_elsewhere(ctx, run_id)
    if handle.done.is_set():
        return _ended(run_id)
    handle.cancelled = True
    handle.usage = runs.usage(ctx, handle.cid)  # before removal: the counters go with it
    runs.remove(ctx, handle)
    handle.done.wait(30)
    if handle.background:
        return _collect(ctx, handle)
    # The caller of a waiting run gets the cancelled result too.
    return dict(handle.result or runs.payload(handle, None, handle.usage))


def _ended(run_id: str) -> dict[str, object]:
    return {
        "run_id": run_id,
        "cancelled": False,
        "state": "ended",
        "hint": "It had already ended: call run_result for its result.",
    }


def _find(ctx: Context, run_id: str) -> ContainerInfo | None:
    # Any run of that id in the tenant: another process of the tenant may ask for its result.
    rows = ctx.runtime.list_containers({**lb.managed_filter(tenant=ctx.tenant), lb.RUN_ID: run_id})
    return next(
        (r for r in rows if r.state == "running" and lb.in_tenant(r.labels, ctx.tenant)), None
    )


def _stored(ctx: Context, cid: str) -> dict[str, object] | None:
    req = ExecRequest(
        argv=["/bin/sh", "-c", f"cat {runs.RESULT_PATH} 2>/dev/null || exit 3"],
        user="0:0",
        timeout_s=30,
        output_limit=4 * ctx.settings.output_limit + 65536,
    )
    try:
        out = ctx.runtime.exec_command(cid, req)
        value = json.loads(out.stdout.text) if out.exit_code == 0 else None
    except (ToolError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _deadline(info: ContainerInfo) -> float:
    text = info.labels.get(lb.RUN_DEADLINE, "")
    return float(text) if text.isdigit() else 0.0


def _elsewhere(ctx: Context, run_id: str, wait_s: float) -> dict[str, object]:
    info = _find(ctx, run_id)
    if info is None:
        raise _not_found(run_id)
    until = time.monotonic() + wait_s
    while True:
        stored = _stored(ctx, info.id)
        if stored is not None:
            ctx.runtime.remove_container(info.id)
            return stored
        if _deadline(info) and time.time() > _deadline(info) - ctx.settings.run_retention:
            # Past its timeout and grace with no result: the process running it is gone.
            ctx.runtime.remove_container(info.id)
            return {
                "run_id": run_id,
                "state": "lost",
                "exit_code": None,
                "hint": "The tool process running it ended before it finished; run it again.",
            }
        if time.monotonic() >= until:
            return _running(run_id, info.name, None)
        time.sleep(POLL_S)


def _cancel_elsewhere(ctx: Context, run_id: str) -> dict[str, object]:
    info = _find(ctx, run_id)
    if info is None:
        raise _not_found(run_id)
    if _stored(ctx, info.id) is not None:
        return _ended(run_id)
    used = runs.usage(ctx, info.id)
    ctx.runtime.remove_container(info.id)
    return {
        "run_id": run_id,
        "state": "cancelled",
        "cancelled": True,
        "exit_code": None,
        "usage": used,
    }
