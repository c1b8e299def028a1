"""Prometheus metrics over HTTP and from the CLI, and structured JSON logs, on both engines."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import BUSYBOX, absent, unique, wait_until
from tests.integration.test_mcp import _call, _http_session

CLI = [sys.executable, "-m", "containers_tool"]


def _env(engine: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "CONTAINERS_TOOL_RUNTIME": engine, **extra}


@contextlib.contextmanager
def _server(engine: str, log: Path) -> Iterator[str]:
    """`containers-tool mcp --http` on a free port (its stderr in `log`); yields the base URL."""
    with (
        log.open("wb") as err,
        subprocess.Popen(
            [*CLI, "mcp", "--http", "--port", "0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=_env(engine, CONTAINERS_TOOL_LOG_FORMAT="json", CONTAINERS_TOOL_LOG_LEVEL="info"),
        ) as proc,
    ):
        try:
            found: list[str] = []

            def announced() -> bool:
                found[:] = re.findall(r"http://127\.0\.0\.1:\d+", log.read_text(errors="replace"))
                return bool(found) or proc.poll() is not None

            assert wait_until(announced, timeout=60), log.read_text()
            assert found, log.read_text()
            yield found[0]
        finally:
            proc.kill()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    # A loopback URL the test's own server printed.
    with urllib.request.urlopen(url + "/metrics", timeout=30) as response:  # noqa: S310
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/plain")
        return _samples(response.read().decode())


def test_metrics_are_scraped_over_http_after_a_few_operations(engine, tool, tmp_path):
    name = unique("metrics")

    async def body(url: str) -> None:
        async with _http_session(url + "/mcp") as session:
            is_error, made = await _call(session, operation="create", image=BUSYBOX, name=name)
            assert not is_error, made
            for _ in range(2):
                is_error, ran = await _call(
                    session, operation="exec", container=name, command="true"
                )
                assert not is_error, ran
            is_error, _ = await _call(session, operation="status", container=unique("absent"))
            assert is_error
            # Scraped while the MCP session, and so its container, still exists: closing the
            # session removes it, and containers_active would then count only other tests'.
            scraped.append(await anyio.to_thread.run_sync(_scrape, url))

    scraped: list[dict[tuple[str, tuple[tuple[str, str], ...]], float]] = []
    try:
        with _server(engine, tmp_path / "server.log") as url:
            anyio.run(body, url)
            got = scraped[0]
            ops = "container_operations_total"
            assert got[(ops, (("operation", "create"), ("result", "ok")))] == 1
            assert got[(ops, (("operation", "exec"), ("result", "ok")))] == 2
            assert got[(ops, (("operation", "status"), ("result", "not_found")))] == 1
            hist = "container_operation_duration_seconds_count"
            assert got[(hist, (("operation", "exec"),))] == 2
            assert got[("containers_active", (("tenant", "default"),))] >= 1
        logged = [
            json.loads(line)
            for line in (tmp_path / "server.log").read_text().splitlines()
            if line.startswith("{")
        ]
        done = [e for e in logged if e["event"] == "operation.completed"]
        assert {e["operation"] for e in done} >= {"create", "exec"}
    finally:
        tool.call("destroy", container=name)


def test_metrics_command_prints_the_exposition(engine):
    done = subprocess.run(
        [*CLI, "metrics"], env=_env(engine), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    names = {f.name for f in text_string_to_metric_families(done.stdout)}
    assert {"container_operations", "container_operation_duration_seconds"} <= names
    assert "containers_active" in names


def _cli_call(engine: str, env: dict[str, str], call: dict[str, Any]) -> tuple[dict[str, Any], str]:
    done = subprocess.run(
        [*CLI, "call", json.dumps(call)],
        env=_env(engine, **env),
        capture_output=True,
        text=True,
        timeout=180,
    )
    return json.loads(done.stdout), done.stderr


def test_log_lines_are_json_events_with_their_fields_and_never_a_secret(engine, raw):
    name = unique("logs")
    forwarded, passed = f"fwd-{secrets.token_hex(8)}", f"arg-{secrets.token_hex(8)}"
    env = {
        "CONTAINERS_TOOL_LOG_FORMAT": "json",
        "CONTAINERS_TOOL_LOG_LEVEL": "debug",
        "H14_LOG_TEST_TOKEN": forwarded,
    }
    calls = [
        {
            "operation": "create",
            "image": BUSYBOX,
            "name": name,
            "env_passthrough": ["H14_LOG_TEST_TOKEN"],
            "env": {"PASSED_SECRET": passed},
        },
        {
            "operation": "exec",
            "container": name,
            "command": "echo $H14_LOG_TEST_TOKEN $PASSED_SECRET",
        },
        {"operation": "create", "image": BUSYBOX, "memory_limit": "lots"},
        {"operation": "exec", "container": unique("absent"), "command": f"echo {passed}"},
        {"operation": "destroy", "container": name},
    ]
    results, stderr = [], ""
    try:
        for call in calls:
            result, err = _cli_call(engine, env, call)
            results.append(result)
            stderr += err
    finally:
        if not absent(raw, name):
            raw.containers.get(name).remove(force=True)
    assert results[0]["ok"], results[0]
    assert forwarded in results[1]["stdout"]  # the values were there to leak
    assert passed in results[1]["stdout"]
    assert forwarded not in stderr
    assert passed not in stderr

    events = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    by_event: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        assert {"ts", "level", "event"} <= set(e)
        by_event.setdefault(e["event"], []).append(e)
    created = next(e for e in by_event["operation.completed"] if e["operation"] == "create")
    assert created["container"] == name
    assert created["session"] == "cli"
    assert created["duration_ms"] > 0
    assert created["result"] == "ok"
    failed = by_event["container.create.failed"][0]
    assert failed["error_code"] == "invalid_input"
    assert failed["field"] == "memory_limit"
    missing = by_event["operation.failed"][0]
    assert missing["operation"] == "exec"
    assert missing["error_code"] == "not_found"
    assert "duration_ms" in missing
