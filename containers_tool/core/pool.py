"""The warm pool: ready containers per image or purpose, taken whole by a create that matches.

Setting `pool` (`{image or purpose: size}`) makes the tool keep that many containers per key
made by the create pipeline itself with the key's defaults (`create(image=key)` or
`create(purpose=key)` in this tool's session), started, with HOME, its passwd entry and the
workdir's owner set up, and nothing per-create: no forwarded file, secrets file or command.

Engines cannot change a container's labels (nor its hostname or env) after create, so a pooled
container is made with the labels, env, mounts, limits, user and hostname a plain create would
give it, and only a create whose container spec equals that one, apart from its name and
`created` label, takes it: the facts of the session are the pool's own, since the pool belongs
to this tool's session. Such a create has no `name` (the random one is drawn when the pooled
container is made, and is its hostname), no compose, session network, network, service or
cache_bust, and a numeric user. It renames the container from its pool name to that name,
writes its HOME files, runs its provisioning steps and returns; the pool refills behind it.

A pooled container is never handed out twice: the pool belongs to one process (its name, under
lb.POOL_PREFIX, is hidden from list and refused by every operation), and a lock there makes
taking one atomic. A rename by name is no atomic claim across processes (Docker resolves the
old name, then renames whatever the container is then called). Pooled containers carry the
session's labels, so they count against label-based quotas, and they are removed with the
session's other ephemeral containers when the tool closes or its process exits.
"""

from __future__ import annotations

import logging
import secrets
import threading
from contextlib import ExitStack
from dataclasses import dataclass, replace

from containers_tool import labels as lb
from containers_tool.context import Context
from containers_tool.core import create as pipeline
from containers_tool.errors import ToolError
from containers_tool.models.lifecycle import CreateInput
from containers_tool.runtime.types import ContainerSpec

log = logging.getLogger("containers_tool")

#: Seconds between tries after a fill failed (an engine error, a quota, a failed build).
RETRY_S = 30.0
#: Seconds close() waits for a fill in progress (a purpose image may be building).
CLOSE_WAIT_S = 30.0


@dataclass(frozen=True, slots=True)
class Member:
    """A pooled container: where it waits, the name it gets, and what it was made as."""

    id: str
    waiting_as: str
    name: str
    signature: ContainerSpec
    #: Its workdir/start report steps, which the create taking it reports as its own.
    steps: tuple[dict[str, object], ...]


def signature(spec: ContainerSpec) -> ContainerSpec:
    """The spec with what differs between two equal creates blanked: name, hostname, created."""
    labels = {k: v for k, v in spec.labels.items() if k != lb.CREATED}
    return replace(spec, name="", hostname="", labels=labels)


def eligible(args: CreateInput) -> bool:
    """Tells whether a pooled container can serve this create (see the module docstring)."""
    uid, _, gid = (args.user or "").partition(":")
    numeric = not args.user or (uid.isdigit() and (not gid or gid.isdigit()))
    wants_compose = args.compose_content is not None or args.compose_file is not None
    return (
        args.name is None
        and numeric
        and not (args.keep_command or args.cache_bust or wants_compose or args.session_network)
        and args.network is None
    )


class Pool:
    """This tool's pooled containers and the thread that refills them.

    Args:
        ctx: The tool's context (its session owns the pooled containers).
        sizes: Image or purpose -> how many to keep ready.
    """

    def __init__(self, ctx: Context, sizes: dict[str, int]) -> None:
        self._ctx = ctx
        self._sizes = {k: n for k, n in sizes.items() if n > 0}
        if ctx.settings.session_network:  # every create joins the session network: none match
            log.warning("warm pool off: session_network puts every create on its own network")
            self._sizes = {}
        self._members: dict[str, list[Member]] = {k: [] for k in self._sizes}
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._fill, name="containers-tool-pool", daemon=True)
        self._thread.start()

    def take(self, args: CreateInput, spec: ContainerSpec) -> Member | None:
        """Takes (and renames) a pooled container made as `spec` would be; None if there is none."""
        if not eligible(args):
            return None
        wanted = signature(spec)
        while True:
            with self._cond:
                found = next(
                    (
                        (k, m)
                        for k, ms in self._members.items()
                        for m in ms
                        if m.signature == wanted
                    ),
                    None,
                )
                if found is None:
                    return None
                self._members[found[0]].remove(found[1])
                self._cond.notify_all()  # the refill starts now
            member = found[1]
            try:
                self._ctx.runtime.rename_container(member.id, member.name)
            except ToolError as exc:  # removed meanwhile (destroy_all of the session): next
                log.info("pooled container %s unusable: %s", member.waiting_as, exc.message)
                continue
            return member

    def wait_full(self, timeout_s: float = 300.0) -> bool:
        """Waits until every key has its containers ready; tells whether they are."""
        with self._cond:
            return self._cond.wait_for(self._full, timeout=timeout_s)

    def close(self) -> None:
        """Stops refilling and removes the containers still waiting."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(CLOSE_WAIT_S)
        with self._cond:
            waiting = [m for ms in self._members.values() for m in ms]
            self._members = {k: [] for k in self._sizes}
        for member in waiting:
            try:
                self._ctx.runtime.remove_container(member.id)
            except ToolError as exc:
                log.warning("pooled container %s not removed: %s", member.waiting_as, exc.message)

    def _full(self) -> bool:
        return all(len(self._members[k]) >= n for k, n in self._sizes.items())

    def _next_key(self) -> str | None:
        with self._cond:
            self._cond.wait_for(lambda: self._closed or not self._full())
            if self._closed:
                return None
            return next(k for k, n in self._sizes.items() if len(self._members[k]) < n)

    def _fill(self) -> None:
        while (key := self._next_key()) is not None:
            try:
                member = self._make(key)
            except ToolError as exc:
                log.warning("warm pool %s: %s", key, exc.message)
                with self._cond:
                    self._cond.wait_for(lambda: self._closed, timeout=RETRY_S)
                continue
            except Exception:
                log.exception("warm pool %s failed unexpectedly", key)
                return
            with self._cond:
                if not self._closed:
                    self._members[key].append(member)
                    self._cond.notify_all()
                    continue
            self._ctx.runtime.remove_container(member.id)  # closed while it was being made

    def _make(self, key: str) -> Member:
        is_purpose = key in self._ctx.purposes.names()
        args = CreateInput(purpose=key) if is_purpose else CreateInput(image=key)
        draft = pipeline.plan_create(args, self._ctx)
        name, waiting_as = draft.name, f"{lb.POOL_PREFIX}{secrets.token_hex(6)}"
        # No per-create state: the create taking it brings its own files and secrets.
        draft.prov.files, draft.prov.config_files = [], []
        draft.spec = replace(draft.spec, name=waiting_as)  # the hostname stays `name`
        wanted = signature(draft.spec)
        with ExitStack() as undo:
            cid, _, _ = pipeline.make(self._ctx, draft, undo, provision=False)
            undo.pop_all()
        steps = tuple(s for s in draft.steps if s["step"] in ("workdir", "start"))
        return Member(cid, waiting_as, name, wanted, steps)
