"""`containers-tool mcp` driven by the MCP SDK's own client, over stdio and streamable HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import anyio
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from tests.integration.conftest import BUSYBOX, unique, wait_until

SERVER = [sys.executable, "-m", "containers_tool", "mcp"]


def _env(engine: str) -> dict[str, str]:
    return {
        "CONTAINERS_TOOL_RUNTIME": engine,
        "CONTAINERS_TOOL_CONFIG": os.environ["CONTAINERS_TOOL_CONFIG"],
        "CONTAINERS_TOOL_STATE_DIR": os.environ["CONTAINERS_TOOL_STATE_DIR"],
        # The suite's quota (tests/conftest.py): parallel test files share the default tenant.
        "CONTAINERS_TOOL_MAX_CONTAINERS_PER_TENANT": os.environ[
            "CONTAINERS_TOOL_MAX_CONTAINERS_PER_TENANT"
        ],
    }


def _with_session(engine: str, body: Callable[[ClientSession], Awaitable[Any]], *flags: str) -> Any:
    """Runs `body` against a fresh stdio server; the server is gone when this returns."""
    params = StdioServerParameters(command=SERVER[0], args=[*SERVER[1:], *flags], env=_env(engine))

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
    # get, not list: a list resolves every container, and other tests remove theirs meanwhile.
    try:
        raw.containers.get(name)
    except Exception as exc:
        # docker.errors.NotFound, podman.errors.NotFound; Podman answers 500 "no such
        # container" for one that is being removed at that moment.
        if type(exc).__name__ == "NotFound" or "no such container" in str(exc):
            return False
        raise
    return True


def test_mcp_tenant_flag_serves_one_tenant(engine, raw, tool):
    tenant = f"t-{unique('mcp').removeprefix('mcp-')}"
    name = unique("mcp-tenant")
    theirs = tool.call("create", image=BUSYBOX, name=unique("mcp-default"), persistent=True)

    async def body(session: ClientSession) -> None:
        is_error, made = await _call(
            session, operation="create", image=BUSYBOX, name=name, persistent=True
        )
        assert not is_error, made
        is_error, listed = await _call(session, operation="list")
        assert [r["name"] for r in listed["containers"]] == [name]
        assert listed["tenant"] == tenant
        is_error, hidden = await _call(session, operation="status", container=theirs["container"])
        assert (is_error, hidden["error"]["code"]) == (True, "not_found")

    try:
        _with_session(engine, body, "--tenant", tenant)
        labels = raw.containers.get(name).labels
        assert labels["io.containers-tool.tenant"] == tenant
        assert name not in [r["name"] for r in tool.call("list")["containers"]]
    finally:
        raw.containers.get(name).remove(force=True)
        tool.call("destroy", container=theirs["container"])


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


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_mcp_signal_removes_the_sessions_containers_while_the_client_is_connected(
    engine, raw, signum
):
    name = unique("mcp-sig")
    with subprocess.Popen(
        SERVER,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **_env(engine)},
    ) as proc:
        try:
            _signal_scenario(proc, raw, name, signum)
        finally:
            proc.kill()
    if _exists(raw, name):
        raw.containers.get(name).remove(force=True)


def _signal_scenario(proc: subprocess.Popen[bytes], raw: Any, name: str, signum: int) -> None:
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
    proc.send_signal(signum)  # stdin stays open: only the signal ends it
    assert proc.wait(timeout=30) == 0
    assert not _exists(raw, name)


@contextlib.contextmanager
def _http_server(engine: str, *extra: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Runs `containers-tool mcp --http` on a free port; yields the process and its URL."""
    with subprocess.Popen(
        [*SERVER, "--http", "--port", "0", *extra],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **_env(engine)},
    ) as proc:
        try:
            assert proc.stderr is not None
            line = proc.stderr.readline().decode()
            match = re.search(r"http://127\.0\.0\.1:\d+/mcp", line)
            assert match, line
            yield proc, match.group(0)
        finally:
            proc.kill()


@contextlib.asynccontextmanager
async def _http_session(url: str, *, delete: bool = True) -> AsyncIterator[ClientSession]:
    """An MCP session over HTTP; `delete=False` leaves without ending it (a vanished client)."""
    async with (
        streamable_http_client(url, terminate_on_close=delete) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def test_mcp_http_gives_each_client_its_own_session_ended_by_delete_or_shutdown(engine, raw, tool):
    a_eph, a_keep, b_eph = unique("mcp-a"), unique("mcp-a-keep"), unique("mcp-b")
    seen: dict[str, Any] = {}

    async def run(url: str) -> None:
        async with _http_session(url, delete=False) as b:
            async with _http_session(url) as a:
                assert [t.name for t in (await a.list_tools()).tools] == ["containers"]
                is_error, pre = await _call(a, operation="preflight")
                assert not is_error
                assert pre["runtime"] == engine
                for name, keep in ((a_eph, False), (a_keep, True)):
                    is_error, made = await _call(
                        a, operation="create", image=BUSYBOX, name=name, persistent=keep
                    )
                    assert not is_error, made
                    seen["a"] = made["session_id"]
                is_error, made = await _call(b, operation="create", image=BUSYBOX, name=b_eph)
                assert not is_error, made
                seen["b"] = made["session_id"]
            # A deleted its MCP session: its ephemeral container is gone once DELETE returns.
            assert not _exists(raw, a_eph)
            assert _exists(raw, a_keep)
            assert _exists(raw, b_eph)  # B's session is another one, still open
            is_error, ran = await _call(b, operation="exec", container=b_eph, command="echo b")
            assert not is_error
            assert ran["stdout"].strip() == "b"

    try:
        with _http_server(engine) as (proc, url):
            anyio.run(run, url)
            assert seen["a"] != seen["b"]
            assert seen["a"].startswith("mcp-")
            assert _exists(raw, b_eph)  # B left without DELETE; the server still holds it
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
            assert not _exists(raw, b_eph)
            assert _exists(raw, a_keep)
    finally:
        for name in (a_eph, a_keep, b_eph):
            tool.call("destroy", container=name)


def test_mcp_http_session_of_a_vanished_client_ends_after_the_idle_timeout(engine, raw, tool):
    name = unique("mcp-idle")

    async def run(url: str) -> None:
        async with _http_session(url, delete=False) as session:
            is_error, made = await _call(session, operation="create", image=BUSYBOX, name=name)
            assert not is_error, made

    try:
        with _http_server(engine, "--idle-timeout", "2") as (proc, url):
            anyio.run(run, url)
            assert wait_until(lambda: not _exists(raw, name), timeout=30)
            assert proc.poll() is None  # the server keeps serving other clients

            async def again() -> None:
                async with _http_session(url) as session:
                    is_error, _ = await _call(session, operation="list")
                    assert not is_error

            anyio.run(again)
    finally:
        tool.call("destroy", container=name)
