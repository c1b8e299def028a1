"""Tool sessions of the MCP server: one per MCP session over streamable HTTP, one over stdio.

Over stdio the client is the process on the other end of the pipe, so the server has one tool
session and ends it when the pipe closes or a signal arrives. Over streamable HTTP several
clients share the server, and each MCP session (the `mcp-session-id` the server hands out at
initialize) gets its own tool session, made on its first tool call and ended when the MCP
session ends:

- the client ends it (HTTP DELETE), or the server answers 404 for it (it no longer knows it);
- it idles out: no HTTP request in flight for `idle_timeout` seconds. The SDK's session manager
  is given the same timeout, so it forgets the session at the same moment;
- the server stops.

The SDK (mcp 2.x) has no public per-session close hook for low-level handlers (a connection's
`exit_stack` is not reachable from the request context), so the ends are observed where the
protocol makes them visible: on the HTTP requests themselves, by an ASGI wrapper around the
SDK's app. Requests without a session id (the stateless, modern protocol) run in the server's
own session, which ends when the server stops.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread

from containers_tool.api import ContainersTool

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The SDK's default: a client that vanished without a DELETE is reaped after 30 minutes.
DEFAULT_IDLE_TIMEOUT_S = 30 * 60.0
SESSION_HEADER = b"mcp-session-id"
#: Session ids are label values of at most 64 characters.
SESSION_ID_MAX = 64


def note(text: str) -> None:
    """Writes one line for the operator on stderr (stdout is the MCP stream over stdio)."""
    sys.stderr.write(f"containers-tool mcp: {text}\n")
    sys.stderr.flush()


class SessionTools:
    """The server's tool sessions: its own, and one per MCP session over HTTP.

    Args:
        session_id: The server's own session; per-MCP-session ones are `<session_id>-<n>`.
        make_tool: Builds a tool owning the given session id.
        idle_timeout: Seconds without a request in flight after which an MCP session ends.
    """

    def __init__(
        self,
        session_id: str,
        make_tool: Callable[[str], ContainersTool],
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT_S,
    ) -> None:
        self.session_id = session_id
        self.idle_timeout = idle_timeout
        self._make = make_tool
        self._lock = threading.Lock()
        self._shared: ContainersTool | None = None
        self._tools: dict[str, ContainersTool] = {}
        self._ended: set[str] = set()
        self._count = 0
        self._inflight: dict[str, int] = {}
        self._last: dict[str, float] = {}
        self._closed = False

    def shared(self) -> ContainersTool:
        """Returns the server's own tool (stdio, and HTTP requests without an MCP session)."""
        with self._lock:
            if self._shared is None:
                self._shared = self._make(self.session_id)
            return self._shared

    def tool_for(self, mcp_session: str | None) -> ContainersTool:
        """Returns the tool of an MCP session, made on first use; an ended session's is closed."""
        if mcp_session is None:
            return self.shared()
        with self._lock:
            tool = self._tools.get(mcp_session)
            if tool is None:
                self._count += 1
                suffix = f"-{self._count}"
                tool = self._make(self.session_id[: SESSION_ID_MAX - len(suffix)] + suffix)
                if mcp_session in self._ended or self._closed:
                    tool.close()  # never revive an ended session: its calls get an error
                else:
                    self._tools[mcp_session] = tool
                    self._last.setdefault(mcp_session, time.monotonic())
            return tool

    def end(self, mcp_session: str, why: str) -> list[str]:
        """Ends one MCP session's tool session: removes its ephemeral containers."""
        with self._lock:
            self._ended.add(mcp_session)
            tool = self._tools.pop(mcp_session, None)
            self._inflight.pop(mcp_session, None)
            self._last.pop(mcp_session, None)
        if tool is None:
            return []
        return self._close(tool, why)

    def end_all(self, why: str) -> None:
        """Ends every tool session, the server's own last; later calls get a closed tool."""
        with self._lock:
            self._closed = True
            tools = list(self._tools.values())
            self._ended.update(self._tools)
            self._tools.clear()
            shared, self._shared = self._shared, None
        if tools:
            with ThreadPoolExecutor(max_workers=min(8, len(tools))) as pool:
                list(pool.map(lambda t: self._close(t, why), tools))
        if shared is not None:
            self._close(shared, why)

    @staticmethod
    def _close(tool: ContainersTool, why: str) -> list[str]:
        removed = tool.close()
        note(
            f"session {tool.session_id} ended ({why}); "
            f"removed {len(removed)} ephemeral container(s)"
        )
        return removed

    def idle(self, now: float | None = None) -> list[str]:
        """MCP sessions with no request in flight for `idle_timeout` seconds."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return [
                sid
                for sid in self._tools
                if not self._inflight.get(sid)
                and now - self._last.get(sid, now) >= self.idle_timeout
            ]

    def _begin(self, mcp_session: str) -> None:
        with self._lock:
            self._inflight[mcp_session] = self._inflight.get(mcp_session, 0) + 1

    def _finish(self, mcp_session: str) -> None:
        with self._lock:
            left = self._inflight.get(mcp_session, 1) - 1
            if left > 0:
                self._inflight[mcp_session] = left
            else:
                self._inflight.pop(mcp_session, None)
            if mcp_session in self._tools:
                self._last[mcp_session] = time.monotonic()

    def asgi(self, app: ASGIApp) -> ASGIApp:
        """Wraps the SDK's app: counts requests per MCP session and sees each session end."""

        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            raw = dict(scope["headers"]).get(SESSION_HEADER)
            if raw is None:
                await app(scope, receive, send)
                return
            sid = raw.decode("latin-1")
            deleting = scope["method"] == "DELETE"
            held: list[Message] = []
            status: int | None = None

            async def watch(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                if deleting:
                    held.append(message)  # answered once the session's containers are gone
                else:
                    await send(message)

            self._begin(sid)
            try:
                await app(scope, receive, watch)
            finally:
                self._finish(sid)
            if deleting and status is not None and status < 300:
                await anyio.to_thread.run_sync(self.end, sid, "client ended the MCP session")
            elif status == 404 and sid in self._tools:
                await anyio.to_thread.run_sync(self.end, sid, "MCP session unknown to the server")
            for message in held:
                await send(message)

        return wrapped

    async def sweep(self) -> None:
        """Ends idle MCP sessions until cancelled (run beside the HTTP server)."""
        period = min(max(self.idle_timeout / 4, 0.05), 5.0)
        while True:
            await anyio.sleep(period)
            for sid in self.idle():
                await anyio.to_thread.run_sync(self.end, sid, "idle timeout")


def idle_timeout(value: str) -> float:
    """Parses a positive, finite number of seconds (the CLI's `--idle-timeout`)."""
    seconds = float(value)
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"idle timeout {value!r} is not a positive number of seconds")
    return seconds
