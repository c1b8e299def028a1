"""The MCP server's session bookkeeping over HTTP: one tool session per MCP session, idle ends.

No engine is needed: the tools point at an engine address that does not exist and are never
connected (the integration tests in tests/integration/test_mcp.py drive a real server).
"""

from __future__ import annotations

import time
from typing import Any

import anyio

from containers_tool import ContainersTool
from containers_tool.mcp.sessions import SessionTools
from containers_tool.settings import Settings

OFFLINE = Settings(runtime="docker", docker_host="unix:///nonexistent/docker.sock")


def _tools(idle: float = 60.0) -> SessionTools:
    return SessionTools("mcp-test", lambda sid: ContainersTool(OFFLINE, session_id=sid), idle)


def test_each_mcp_session_gets_its_own_tool_session_and_keeps_it():
    tools = _tools()
    a, b = tools.tool_for("aaa"), tools.tool_for("bbb")
    assert a is tools.tool_for("aaa")
    assert {a.session_id, b.session_id} == {"mcp-test-1", "mcp-test-2"}
    assert tools.tool_for(None) is tools.shared()
    assert tools.shared().session_id == "mcp-test"
    tools.end_all("test")


def _closed(tool: ContainersTool) -> bool:
    # preflight never fails on an open tool (it reports ready: false); a closed tool refuses it.
    return tool.call("preflight")["ok"] is False


def test_an_ended_mcp_session_is_never_revived():
    tools = _tools()
    assert not _closed(tools.tool_for("aaa"))
    tools.end("aaa", "test")
    late = tools.tool_for("aaa").call("preflight")
    assert late["ok"] is False
    assert late["error"]["code"] == "runtime_unavailable"  # the session's tool is closed
    tools.end_all("test")
    after = tools.tool_for("ccc").call("preflight")
    assert after["error"]["code"] == "runtime_unavailable"


def test_a_session_is_idle_only_with_no_request_in_flight_for_the_timeout():
    tools = _tools(idle=10.0)
    tools.tool_for("aaa")
    assert tools.idle() == []
    assert tools.idle(time.monotonic() + 11) == ["aaa"]

    release = anyio.Event()
    seen: list[list[str]] = []

    async def slow_app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(tools.idle(time.monotonic() + 11))  # while this request is in flight
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def sent(message: Any) -> None:
        pass

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    async def run() -> None:
        scope = {"type": "http", "method": "GET", "headers": [(b"mcp-session-id", b"aaa")]}
        async with anyio.create_task_group() as tg:
            tg.start_soon(tools.asgi(slow_app), scope, receive, sent)
            await anyio.wait_all_tasks_blocked()
            release.set()

    anyio.run(run)
    assert seen == [[]]  # a request in flight (an open GET stream) keeps the session alive
    assert tools.idle() == []  # the clock restarts when the last request ends
    assert tools.idle(time.monotonic() + 11) == ["aaa"]
    tools.end_all("test")


def test_an_accepted_delete_ends_the_session_before_it_is_answered():
    tools = _tools()
    tool = tools.tool_for("aaa")
    assert not _closed(tool)
    order: list[str] = []

    async def sdk(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def sent(message: Any) -> None:
        order.append(f"{message['type']} closed={_closed(tool)}")

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "DELETE", "headers": [(b"mcp-session-id", b"aaa")]}
    anyio.run(tools.asgi(sdk), scope, receive, sent)
    assert order == ["http.response.start closed=True", "http.response.body closed=True"]
    tools.end_all("test")
