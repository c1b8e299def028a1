"""One-shot runs: one call, one ephemeral container, nothing left behind.

A run's container is made by the create pipeline (limits, no-new-privileges, the mapped user,
files, the env file) with one difference: PID 1 is `sleep` for the run's timeout plus a grace
(plus the retention of an unread result, for `wait: false`), and the engine removes the
container itself when PID 1 ends. So a killed tool process cannot leave it behind: at worst it
lives until that bound. While the tool process lives, the command runs as an exec with the
timeout, its usage is read from the engine once it ends, and the container is removed at once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import secrets
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field, replace

from containers_tool import labels as lb
from containers_tool.context import Context
from containers_tool.core.create import Draft, make, plan_create
from containers_tool.core.exec import result_payload, shell_argv
from containers_tool.envelope import TRUNCATED_HINT
from containers_tool.errors import EngineError, InternalError, NotFoundError, ToolError
from containers_tool.models.lifecycle import CreateInput
from containers_tool.models.run import RunInput
from containers_tool.provision import plan as provision
from containers_tool.provision.files import FileEntry, write_stdin
from containers_tool.runtime.capabilities import Shell, Stats
from containers_tool.runtime.types import ContainerStats, ExecRequest, ExecResult

log = logging.getLogger("containers_tool")

#: Where a finished `wait: false` run leaves its result, so any tool process can read it.
RESULT_PATH = lb.ENVFILE_DIR + "/run-result.json"


@dataclass
class RunHandle:
    """A run this process started: its container, and its result once it ended."""

    run_id: str
    cid: str
    name: str
    argv: list[str]
    timeout: float
    background: bool
    #: Where the command runs: the engine's WorkingDir may be the image's (see create).
    workdir: str = "/"
    started: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    #: Set once someone has the result: the container is then removed.
    read: threading.Event = field(default_factory=threading.Event)
    cancelled: bool = False
    usage: dict[str, int | float | None] | None = None
    result: dict[str, object] | None = None
    error: ToolError | None = None


_RUNS: dict[str, RunHandle] = {}
_LOCK = threading.Lock()


def new_run_id() -> str:
    """Returns a fresh run id (safe in names, labels and filters by construction)."""
    return "r-" + secrets.token_hex(6)


def find(run_id: str) -> RunHandle | None:
    """Returns the run of that id if this process started it and nobody has read it yet."""
    with _LOCK:
        return _RUNS.get(run_id)


def forget(handle: RunHandle) -> None:
    """Drops a run from this process's table."""
    with _LOCK:
        _RUNS.pop(handle.run_id, None)


def run(args: RunInput, ctx: Context) -> dict[str, object]:
    """Makes the container, runs the command and (with wait) returns its result.

    Raises:
        ToolError: The container could not be made or prepared (nothing is left), or the
            engine failed during the run (the container is removed).
    """
    settings = ctx.settings
    timeout = min(args.timeout or settings.run_timeout, settings.max_exec_timeout)
    sweep_expired(ctx)
    run_id = new_run_id()
    draft = _draft(args, ctx, run_id, timeout)
    with ExitStack() as undo:
        cid, _info, _user = make(ctx, draft, undo)
        _check_steps(draft.steps)
        undo.pop_all()
    argv = provision.wrap_argv(bool(draft.prov.secrets), shell_argv(args.command))
    handle = RunHandle(
        run_id, cid, draft.name, argv, timeout, background=not args.wait, workdir=draft.workdir
    )
    with _LOCK:
        _RUNS[run_id] = handle
    if args.wait:
        try:
            execute(ctx, handle)
        finally:
            handle.read.set()
            remove(ctx, handle)
            forget(handle)
        if handle.error is not None:
            raise handle.error
        return dict(handle.result or {})
    worker = threading.Thread(
        target=_background, args=(ctx, handle), name=f"containers-tool-{run_id}", daemon=True
    )
    worker.start()
    return {
        "run_id": run_id,
        "state": "running",
        "container": draft.name,
        "timeout": timeout,
        "hint": "Call run_result with this run_id and wait: <seconds>; run_cancel kills it.",
    }


