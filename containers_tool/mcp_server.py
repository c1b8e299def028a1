"""MCP server: the `containers` tool over stdio, or streamable HTTP on 127.0.0.1, owning a session.

One tool, not one per operation family: the operations share most fields and one envelope, the
dispatcher already validates each call against tool-schema.json and names the allowed fields in
its hints, and operations registered later appear without a server change. Its input schema is
`formats.flat_schema()` (see formats.py for why the top-level `allOf` is left out).

The server owns one tool session. Ephemeral containers it created are removed when the serve
loop ends for any reason: the client closes stdin (disconnects), SIGINT or SIGTERM. Persistent
ones (`persistent: true`) remain. Over HTTP the session is the server's lifetime, shared by its
clients.
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

from containers_tool import __version__
from containers_tool import labels as lb
from containers_tool.api import ContainersTool
from containers_tool.envelope import fail
from containers_tool.errors import InvalidInputError
from containers_tool.formats import TOOL_NAME, mcp_tool

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


def build_server(tool: ContainersTool) -> Server[Any]:
    """Returns a low-level MCP server exposing `tool` as the `containers` tool.

    Args:
        tool: The tool instance (and session) every call runs in.
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
        # Engine calls block; a worker thread keeps the server answering other requests.
        envelope = await anyio.to_thread.run_sync(tool.call_dict, arguments)
        return tool_result(envelope)

    return Server(
        SERVER_NAME,
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def _note(text: str) -> None:
    # stderr: stdout is the MCP stream over stdio.
    sys.stderr.write(f"containers-tool mcp: {text}\n")
    sys.stderr.flush()


class _Session:
    """Ends the tool's session once, whichever way the server stops."""

    def __init__(self, tool: ContainersTool) -> None:
        self.tool = tool
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
            removed = self.tool.close()
            _note(
                f"session {self.tool.session_id} ended; "
                f"removed {len(removed)} ephemeral container(s)"
            )


async def _serve_stdio(server: Server[Any], session: _Session) -> None:
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
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())
        tg.cancel_scope.cancel()  # stdin closed: the client is gone


async def _serve_http(server: Server[Any], session: _Session, port: int) -> None:
    import uvicorn  # only the HTTP transport needs it

    app = server.streamable_http_app(host=HOST)
    web = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="warning"))
    async with anyio.create_task_group() as tg:

        async def announce() -> None:
            while not web.started:
                await anyio.sleep(0.05)
            bound = web.servers[0].sockets[0].getsockname()[1] if web.servers else port
            _note(f"serving MCP on http://{HOST}:{bound}/mcp")

        tg.start_soon(announce)
        await web.serve()  # uvicorn handles SIGINT/SIGTERM with a graceful shutdown
        tg.cancel_scope.cancel()


def serve(
    *, http: bool = False, port: int = 8765, session_id: str | None = None, **settings: Any
) -> int:
    """Serves the tool until the client disconnects or a signal arrives; then ends the session.

    Args:
        http: Serve streamable HTTP on 127.0.0.1 instead of stdio.
        port: HTTP port (0 picks a free one, printed on stderr).
        session_id: Session to own; a fresh `mcp-…` one when omitted.
        **settings: Settings fields given explicitly.

    Returns:
        The process exit status.
    """
    session_name = session_id or "mcp-" + lb.new_session_id().removeprefix("s-")
    tool = ContainersTool(session_id=session_name, **settings)
    session = _Session(tool)
    server = build_server(tool)
    try:
        if http:
            # uvicorn handles SIGINT/SIGTERM itself, then re-raises them once it has stopped;
            # with these no-op handlers that re-raise lands here, and the session still ends.
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: None)
            anyio.run(_serve_http, server, session, port)
        else:
            anyio.run(_serve_stdio, server, session)
    except KeyboardInterrupt:
        pass
    finally:
        session.end()
    return 0
