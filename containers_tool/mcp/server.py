"""MCP server: the `containers` tool over stdio, or streamable HTTP on 127.0.0.1.

One tool, not one per operation family: the operations share most fields and one envelope, the
dispatcher already validates each call against tool-schema.json and names the allowed fields in
its hints, and operations registered later appear without a server change. Its input schema is
`formats.flat_schema()` (see formats.py for why the top-level `allOf` is left out).

Sessions (see mcp/sessions.py): over stdio the server owns one tool session, ended when the
client closes stdin (disconnects), on SIGINT or SIGTERM. Over streamable HTTP each MCP session
gets its own tool session, ended when the client deletes the MCP session, when it idles out, or
when the server stops. Ending a session removes its ephemeral containers; persistent ones
(`persistent: true`) remain.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from typing import Any

import anyio
import anyio.to_thread
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from containers_tool import __version__, logs, metrics
from containers_tool import labels as lb
from containers_tool.api import ContainersTool
from containers_tool.core import housekeeping
from containers_tool.envelope import fail
from containers_tool.errors import InvalidInputError
from containers_tool.formats import TOOL_NAME, mcp_tool
from containers_tool.mcp.metrics import serve_metrics
from containers_tool.mcp.sessions import DEFAULT_IDLE_TIMEOUT_S, SessionTools, note
from containers_tool.settings import Settings

log = logging.getLogger("containers_tool.mcp")

SERVER_NAME = "containers-tool"
HOST = "127.0.0.1"
INSTRUCTIONS = (
    "Isolated Docker/Podman containers through one tool, `containers`. Call preflight first, "
    "then create, exec, and destroy when done. Every result is a JSON envelope; on an error "
    "follow error.hint. Containers you create are removed when this session ends unless "
    "created with persistent: true."
)


def tool_result(envelope: dict[str, object]) -> types.CallToolResult:
    """Wraps an envelope as an MCP tool result; `ok: false` becomes a tool error (`isError`)."""
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=json.dumps(envelope, ensure_ascii=False))],
        structured_content=envelope,
        is_error=envelope.get("ok") is not True,
    )


def lifetime_note(envelope: dict[str, object], http: bool, idle_s: float) -> dict[str, object]:
    """Adds to an ephemeral create's result when its container ends, and how to keep it.

    Some clients (the MCP Inspector) never end their HTTP sessions, so their containers last
    until the idle timeout: the agent should know, and know about persistent.
    """
    if envelope.get("operation") != "create" or not envelope.get("ok"):
        return envelope
    if envelope.get("persistent"):
        return envelope
    ends = (
        f"when this MCP session ends (the client deletes it, or after {idle_s:g} s without a "
        "request)"
        if http
        else "when this MCP server's client disconnects"
    )
    name = envelope.get("container")
    note = f"{name} is removed {ends}; create it with persistent: true to keep it."
    return {**envelope, "lifetime": note}


def build_server(tools: SessionTools) -> Server[Any]:
    """Returns a low-level MCP server exposing the `containers` tool.

    Args:
        tools: The tool sessions; each call runs in its MCP session's (over HTTP) or in the
            server's own (over stdio).
    """
    definition = types.Tool.model_validate(mcp_tool())

    async def list_tools(
        ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[definition])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name != TOOL_NAME:
            error = InvalidInputError(
                f"Unknown tool {params.name!r}.", hint=f"Call the {TOOL_NAME!r} tool.", field=None
            )
            return tool_result(fail("unknown", error))
        arguments = dict(params.arguments or {})
        request = getattr(ctx, "request", None)  # the HTTP request; None over stdio
        headers = getattr(request, "headers", None)
        tool = tools.tool_for(headers.get("mcp-session-id") if headers is not None else None)
        # Engine calls block; a worker thread keeps the server answering other requests.
        envelope = await anyio.to_thread.run_sync(tool.call_dict, arguments)
        return tool_result(lifetime_note(envelope, headers is not None, tools.idle_timeout))

    return Server(
        SERVER_NAME,
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


class _Shutdown:
    """Ends every tool session once, whichever way the server stops."""

    def __init__(self, tools: SessionTools) -> None:
        self.tools = tools
        self._lock = threading.Lock()
        self._ended = False

    def end(self) -> None:
        with self._lock:
            if self._ended:
                return
            self._ended = True
            if threading.current_thread() is threading.main_thread():
                # Reaping must finish even if the client repeats its signal. (On the signal
                # path the event loop's receiver already holds SIGINT and SIGTERM.)
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
            self.tools.end_all("server stopped")


async def _serve_stdio(server: Server[Any], session: _Shutdown) -> None:
    async def on_signal() -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                await anyio.to_thread.run_sync(session.end)
                # The transport's reader thread is blocked reading stdin, which no signal
                # interrupts, so a clean return would wait for the client to close it.
                sys.stdout.flush()
                os._exit(0)

    async with anyio.create_task_group() as tg:
        tg.start_soon(on_signal)
        tg.start_soon(_housekeeping, session.tools)
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())
        tg.cancel_scope.cancel()  # stdin closed: the client is gone


async def _serve_http(server: Server[Any], tools: SessionTools, port: int) -> None:
    import uvicorn  # only the HTTP transport needs it

    sdk_app = server.streamable_http_app(host=HOST, session_idle_timeout=tools.idle_timeout)
    app = serve_metrics(tools.asgi(sdk_app))
    web = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="warning"))
    async with anyio.create_task_group() as tg:

        async def announce() -> None:
            while not web.started:
                await anyio.sleep(0.05)
            bound = web.servers[0].sockets[0].getsockname()[1] if web.servers else port
            note(f"serving MCP on http://{HOST}:{bound}/mcp")

        tg.start_soon(announce)
        tg.start_soon(tools.sweep)
        tg.start_soon(_housekeeping, tools)
        await web.serve()  # uvicorn handles SIGINT/SIGTERM with a graceful shutdown
        tg.cancel_scope.cancel()


async def _housekeeping(tools: SessionTools) -> None:
    """Sweeps expired and orphaned containers every `sweep_interval` seconds, until cancelled."""
    tool = tools.shared()
    while True:
        await anyio.sleep(tool.settings.sweep_interval)
        try:
            await anyio.to_thread.run_sync(housekeeping.sweep, tool.context)
        except Exception:
            log.warning("periodic sweep failed", exc_info=True)


def serve(
    *,
    http: bool = False,
    port: int = 8765,
    session_id: str | None = None,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT_S,
    **settings: Any,
) -> int:
    """Serves the tool until the client disconnects or a signal arrives; then ends its sessions.

    Args:
        http: Serve streamable HTTP on 127.0.0.1 instead of stdio.
        port: HTTP port (0 picks a free one, printed on stderr).
        session_id: The server's session; a fresh `mcp-…` one when omitted. Over HTTP each
            MCP session owns `<session_id>-<n>`.
        idle_timeout: HTTP: seconds without a request after which an MCP session ends.
        **settings: Settings fields given explicitly.

    Returns:
        The process exit status.

    Raises:
        pydantic.ValidationError: The settings are invalid (before anything is served).
    """
    session_name = session_id or "mcp-" + lb.new_session_id().removeprefix("s-")
    if not lb.valid_session_id(session_name):
        raise InvalidInputError(
            f"session_id {session_name!r} is invalid.",
            hint="Use 1-64 letters, digits, '_', '.' or '-'.",
            field="session_id",
        )
    resolved = Settings(**settings)  # invalid settings fail here, not at the first call
    logs.configure(resolved)
    tools = SessionTools(
        session_name, lambda sid: ContainersTool(resolved, session_id=sid), idle_timeout
    )
    shutdown = _Shutdown(tools)
    metrics.watch_context(
        tools.shared().context
    )  # containers_active counts through the server's own connection
    server = build_server(tools)
    try:
        if http:
            # uvicorn handles SIGINT/SIGTERM itself, then re-raises them once it has stopped;
            # with these no-op handlers that re-raise lands here, and the sessions still end.
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: None)
            anyio.run(_serve_http, server, tools, port)
        else:
            tools.shared()
            anyio.run(_serve_stdio, server, shutdown)
    except KeyboardInterrupt:
        pass
    finally:
        shutdown.end()
    return 0