def sweep_expired(ctx: Context) -> list[str]:
    """Removes run containers past their deadline that never ran or stopped unremoved.

    A tool process killed between a run's create and start leaves a container no keep-alive
    will end (it never started); past its deadline label no run can still need it.

    Returns:
        The names removed.
    """
    now = time.time()
    removed = []
    for info in ctx.tenant_containers():  # another tenant's runs are its own tool's to sweep
        deadline = info.labels.get(lb.RUN_DEADLINE, "")
        if info.state != "running" and deadline.isdigit() and int(deadline) < now:
            with contextlib.suppress(ToolError):
                ctx.runtime.remove_container(info.id)
                removed.append(info.name)
    return removed


def _draft(args: RunInput, ctx: Context, run_id: str, timeout: float) -> Draft:
    """Plans the run's container as create would, forwarding nothing from the host."""
    settings = ctx.settings
    create = CreateInput(
        name=f"run-{run_id[2:]}",
        image=args.image,
        purpose=args.purpose,
        memory_limit=args.memory_limit,
        cpu_limit=args.cpu_limit,
        network=args.network,
        config_files=args.files,
        session_id=args.session_id,
        session_network=False,
        # A one-shot tool run gets its parameters, not the caller's credentials or dotfiles.
        env_passthrough="none",
        forward_git=False,
        forward_gh=False,
        forward_ssh=False,
        dotfiles_skip=True,
    )
    draft = plan_create(create, ctx)
    keep = timeout + settings.run_grace + (0 if args.wait else settings.run_retention)
    labels = {
        **draft.spec.labels,
        lb.RUN_ID: run_id,
        lb.RUN_DEADLINE: str(int(time.time() + keep)),
    }
    if args.env:
        # Like forwarded secrets: only in the tmpfs env file, never in the container's config.
        draft.prov.secrets.update(args.env)
        labels[lb.ENVFILE] = "true"
        labels[lb.FORWARDED_ENV] = ",".join(sorted(draft.prov.secrets))[:4000]
    # The keep-alive is bounded and the engine removes the container when it ends.
    command = ("sleep", str(math.ceil(keep)))
    draft.spec = replace(draft.spec, command=command, labels=labels, auto_remove=True)
    return draft


def _check_steps(steps: list[dict[str, object]]) -> None:
    """A run whose files or env did not get in must not run its command."""
    for step in steps:
        if step.get("status") in ("failed", "partial"):
            name = str(step.get("step"))
            raise EngineError(
                f"The run's {name} could not be prepared: {step.get('detail')}",
                hint="Check the paths in files (writable, not under /proc or /sys).",
                field="files" if name == "config_files" else None,
            )


def usage(ctx: Context, cid: str) -> dict[str, int | float | None]:
    """The run's resource usage, read once from the engine; None values when unavailable."""
    try:
        stats: ContainerStats | None = ctx.require(Stats, "run").container_stats(cid, peak=True)
    except ToolError:
        stats = None
    return {
        "cpu_seconds": round(stats.cpu_ns / 1e9, 3) if stats else None,
        "memory_peak_bytes": stats.memory_peak_bytes if stats else None,
        "net_rx_bytes": stats.net_rx_bytes if stats else None,
        "net_tx_bytes": stats.net_tx_bytes if stats else None,
        "blk_read_bytes": stats.blk_read_bytes if stats else None,
        "blk_write_bytes": stats.blk_write_bytes if stats else None,
    }


def execute(ctx: Context, handle: RunHandle) -> None:
    """Runs the command to its end (or timeout) and records the result and usage on `handle`."""
    req = ExecRequest(
        argv=handle.argv,
        workdir=handle.workdir,
        timeout_s=handle.timeout,
        output_limit=ctx.settings.output_limit,
    )
    result: ExecResult | None = None
    try:
        result = ctx.runtime.exec_command(handle.cid, req)
    except ToolError as exc:
        if not handle.cancelled and _alive(ctx, handle.cid):
            handle.error = exc
            handle.done.set()
            return
    if not handle.cancelled and _removed_under(ctx, handle.cid, result):
        # Another process's run_cancel (or a destroy): the engine then reports a kill (137)
        # or nothing, which is no exit of the command's own.
        handle.cancelled = True
    if handle.cancelled or result is None:
        handle.result = payload(handle, None, handle.usage or usage(ctx, handle.cid))
    else:
        handle.result = payload(handle, result, usage(ctx, handle.cid))
    handle.done.set()


