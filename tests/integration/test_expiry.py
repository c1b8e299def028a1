"""Idle expiry, keep_alive and the orphan reaper, on both engines, checked with the raw SDK."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime
from typing import Any

from containers_tool import labels as lb
from tests.integration.conftest import BUSYBOX, absent, unique, wait_until

CLI = [sys.executable, "-m", "containers_tool"]


def _env(engine: str) -> dict[str, str]:
    return {**os.environ, "CONTAINERS_TOOL_RUNTIME": engine}


def _reap(engine: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [*CLI, "--json", "reap"], env=_env(engine), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout)["removed"])


def _exists(raw: Any, name: str) -> bool:
    try:
        raw.containers.get(name)
    except Exception as exc:
        if type(exc).__name__ == "NotFound" or "no such container" in str(exc):
            return False
        raise
    return True


def _epoch(iso: object) -> float:
    assert isinstance(iso, str), iso
    return datetime.fromisoformat(iso).timestamp()


def _past(iso: object, margin: float = 1.2) -> bool:
    """Waits (polling) until the ISO time `iso` is `margin` seconds in the past.

    Results show times to the second (truncated): a margin over 1 s is past the real time.
    """
    deadline = _epoch(iso) + margin
    return wait_until(lambda: time.time() >= deadline, timeout=60, interval=0.1)


def test_idle_container_expires_while_one_running_a_background_job_does_not(engine, tool, raw):
    idle, busy = unique("idle"), unique("busy")
    try:
        for name in (idle, busy):
            made = tool.call("create", image=BUSYBOX, name=name, expires_after=2)
            assert made["ok"], made
            assert raw.containers.get(name).labels[lb.IDLE_TIMEOUT] == "2"
        job = tool.call("exec_background", container=busy, command="sleep 60")
        assert job["ok"], job
        shown = {c["name"]: c for c in tool.call("list", session_id=tool.session_id)["containers"]}
        for name in (idle, busy):
            last, expires = shown[name]["last_active_at"], shown[name]["expires_at"]
            assert _epoch(expires) - _epoch(last) == 2
        assert _past(shown[busy]["expires_at"])  # both are idle past their timeout now

        removed = {r["container"]: r for r in _reap(engine)}
        # Another process's sweep (a parallel test's tool start) may have removed it first.
        assert removed.get(idle, {"reason": "expired"})["reason"] == "expired"
        assert busy not in removed  # its running job is activity
        assert not _exists(raw, idle)
        assert raw.containers.get(busy).status == "running"

        gone = tool.call("status", container=idle)
        assert gone["error"]["code"] == "not_found"
        assert "expired at" in gone["error"]["message"]
        assert "create" in gone["error"]["hint"]
        assert gone["error"]["field"] == "container"
        still = tool.call("exec_poll", container=busy, job_id=job["job_id"])
        assert still["ok"], still
        assert still["state"] == "running"
    finally:
        tool.call("destroy", container=busy)


def test_a_command_running_in_a_shell_session_is_activity(engine, tool, raw):
    name = unique("shell")
    try:
        made = tool.call("create", image=BUSYBOX, name=name, expires_after=2)
        assert made["ok"], made
        deadline = tool.call("status", container=name)["expires_at"]
        results: list[dict[str, Any]] = []
        command = threading.Thread(
            target=lambda: results.append(
                tool.call("exec", container=name, session="work", command="sleep 8; echo done")
            )
        )
        command.start()
        try:
            assert _past(deadline, margin=2)  # idle past its timeout, but for the command
            assert name not in {r["container"] for r in _reap(engine)}
            assert _exists(raw, name)
        finally:
            command.join(timeout=60)
        assert results[0]["ok"], results[0]
        assert results[0]["stdout"].strip() == "done"
    finally:
        tool.call("destroy", container=name)


def test_keep_alive_resets_the_idle_clock(engine, tool, raw):
    name = unique("kept")
    try:
        made = tool.call("create", image=BUSYBOX, name=name, expires_after=20)
        assert made["ok"], made
        first = tool.call("status", container=name)
        # Times are shown to the second: keep_alive comes 10-11 s after the last activity, so
        # the reap below starts 9-10 s before the new deadline (a loaded machine starts a
        # Python process slowly), and after the first one.
        assert _past(first["last_active_at"], margin=11)
        kept = tool.call("keep_alive", container=name)
        assert kept["ok"], kept
        assert _epoch(kept["expires_at"]) > _epoch(first["expires_at"])
        assert _past(first["expires_at"])  # the first deadline is over
        assert name not in {r["container"] for r in _reap(engine)}
        assert _exists(raw, name)
    finally:
        tool.call("destroy", container=name)


def test_the_idle_clock_is_lazily_checked_when_an_operation_resolves_the_container(tool, raw):
    name = unique("lazy")
    made = tool.call("create", image=BUSYBOX, name=name, expires_after=1)
    assert made["ok"], made
    assert _past(tool.call("status", container=name)["expires_at"])
    ran = tool.call("exec", container=name, command="true")
    assert ran["error"]["code"] == "not_found"
    assert "expired" in ran["error"]["message"]
    assert not _exists(raw, name)


def test_persistent_containers_never_expire_unless_asked(tool, raw):
    name = unique("keep")
    try:
        made = tool.call("create", image=BUSYBOX, name=name, persistent=True)
        assert made["ok"], made
        assert lb.IDLE_TIMEOUT not in raw.containers.get(name).labels
        status = tool.call("status", container=name)
        assert status["expires_at"] is None
        assert status["last_active_at"] is not None
    finally:
        tool.call("destroy", container=name)


CHILD = """
import sys, time
from containers_tool import ContainersTool
tool = ContainersTool(runtime=sys.argv[1])
for name, keep in ((sys.argv[2], False), (sys.argv[3], True)):
    made = tool.call("create", image=sys.argv[4], name=name, persistent=keep)
    assert made["ok"], made
