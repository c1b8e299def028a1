"""Public entry points: `containers()`, `acontainers()` and the configurable `ContainersTool`."""

from __future__ import annotations

import asyncio
import atexit
import threading
import weakref
from typing import Any

from containers_tool import labels as lb
from containers_tool.context import Context
from containers_tool.core.containers import reap_session
from containers_tool.core.housekeeping import Housekeeper
from containers_tool.core.pool import Pool
from containers_tool.dispatch import dispatch
from containers_tool.envelope import fail
from containers_tool.errors import InvalidInputError, RuntimeUnavailableError
from containers_tool.provision import layers
from containers_tool.runtime.protocol import Runtime
from containers_tool.settings import Settings

_live: weakref.WeakSet[ContainersTool] = weakref.WeakSet()
#: How long close() waits for calls still running (an image build may take a while).
CLOSE_WAIT_S = 120.0


class _SessionEnd:
    """Ends a tool's session once: from close(), at exit, or when the tool is collected.

    It holds the context but never the tool, so a tool nobody closed can still be collected;
    its finalizer then removes the session's ephemeral containers instead of leaking them.
    """

    def __init__(self, ctx: Context, reap: bool) -> None:
        self.ctx = ctx
        self.reap = reap

    def __call__(self, parallel: bool = False) -> list[str]:
        removed: list[str] = []
        if self.ctx.pool is not None:  # pooled containers never outlive their process
            self.ctx.pool.close()
        if self.reap and self.ctx.connected:
            removed = reap_session(self.ctx, parallel=parallel)
        if self.ctx.connected:
            layers.wait()  # a derive in the background uses this connection
        self.ctx.close()
        return removed


class ContainersTool:
    """A configured tool instance that owns one session.

    Ephemeral containers of its session are removed by `close()`, on leaving a `with` block,
    when the instance is garbage-collected unclosed, and at normal interpreter exit;
    `persistent=true` containers survive.

    Args:
        settings: Settings; read from env and the user's YAML when omitted.
        session_id: The session this instance owns; a fresh one when omitted.
        backend: An already connected Runtime (custom backends); else one is discovered.
        reap_on_exit: Remove this session's ephemeral containers on close / exit.
        **overrides: Settings fields given explicitly (they beat env and YAML).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        session_id: str | None = None,
        backend: Runtime | None = None,
        reap_on_exit: bool = True,
        **overrides: Any,
    ) -> None:
        if session_id is not None and not lb.valid_session_id(session_id):
            raise InvalidInputError(
                f"session_id {session_id!r} is invalid.",
                hint="Use 1-64 letters, digits, '_', '.' or '-'.",
                field="session_id",
            )
        self.settings = settings or Settings(**overrides)
        self.session_id = session_id or lb.new_session_id()
        self._ctx = Context(self.settings, self.session_id, backend)
        if self.settings.pool:
            self._ctx.pool = Pool(self._ctx, self.settings.pool)
        self._ctx.housekeeper = Housekeeper()
        self._ctx.owns_session = reap_on_exit
        self._end = _SessionEnd(self._ctx, reap_on_exit)
        # Collected unclosed: end the session then. Exit is _close_all's (it waits for calls).
        self._finalizer = weakref.finalize(self, self._end)
        self._finalizer.atexit = False
        self._closed = False
        self._inflight = 0
        #: Guards the count of calls in flight; close() waits on it (with the lock itself: a
        #: Condition's own `with` is Python code, on every call).
        self._idle_lock = threading.Lock()
        self._idle = threading.Condition(self._idle_lock)
        _live.add(self)

    @property
    def reap_on_exit(self) -> bool:
        """Whether ending the session removes its ephemeral containers."""
        return self._end.reap

    @reap_on_exit.setter
    def reap_on_exit(self, value: bool) -> None:
        self._end.reap = value
        self._ctx.owns_session = value

    @property
    def context(self) -> Context:
        """The handler context (settings, runtime, session)."""
        return self._ctx

    def call(self, operation: str, **fields: Any) -> dict[str, object]:
        """Runs one operation; returns the envelope and never raises."""
        return self.call_dict({"operation": operation, **fields})

    def __call__(self, operation: str, **fields: Any) -> dict[str, object]:
        return self.call(operation, **fields)

    def call_dict(self, arguments: dict[str, Any]) -> dict[str, object]:
        """Runs one call given as a dict (e.g. a model's tool-call arguments)."""
        with self._idle_lock:
            if self._closed:
                op = arguments.get("operation") if isinstance(arguments, dict) else None
                return fail(
                    str(op or "unknown"),
                    RuntimeUnavailableError(
                        "This tool instance is closed; its session has ended.",
                        hint="Create a new ContainersTool (or restart the server).",
                    ),
                )
            self._inflight += 1
        try:
            return dispatch(self._ctx, arguments)
        finally:
            with self._idle_lock:
                self._inflight -= 1
                if self._closed:  # only close() waits, and it marks the tool closed first
                    self._idle.notify_all()

    async def acall(self, operation: str, **fields: Any) -> dict[str, object]:
        """Async twin of `call`: runs in a worker thread, so the event loop stays free."""
        return await asyncio.to_thread(self.call, operation, **fields)

    def close(self, *, _at_exit: bool = False) -> list[str]:
        """Ends the session: removes its ephemeral containers (if reaping) and disconnects.

        Returns:
            Names of the containers removed.
        """
        with self._idle:
            if self._closed:
                return []
            self._closed = True
            # A create still running would finish after the reap and outlive the session.
            self._idle.wait_for(lambda: self._inflight == 0, timeout=CLOSE_WAIT_S)
        if self._finalizer.detach() is None:
            return []  # already ended
        return self._end(parallel=not _at_exit)

    def __enter__(self) -> ContainersTool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_default: ContainersTool | None = None
_default_lock = threading.Lock()


def default_tool() -> ContainersTool:
    """Returns the process-wide tool used by `containers()` (built on first use)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = ContainersTool()
    return _default


def containers(operation: str, **fields: Any) -> dict[str, object]:
    """The tool: `containers(operation="create", ...)` returns a JSON-ready envelope, never raises.

    Args:
        operation: One of the operations in tool-schema.json.
        **fields: That operation's fields.
    """
    try:
        tool = default_tool()
    except Exception as exc:  # noqa: BLE001 - e.g. a broken settings file; still an envelope
        from containers_tool.errors import ToolError

        err = (
            exc
            if isinstance(exc, ToolError)
            else InvalidInputError(
                f"Settings could not be loaded: {str(exc).splitlines()[0]}",
                hint="Fix CONTAINERS_TOOL_* variables or the config YAML.",
            )
        )
        return fail(operation, err)
    return tool.call(operation, **fields)


async def acontainers(operation: str, **fields: Any) -> dict[str, object]:
    """Async twin of `containers()`."""
    return await asyncio.to_thread(containers, operation, **fields)


@atexit.register
def _close_all() -> None:
    for tool in list(_live):
        tool.close(_at_exit=True)
