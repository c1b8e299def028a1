"""Removing what nobody uses: idle containers past their timeout, and orphans of dead processes.

A sweep lists the managed containers once and removes

- expired ones: labelled with an idle timeout (`lb.IDLE_TIMEOUT`), with no activity recorded
  for that long (an operation in flight anywhere refreshes it), and no background job running
  (one exec reads the job state in the container's tmpfs before anything is removed);
- orphans: ephemeral containers whose owning process (`lb.OWNER_*`: this host, a pid and its
  start time) is gone. Only a process that ends its session on exit records itself as owner,
  so containers of the CLI (a shared session that outlives each call), persistent ones and
  those of other hosts are never orphans.

Each removal leaves a tombstone (see core/activity.py) and logs `container.expired` or
`container.reaped`. Sweeps run when a process first connects to an engine (before its first
operation goes on), every `sweep_interval` seconds in the MCP server, on
`containers-tool reap`, and for one container when an operation resolves an expired one.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass

from containers_tool import labels as lb
from containers_tool.context import Context, Ref, removed_error
from containers_tool.core import networks, owner
from containers_tool.core.activity import Tombstone, iso, tenant_of, timeout_of
from containers_tool.core.containers import remove
from containers_tool.core.jobs import FALLBACK_DIR, JOBS_DIR
from containers_tool.errors import ConflictError, NotFoundError, ToolError
from containers_tool.logs import event
from containers_tool.models.lifecycle import CreateInput
from containers_tool.runtime.types import ContainerInfo, ExecRequest

log = logging.getLogger("containers_tool")

#: Prints "busy" when a background job's wrapper still runs (see core/jobs.py for the layout).
JOBS_RUNNING = (
    f"b={JOBS_DIR}; [ -d {lb.ENVFILE_DIR} ] || b={FALLBACK_DIR}; "
    'for d in "$b"/*/; do [ -e "$d/exit" ] && continue; '
    'w=$(cat "$d/wrapper" 2>/dev/null); '
    '[ -n "$w" ] && [ -d "/proc/$w" ] && { echo busy; exit 0; }; done; echo idle'
)


@dataclass(frozen=True, slots=True)
class Removal:
    """A container a sweep removed."""

    container: str
    session: str | None
    reason: str  # "expired" or "orphaned"
    detail: str

    def to_dict(self) -> dict[str, object]:
        """The row `containers-tool reap` prints."""
        return {
            "container": self.container,
            "session_id": self.session,
            "reason": self.reason,
            "detail": self.detail,
        }


def made_by(ctx: Context, args: CreateInput, session: str) -> dict[str, str]:
    """The idle timeout of a new container and, when this process owns it, the owner.

    The timeout is `expires_after`, else `idle_timeout` for an ephemeral container; a persistent
    one expires only when asked. Only an ephemeral container of the context's own session, in a
    tool that removes its session's containers on exit, is owned: the CLI's containers must
    outlive each call.
    """
    default = 0.0 if args.persistent else ctx.settings.idle_timeout
    timeout = args.expires_after if args.expires_after is not None else default
    labels = {lb.TENANT: ctx.tenant}  # the creating context's: its tenant, lifetime, owner
    if timeout > 0:
        labels[lb.IDLE_TIMEOUT] = f"{timeout:g}"
    if args.persistent or not ctx.owns_session or session != ctx.session_id:
        return labels
    me = owner.current()
    return {
        **labels,
        lb.OWNER_HOST: me.host,
        lb.OWNER_BOOT: me.boot,
        lb.OWNER_PID: str(me.pid),
        lb.OWNER_START: me.start,
    }


def orphaned(labels: dict[str, str] | ContainerInfo) -> str | None:
    """Why a container is an orphan ("its owner process N died"), or None if it is not."""
    tags = labels.labels if isinstance(labels, ContainerInfo) else labels
    if tags.get(lb.PERSISTENT) == "true" or tags.get(lb.OWNER_HOST) != owner.host():
        return None
    pid = tags.get(lb.OWNER_PID, "")
    if not pid.isdigit():
        return None
    if owner.alive(int(pid), tags.get(lb.OWNER_START, ""), tags.get(lb.OWNER_BOOT, "")):
        return None
    return f"its owner process {pid} on {owner.host()} died without ending its session"


def jobs_running(ctx: Context, cid: str) -> bool:
    """Tells whether a background job runs in the container (a stopped one runs none)."""
    try:
        result = ctx.runtime.exec_command(
            cid, ExecRequest(argv=["/bin/sh", "-c", JOBS_RUNNING], timeout_s=15, output_limit=64)
        )
    except ToolError:
        return False  # stopped, gone, or no shell: nothing can be running in it
    return result.stdout.text.strip() == "busy"


def _remove(
    ctx: Context, info: ContainerInfo, reason: str, detail: str, last: float | None
) -> Removal | None:
    session = info.labels.get(lb.SESSION)
    stone = Tombstone(info.name, session, tenant_of(info.labels), reason, time.time(), last, detail)
    # Buried before the removal: another process that finds the container gone a moment later
    # must read why (buried after, it could say a bare "no such container" in between).
    ctx.activity.store.bury(stone, info.id)
    try:
        remove(ctx, info.name, info.id, info.labels)
    except ToolError as exc:
        # Not found, or a conflict (Docker: "removal already in progress"): another sweep is
        # removing it, and its tombstone must stay. Else the container is still there.
        if not isinstance(exc, (NotFoundError, ConflictError)):
            ctx.activity.store.unbury(info.name)
        event(
            "container.remove.failed",
            logging.WARNING,
            container=info.name,
            session=session,
            reason=reason,
            error_code=exc.code,
        )
        return None
    ctx.activity.forget_seen(info.id)
    name = "container.expired" if reason == "expired" else "container.reaped"
    event(
        name,
        container=info.name,
        session=session,
        tenant=stone.tenant,
        last_active_at=iso(last),
        detail=detail,
    )
    return Removal(info.name, session, reason, detail)


def _idle(seconds: float) -> str:
    return f"{seconds:g}s"


def expire(ctx: Context, infos: list[ContainerInfo]) -> list[Removal]:
    """Removes the expired containers among `infos`; a running job makes one active instead."""
    store = ctx.activity.store
    if store.broken:
        return []
    # A warm pool's containers wait unused by design; their clock starts when a create takes one.
    waiting = [i for i in infos if not i.name.startswith(lb.POOL_PREFIX)]
    timed = [(i, t) for i in waiting if (t := timeout_of(i.labels)) is not None]
    last = store.last_active(i.id for i, _ in timed)
    now = time.time()
    due = []
    for info, limit in timed:
        if info.id not in last:  # no record here: its clock starts now
            store.touch(info.id, info.name, info.labels.get(lb.SESSION), now)
        elif now - last[info.id] >= limit:
            due.append((info, limit))
    removed = []
    for info, limit in due:
        if ctx.activity.holding(info.id):  # other processes' operations keep rows fresh
            continue
        if info.state == "running" and jobs_running(ctx, info.id):
            store.touch(info.id, info.name, info.labels.get(lb.SESSION), time.time())
            continue
        gone = _remove(ctx, info, "expired", _idle(limit), last[info.id])
        removed += [gone] if gone else []
    return removed


def reap(ctx: Context, infos: list[ContainerInfo]) -> list[Removal]:
    """Removes the containers among `infos` whose owner process died, then their sessions' nets."""
    removed = []
    for info in infos:
        why = orphaned(info)
        if why is not None:
            gone = _remove(ctx, info, "orphaned", why, None)
            removed += [gone] if gone else []
    for session in sorted({r.session for r in removed if r.session}):
        try:  # the dead session's own network, once none of its containers uses it
            networks.remove_unused_networks(ctx, session)
        except ToolError as exc:
            log.warning("session %s: networks not removed: %s", session, exc.message)
    return removed