print("ready", flush=True)
time.sleep(600)
"""


def test_containers_of_a_killed_process_are_reaped_by_the_next_start(engine, tool, raw):
    orphan, persistent, live, cli = (unique(p) for p in ("orphan", "kept", "live", "cli"))
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, engine, orphan, persistent, BUSYBOX],
        stdout=subprocess.PIPE,
        env=_env(engine),
        text=True,
    ) as child:
        _killed_scenario(engine, tool, raw, child, orphan, persistent, live, cli)


def _killed_scenario(engine, tool, raw, child, orphan, persistent, live, cli):
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        labels = raw.containers.get(orphan).labels
        assert labels[lb.OWNER_PID] == str(child.pid)
        assert lb.OWNER_PID not in raw.containers.get(persistent).labels
        assert tool.call("create", image=BUSYBOX, name=live)["ok"]  # this live process's
        made = subprocess.run(
            [*CLI, "--json", "create", "--image", BUSYBOX, "--name", cli],
            env=_env(engine),
            capture_output=True,
            timeout=120,
        )
        assert made.returncode == 0, made.stderr
        assert lb.OWNER_PID not in raw.containers.get(cli).labels  # the CLI's shared session
        child.kill()  # SIGKILL: no atexit, no session end
        child.wait(timeout=30)

        # The next start of the tool (any command) sweeps before it exits.
        started = subprocess.run(
            [*CLI, "--json", "list"], env=_env(engine), capture_output=True, timeout=120
        )
        assert started.returncode == 0, started.stderr
        assert not _exists(raw, orphan)
        for survivor in (persistent, live, cli):
            assert _exists(raw, survivor), survivor
        assert not {persistent, live, cli} & {r["container"] for r in _reap(engine)}
        for survivor in (persistent, live, cli):
            assert _exists(raw, survivor), survivor

        gone = tool.call("status", container=orphan)
        assert gone["error"]["code"] == "not_found"
        assert f"owner process {child.pid}" in gone["error"]["message"]
    finally:
        child.kill()
        for name in (persistent, live):
            tool.call("destroy", container=name)
        # The CLI's container is in the CLI's session, which this tool cannot see.
        if not absent(raw, cli):
            raw.containers.get(cli).remove(force=True)
