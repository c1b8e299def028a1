"""Every way into a container starts in its workdir, whoever made the directory.

On Podman a keep-alive container on the default workdir is created in its image's WorkingDir
and the tool makes /workspace in its one post-start archive (a missing WorkingDir costs Podman
~45 ms at each start); on Docker the engine makes it at create. Callers see the same either
way: execs, jobs, sessions, runs, health checks, relative copies, the human's shell line,
status and snapshots all use /workspace, with the same owner and mode.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from containers_tool.api import ContainersTool
from tests.integration.conftest import BUSYBOX, unique

pytestmark = pytest.mark.slow

WHERE = 'pwd; stat -c "%u:%g %a" /workspace'


def _engine_workdir(raw: Any, name: str) -> str:
    return str(raw.containers.get(name).attrs["Config"].get("WorkingDir") or "")


def _job_output(tool: ContainersTool, name: str, command: str) -> str:
    job = tool.call("exec_background", container=name, command=command)
    assert job["ok"], job
    output, offset = "", 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        polled = tool.call("exec_poll", container=name, job_id=job["job_id"], offset=offset, wait=5)
        output, offset = output + str(polled["output"]), int(str(polled["offset"]))
        if not polled["running"]:
            return output
    raise AssertionError("the job never ended")


@pytest.mark.parametrize(("user", "owner"), [("0:0", "0:0 755"), ("1000:1000", "1000:1000 755")])
def test_every_way_in_starts_in_the_workdir_the_tool_made(tool, raw, engine, tmp_path, user, owner):
    name = unique("wd")
    made = tool.call("create", image=BUSYBOX, name=name, user=user)
    assert made["ok"], made
    try:
        assert made["workdir"] == "/workspace"
        # The shortcut is Podman's: the engine was told nothing, the archive made the directory.
        assert _engine_workdir(raw, name) == ("/" if engine == "podman" else "/workspace")
        ran = tool.call("exec", container=name, command=WHERE)
        assert ran["stdout"] == f"/workspace\n{owner}\n", ran
        assert tool.call("exec", container=name, command="mkdir sub")["exit_code"] == 0
        sub = tool.call("exec", container=name, command="pwd", workdir="sub")
        assert sub["stdout"] == "/workspace/sub\n", sub
        assert tool.call("exec", container=name, command=["pwd"])["stdout"] == "/workspace\n"
        assert _job_output(tool, name, "pwd") == "/workspace\n"
        shell = tool.call("exec", container=name, command="pwd", session="s")
        assert (shell["stdout"], shell["cwd"]) == ("/workspace\n", "/workspace"), shell
        source = tmp_path / "in.txt"
        source.write_text("relative\n")
        copied = tool.call("copy_in", container=name, source=str(source), destination="in.txt")
        assert copied["ok"], copied
        there = tool.call("exec", container=name, command="cat /workspace/in.txt")
        assert there["stdout"] == "relative\n"
        healthy = tool.call("wait_healthy", container=name, health_command="test -f in.txt")
        assert healthy["healthy"] is True, healthy
        assert tool.call("status", container=name)["workdir"] == "/workspace"
        hint = tool.call("exec_interactive_hint", container=name)
        assert hint["workdir"] == "/workspace", hint
        assert "/workspace" in hint["command"], hint
    finally:
        tool.call("destroy", container=name)


def test_a_run_command_starts_in_the_workdir(tool):
    done = tool.call("run", image=BUSYBOX, command=WHERE)
    assert done["ok"], done
    assert done["stdout"] == "/workspace\n0:0 755\n", done


def test_a_snapshot_keeps_the_workdir_and_its_restore_starts_there(tool, raw):
    src = tool.call("create", image=BUSYBOX, name=unique("wds"))
    assert src["ok"], src
    snap_name, restored = unique("wdsnap"), None
    try:
        tool.call("exec", container=src["container"], command="echo kept > state.txt")
        snap = tool.call("snapshot", container=src["container"], name=snap_name)
        assert snap["ok"], snap
        assert raw.images.get(snap["image"]).attrs["Config"]["WorkingDir"] == "/workspace"
        restored = tool.call("restore", snapshot=snap_name, name=unique("wdr"))
        assert restored["ok"], restored
        ran = tool.call("exec", container=restored["container"], command="pwd; cat state.txt")
        assert ran["stdout"] == "/workspace\nkept\n", ran
    finally:
        if restored and restored.get("ok"):
            tool.call("destroy", container=restored["container"])
        tool.call("destroy", container=src["container"])
        tool.call("delete_snapshot", snapshot=snap_name)


@pytest.mark.parametrize("workdir", ["/srv/app", "/data", "/tmp"])
def test_a_chosen_workdir_goes_to_the_engine_as_before(tool, raw, workdir):
    name = unique("wdc")
    made = tool.call("create", image=BUSYBOX, name=name, workdir=workdir)
    assert made["ok"], made
    try:
        assert _engine_workdir(raw, name) == workdir
        ran = tool.call("exec", container=name, command="pwd")
        assert ran["stdout"] == f"{workdir}\n", ran
    finally:
        tool.call("destroy", container=name)


def test_the_mounted_cwd_is_the_workdir(tool, raw, tmp_path, monkeypatch):
    (tmp_path / "host.txt").write_text("from the host\n")
    monkeypatch.chdir(tmp_path)
    name = unique("wdm")
    made = tool.call("create", image=BUSYBOX, name=name, mount_cwd=True, user="0:0")
    assert made["ok"], made
    try:
        assert _engine_workdir(raw, name) == "/workspace"
        ran = tool.call("exec", container=name, command="pwd; cat host.txt")
        assert ran["stdout"] == "/workspace\nfrom the host\n", ran
    finally:
        tool.call("destroy", container=name)
    assert Path(tmp_path / "host.txt").read_text() == "from the host\n"