#: Exit codes of an exec whose container may have been killed under it.
_KILLED = (None, 137)


def _removed_under(ctx: Context, cid: str, result: ExecResult | None) -> bool:
    """Whether the container was killed under the exec; a kill's exit can beat the state."""
    if result is not None and (result.timed_out or result.exit_code not in _KILLED):
        return not _alive(ctx, cid)
    deadline = time.monotonic() + 3.0
    while _alive(ctx, cid):
        if time.monotonic() > deadline:
            return False  # the command itself was killed (e.g. out of memory)
        time.sleep(0.1)
    return True


def _alive(ctx: Context, cid: str) -> bool:
    """Whether the run's container still runs: before its deadline only a kill stops it."""
    try:
        return ctx.runtime.inspect_container(cid).state == "running"
    except NotFoundError:
        return False
    except ToolError:
        return True


def payload(
    handle: RunHandle, result: ExecResult | None, used: dict[str, int | float | None]
) -> dict[str, object]:
    """The run's result: exit, bounded output, stdout as JSON, usage."""
    if result is None:
        out: dict[str, object] = {
            "run_id": handle.run_id,
            "state": "cancelled",
            "exit_code": None,
            "stdout": "",
            "stderr": "",
            "truncated": False,
            "timed_out": False,
            "cancelled": True,
            "duration_ms": int((time.monotonic() - handle.started) * 1000),
            "result": None,
            "usage": used,
        }
        return out
    out = {
        "run_id": handle.run_id,
        "state": "timed_out" if result.timed_out else "exited",
        **result_payload(result),
        "cancelled": False,
        "result": parse_result(result.stdout.text),
        "usage": used,
    }
    if result.timed_out:
        out["hint"] = f"Killed after {handle.timeout:g}s; pass a larger timeout."
    elif out["truncated"]:
        out["hint"] = TRUNCATED_HINT
    return out


def parse_result(stdout: str) -> object:
    """stdout as JSON: the whole of it, else its last non-empty line; None when neither is.

    A last line counts only as an object or array: a bare number or word ending prose
    output is far more often text than a result.
    """
    text = stdout.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    last = text.rsplit("\n", 1)[-1].strip()
    if not last.startswith(("{", "[")):
        return None
    try:
        value: object = json.loads(last)
    except ValueError:
        return None
    return value


def remove(ctx: Context, handle: RunHandle) -> None:
    """Removes the run's container; a failure is left to the keep-alive's bound."""
    try:
        ctx.runtime.remove_container(handle.cid)
    except ToolError as exc:  # auto-remove may already be at it (Docker answers 409)
        log.debug("run %s: remove: %s", handle.run_id, exc.message)


def _background(ctx: Context, handle: RunHandle) -> None:
    """The thread of a `wait: false` run: run, store the result, remove it if never read."""
    try:
        execute(ctx, handle)
        if handle.result is not None and not handle.cancelled:
            store(ctx, handle)
    except Exception as exc:  # a thread has nobody to raise to: run_result raises it
        log.exception("run %s failed", handle.run_id)
        handle.error = InternalError(f"The run failed unexpectedly: {type(exc).__name__}.")
    finally:
        handle.done.set()
    if handle.read.wait(ctx.settings.run_retention):
        return
    with _LOCK:  # unread: nobody may read it from here on
        if handle.read.is_set():
            return
        handle.read.set()
        _RUNS.pop(handle.run_id, None)
    remove(ctx, handle)


def store(ctx: Context, handle: RunHandle) -> None:
    """Leaves the result in the container's tmpfs, so another tool process can read it."""
    data = json.dumps(handle.result).encode()
    entry = FileEntry(RESULT_PATH, data, 0o600)
    with contextlib.suppress(ToolError):  # the owner still holds it in memory
        write_stdin(ctx.require(Shell, "run"), handle.cid, entry, user="0:0", umask="077")