def sweep(ctx: Context) -> list[Removal]:
    """One sweep over every managed container of the engine: orphans first, then expired ones.

    Raises:
        ToolError: The engine could not list containers.
    """
    found = ctx.runtime.list_containers(lb.managed_filter())
    # A run's container ends itself at its deadline (core/run.py), and until then another
    # process may still read its result: sweeps leave it alone.
    infos = [i for i in found if lb.RUN_DEADLINE not in i.labels]
    reaped = reap(ctx, infos)
    gone = {r.container for r in reaped}
    expired = expire(ctx, [i for i in infos if i.name not in gone])
    ctx.activity.store.prune({i.id for i in found}, time.time())
    return reaped + expired


def _quiet_sweep(ctx: Context) -> None:
    try:
        sweep(ctx)
    except Exception:
        log.warning("sweep failed", exc_info=True)


class Housekeeper:
    """Sweeps once per engine per process at start-up, and removes expired containers lazily."""

    _started: set[str] = set()  # noqa: RUF012 - process-wide on purpose: one start-up sweep
    _guard = threading.Lock()

    def connected(self, ctx: Context) -> None:
        """Sweeps before the first operation goes on (one engine list, ~10-30 ms).

        In the foreground, not beside the first call: a short-lived process (the CLI) would cut
        a background sweep short, and the first call would race it on the same containers.
        """
        with self._guard:
            if ctx.runtime.name in self._started:
                return
            self._started.add(ctx.runtime.name)
        _quiet_sweep(ctx)

    def expired(self, ctx: Context, ref: Ref, last_active: float) -> NotFoundError | None:
        """Removes an expired container found by an operation; None when a job keeps it active."""
        if jobs_running(ctx, ref.id):
            ctx.activity.store.touch(ref.id, ref.name, ref.labels.get(lb.SESSION), time.time())
            return None
        info = ContainerInfo(ref.id, ref.name, "", "running", dict(ref.labels))
        limit = timeout_of(ref.labels) or 0.0
        with contextlib.suppress(ToolError):
            _remove(ctx, info, "expired", _idle(limit), last_active)
        stone = ctx.activity.store.tombstone(ref.name)
        return removed_error(stone) if stone is not None else ctx.not_found(ref.name)
