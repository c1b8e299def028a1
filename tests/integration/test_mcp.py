"""`containers-tool mcp` driven by the MCP SDK's own client, over stdio and streamable HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from tests.integration.conftest import BUSYBOX, unique, wait_until

SERVER = [sys.executable, "-m", "containers_tool", "mcp"]


def _env(engine: str) -> dict[str, str]:
    return {
        "CONTAINERS_TOOL_RUNTIME": engine,
        "CONTAINERS_TOOL_CONFIG": os.environ["CONTAINERS_TOOL_CONFIG"],
    }


def _with_session(engine: str, body: Callable[[ClientSession], Awaitable[Any]]) -> Any:
    """Runs `body` against a fresh stdio server; the server is gone when this returns."""
    params = StdioServerParameters(command=SERVER[0], args=SERVER[1:], env=_env(engine))

    async def run() -> Any:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await body(session)

    return anyio.run(run)


async def _call(session: ClientSession, **arguments: Any) -> tuple[bool, dict[str, Any]]:
    result = await session.call_tool("containers", arguments)
    envelope = json.loads(result.content[0].text)  # type: ignore[union-attr]
    assert result.structured_content == envelope
    return bool(result.is_error), envelope


def _exists(raw: Any, name: str) -> bool:
    return any(c.name == name for c in raw.containers.list(all=True))


def test_mcp_stdio_serves_one_tool_that_creates_execs_and_destroys(engine, raw):
    name = unique("mcp")

    async def body(session: ClientSession) -> None:
        tools = (await session.list_tools()).tools
        assert [t.name for t in tools] == ["containers"]
        schema = tools[0].input_schema
        assert schema["type"] == "object"
        assert {"create", "exec", "destroy"} <= set(schema["properties"]["operation"]["enum"])

        is_error, made = await _call(session, operation="create", image=BUSYBOX, name=name)
        assert not is_error
        assert made["ok"] is True
        assert made["runtime"] == engine
        assert made["session_id"].startswith("mcp-")

        is_error, ran = await _call(
            session, operation="exec", container=name, command="echo from-mcp; exit 3"
        )
        assert not is_error  # a non-zero exit is data
        assert ran["exit_code"] == 3
        assert ran["stdout"].strip() == "from-mcp"

        is_error, gone = await _call(session, operation="destroy", container=name)
        assert not is_error
        assert gone["destroyed"] == [name]

    _with_session(engine, body)
    assert not _exists(raw, name)


def test_mcp_failures_are_tool_errors_with_the_envelope(engine):
    async def body(session: ClientSession) -> None:
        is_error, missing = await _call(
            session, operation="exec", container=unique("absent"), command="true"
        )
        assert is_error
        assert missing["ok"] is False
        assert missing["error"]["code"] == "not_found"
        assert missing["error"]["field"] == "container"

        is_error, bad = await _call(session, operation="list", colour="red")
        assert is_error
        assert bad["error"]["code"] == "invalid_input"
        assert bad["error"]["field"] == "colour"

        other = await session.call_tool("bash", {"command": "ls"})
        assert other.is_error

    _with_session(engine, body)


def test_mcp_disconnect_removes_ephemeral_containers_and_keeps_persistent_ones(engine, raw, tool):
    ephemeral, persistent = unique("mcp-eph"), unique("mcp-keep")

    async def body(session: ClientSession) -> None:
        for name, keep in ((ephemeral, False), (persistent, True)):
            is_error, made = await _call(
                session, operation="create", image=BUSYBOX, name=name, persistent=keep
            )
            assert not is_error, made

    try:
        _with_session(engine, body)  # leaving it closes the server's stdin: a disconnect
        assert wait_until(lambda: not _exists(raw, ephemeral), timeout=20)
        assert _exists(raw, persistent)
    finally:
        tool.call("destroy", container=ephemeral)
        tool.call("destroy", container=persistent)


def _rpc(proc: subprocess.Popen[bytes], message: dict[str, Any]) -> dict[str, Any] | None:
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.write(json.dumps({"jsonrpc": "2.0", **message}).encode() + b"\n")
    proc.stdin.flush()
    return json.loads(proc.stdout.readline()) if "id" in message else None


def test_mcp_sigterm_removes_the_sessions_containers_while_the_client_is_connected(engine, raw):
    name = unique("mcp-term")
    with subprocess.Popen(
        SERVER,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **_env(engine)},
    ) as proc:
        try:
            _sigterm_scenario(proc, raw, name)
        finally:
            proc.kill()
    if _exists(raw, name):
        raw.containers.get(name).remove(force=True)


def _sigterm_scenario(proc: subprocess.Popen[bytes], raw: Any, name: str) -> None:
    init = {"protocolVersion": "2025-06-18", "capabilities": {}}
    init["clientInfo"] = {"name": "test", "version": "0"}
    assert "result" in (_rpc(proc, {"id": 1, "method": "initialize", "params": init}) or {})
    _rpc(proc, {"method": "notifications/initialized"})
    args = {"operation": "create", "image": BUSYBOX, "name": name}
    reply = _rpc(
        proc,
        {"id": 2, "method": "tools/call", "params": {"name": "containers", "arguments": args}},
    )
    assert reply is not None
    assert reply["result"]["isError"] is False
    assert _exists(raw, name)
    proc.send_signal(signal.SIGTERM)  # stdin stays open: only the signal ends it
    assert proc.wait(timeout=30) == 0
    assert not _exists(raw, name)


def test_mcp_streamable_http_on_localhost_ends_its_session_on_sigterm(engine, raw):
    name = unique("mcp-http")
    with subprocess.Popen(
        [*SERVER, "--http", "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **_env(engine)},
    ) as proc:
        try:
            _http_scenario(proc, engine, raw, name)
        finally:
            proc.kill()
    if _exists(raw, name):
        raw.containers.get(name).remove(force=True)


def _http_scenario(proc: subprocess.Popen[bytes], engine: str, raw: Any, name: str) -> None:
    assert proc.stderr is not None
    line = proc.stderr.readline().decode()
    match = re.search(r"http://127\.0\.0\.1:\d+/mcp", line)
    assert match, line

    async def run() -> None:
        async with (
            streamable_http_client(match.group(0)) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            assert [t.name for t in (await session.list_tools()).tools] == ["containers"]
            is_error, pre = await _call(session, operation="preflight")
            assert not is_error
            assert pre["runtime"] == engine
            is_error, made = await _call(session, operation="create", image=BUSYBOX, name=name)
            assert not is_error, made

    anyio.run(run)
    assert _exists(raw, name)  # over HTTP the session is the server's lifetime
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert not _exists(raw, name)
