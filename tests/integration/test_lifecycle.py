"""create/list/status/destroy/destroy_all/hint on both engines, checked with the raw SDK."""

from __future__ import annotations

import subprocess
import sys

import pytest

from containers_tool import ContainersTool
from containers_tool.settings import Settings
from tests.integration.conftest import BUSYBOX, DEBIAN, unique


def _raw_get(raw, name):
    try:
        return raw.containers.get(name)
    except Exception:  # noqa: BLE001 - NotFound differs per SDK
        return None


def test_create_reports_contract_and_applies_secure_defaults(tool, raw, engine):
    name = unique("life")
    made = tool.call(
        "create",
        name=name,
        image=BUSYBOX,
        memory_limit="1g",  # one of the default memory tiers
        cpu_limit=0.5,
        labels={"app": "test"},
        env={"GREETING": "hi"},
    )
    assert made["ok"], made
    assert made["container"] == name
    assert made["runtime"] == engine
    assert made["workdir"] == "/workspace"
    assert made["connect"].startswith(engine)
    assert all(step["status"] in ("success", "skipped") for step in made["provisioning"])
    attrs = raw.containers.get(name).attrs
    host = attrs["HostConfig"]
    assert host["Memory"] == 2**30
    assert host["NanoCpus"] == 500_000_000 or host.get("CpuQuota") == 50_000
    assert host["PidsLimit"] > 0
    assert not host["Privileged"]
    assert any("no-new-privileges" in opt for opt in host.get("SecurityOpt") or []) or (
        engine == "podman"
    )
    assert not any("docker.sock" in str(m) or "podman.sock" in str(m) for m in attrs["Mounts"])
    labels = attrs["Config"]["Labels"]
    assert labels["io.containers-tool.managed-by"] == "containers-tool"
    assert labels["io.containers-tool.session"] == tool.session_id
    assert labels["app"] == "test"
    ran = tool.call(
        "exec", container=name, command="echo $GREETING; cat /proc/1/cmdline | tr '\\0' ' '"
    )
    assert ran["stdout"].startswith("hi\n")
    assert "sleep" not in ran["stdout"].split("\n")[1].split()[0], "PID 1 is an init, not sleep"
    tool.call("destroy", container=name)


def test_podman_no_new_privileges_is_set(tool, engine):
    name = unique("nnp")
    assert tool.call("create", name=name, image=BUSYBOX)["ok"]
    ran = tool.call("exec", container=name, command="grep NoNewPrivs /proc/self/status")
    assert ran["stdout"].split() == ["NoNewPrivs:", "1"]
    tool.call("destroy", container=name)


def test_list_and_status_show_managed_containers(tool, box):
    listed = tool.call("list", session_id=tool.session_id)
    row = next(r for r in listed["containers"] if r["name"] == box)
    assert row["status"] == "running"
    assert row["session_id"] == tool.session_id
    assert row["persistent"] is False
    status = tool.call("status", container=box)
    assert status["state"] == "running"
    assert status["resources"]["memory_bytes"] == 2 * 2**30
    assert status["resources"]["pids_limit"] > 0
    assert status["started_at"]
    assert status["runtime"] in ("docker", "podman")


def test_destroy_removes_container_from_engine(tool, raw):
    name = unique("gone")
    assert tool.call("create", name=name, image=BUSYBOX)["ok"]
    assert tool.call("destroy", container=name) == {
        "ok": True,
        "operation": "destroy",
        "destroyed": [name],
    }
    assert _raw_get(raw, name) is None
    again = tool.call("destroy", container=name)
    assert again["error"]["code"] == "not_found"


def test_taken_name_is_conflict_and_existing_is_untouched(tool, box, raw):
    before = raw.containers.get(box).id
    result = tool.call("create", name=box, image=BUSYBOX)
    assert (result["error"]["code"], result["error"]["field"]) == ("conflict", "name")
    assert raw.containers.get(box).id == before
    assert raw.containers.get(box).status == "running"


def test_unknown_container_is_not_found_with_close_names(tool, box):
    result = tool.call("exec", container=box + "x", command="true")
    assert (result["error"]["code"], result["error"]["field"]) == ("not_found", "container")
    assert box in result["error"]["hint"]


def test_unmanaged_container_is_invisible_and_untouched(tool, raw):
    name = unique("foreign")
    foreign = raw.containers.create(BUSYBOX, ["sleep", "600"], name=name)
    try:
        names = [r["name"] for r in tool.call("list")["containers"]]
        assert name not in names
        for op, fields in [
            ("exec", {"command": "true"}),
            ("status", {}),
            ("destroy", {}),
            ("copy_out", {"source": "/etc", "destination": "/tmp/x"}),
        ]:
            result = tool.call(op, container=name, **fields)
            assert result["error"]["code"] == "not_found", (op, result)
        tool.call("destroy_all", confirm=True, session_id=tool.session_id)
        assert raw.containers.get(name).id == foreign.id
    finally:
        foreign.remove(force=True)


def test_missing_image_is_not_found_and_leaves_nothing(tool, raw):
    name = unique("noimg")
    result = ContainersTool(
        Settings(runtime=tool.settings.runtime, pull="never"),
        session_id=tool.session_id,
        reap_on_exit=False,
    ).call("create", name=name, image="localhost/nope/missing:1")
    assert (result["error"]["code"], result["error"]["field"]) == ("not_found", "image")
    assert _raw_get(raw, name) is None


def test_failed_create_removes_what_it_made(tool, raw):
    name = unique("half")
    result = tool.call("create", name=name, image=BUSYBOX, network="no-such-network-xyz")
    assert result["ok"] is False
    assert result["error"]["code"] in ("not_found", "engine_error")
    assert _raw_get(raw, name) is None


def test_engine_socket_mount_is_policy_denied(tool, raw):
    name = unique("sock")
    result = tool.call(
        "create", name=name, image=BUSYBOX, mounts=[{"source": "/var/run", "target": "/host-run"}]
    )
    assert (result["error"]["code"], result["error"]["field"]) == ("policy_denied", "mounts")
    privileged = tool.call("create", name=name, image=BUSYBOX, privileged=True)
    assert (privileged["error"]["code"], privileged["error"]["field"]) == (
        "policy_denied",
        "privileged",
    )
    assert _raw_get(raw, name) is None


def test_mount_cwd_shares_files_owned_by_host_user(tool, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = unique("cwd")
    assert tool.call("create", name=name, image=BUSYBOX, mount_cwd=True)["ok"]
    assert tool.call("exec", container=name, command="echo made > out.txt")["exit_code"] == 0
    out = tmp_path / "out.txt"
    assert out.read_text(encoding="utf-8") == "made\n"
    st = out.stat()
    import os

    assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid())
    tool.call("destroy", container=name)


def test_user_option_runs_commands_as_that_user_and_as_root_opts_out(tool):
    name = unique("uid")
    made = tool.call("create", name=name, image=BUSYBOX, user="1000:1000")
    assert made["ok"], made
    assert tool.call("exec", container=name, command="id -u")["stdout"] == "1000\n"
    assert tool.call("exec", container=name, command="id -u", as_root=True)["stdout"] == "0\n"
    touched = tool.call(
        "exec", container=name, command="touch /workspace/f && stat -c %u /workspace/f"
    )
    assert touched["stdout"] == "1000\n", "the mapped user owns its workdir"
    tool.call("destroy", container=name)


def test_published_port_is_reported(tool):
    name = unique("port")
    made = tool.call("create", name=name, image=BUSYBOX, ports=[{"container": 8080}])
    assert made["ok"], made
    assert made["ports"][0]["container"] == 8080
    assert made["ports"][0]["host"] > 0
    assert tool.call("status", container=name)["ports"] == made["ports"]
    tool.call("destroy", container=name)


def test_interactive_hint_names_shell_user_and_workdir(tool):
    name = unique("hint")
    assert tool.call("create", name=name, image=DEBIAN)["ok"]
    hint = tool.call("exec_interactive_hint", container=name)
    assert hint["shell"].startswith("/"), hint
    assert hint["shell"].endswith("/bash"), hint
    assert (
        tool.call("exec", container=name, command=["test", "-x", hint["shell"]])["exit_code"] == 0
    )
    assert name in hint["command"]
    assert hint["workdir"] == "/workspace"
    assert hint["user"] in hint["command"]
    tool.call("destroy", container=name)


def test_interactive_hint_names_the_absolute_path_of_sh_without_bash(tool, raw):
    name = unique("hintsh")
    assert tool.call("create", name=name, image=BUSYBOX)["ok"]
    hint = tool.call("exec_interactive_hint", container=name)
    assert hint["shell"] == "/bin/sh"
    code, _ = raw.containers.get(name).exec_run(["test", "-x", "/bin/sh"])[:2]
    assert code == 0
    tool.call("destroy", container=name)


def test_new_process_sees_and_destroys_containers(tool, raw, engine):
    name = unique("proc")
    assert tool.call("create", name=name, image=BUSYBOX, persistent=True)["ok"]
    code = (
        "import json,sys; from containers_tool import ContainersTool; "
        f"t=ContainersTool(runtime={engine!r}, reap_on_exit=False); "
        f"names=[r['name'] for r in t.call('list')['containers']]; "
        f"print(json.dumps([{name!r} in names, t.call('destroy', container={name!r})['ok']]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[true, true]"
    assert _raw_get(raw, name) is None


def test_session_end_removes_ephemeral_keeps_persistent(engine, raw):
    session = unique("sess")
    with ContainersTool(runtime=engine, session_id=session) as tool:
        eph = tool.call("create", image=BUSYBOX)["container"]
        keep = tool.call("create", image=BUSYBOX, persistent=True)["container"]
    assert _raw_get(raw, eph) is None
    assert _raw_get(raw, keep) is not None
    with ContainersTool(runtime=engine, session_id=session, reap_on_exit=False) as tool:
        gone = tool.call("destroy_all", confirm=True, session_id=session)
    assert gone["destroyed"] == [keep]
    assert _raw_get(raw, keep) is None


def test_process_exit_reaps_its_ephemeral_containers(engine, raw):
    code = (
        "from containers_tool import containers; import sys; "
        f"r=containers('create', image={BUSYBOX!r}); print(r['container'])"
    )
    env_runtime = {"CONTAINERS_TOOL_RUNTIME": engine}
    import os

    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env_runtime},
    )
    assert out.stdout.strip()
    assert _raw_get(raw, out.stdout.strip()) is None


GC_SCRIPT = """
import gc, os, sys
from containers_tool import ContainersTool

def make():
    tool = ContainersTool(runtime=sys.argv[1], session_id=sys.argv[2])
    made = tool.call("create", image=sys.argv[3])
    print(made["container"], flush=True)

make()  # the tool is dropped unclosed here
gc.collect()
os._exit(0)  # no atexit hooks: only the collected tool's finalizer can have removed it
"""


def test_a_collected_unclosed_tool_removes_its_ephemeral_containers(engine, raw):
    session = unique("gc")
    try:
        out = subprocess.run(
            [sys.executable, "-c", GC_SCRIPT, engine, session, BUSYBOX],
            capture_output=True,
            text=True,
            check=True,
        )
        name = out.stdout.strip()
        assert name, out.stderr
        assert _raw_get(raw, name) is None
    finally:
        with ContainersTool(runtime=engine, session_id=session) as tool:
            tool.call("destroy_all", confirm=True, session_id=session)


@pytest.mark.parametrize("scope", ["session"])
def test_destroy_all_scopes_to_a_session(engine, raw, scope):
    a, b = unique("sa"), unique("sb")
    with (
        ContainersTool(runtime=engine, session_id=a) as ta,
        ContainersTool(runtime=engine, session_id=b) as tb,
    ):
        ca = ta.call("create", image=BUSYBOX)["container"]
        cb = tb.call("create", image=BUSYBOX)["container"]
        assert ta.call("destroy_all", confirm=True, session_id=a)["destroyed"] == [ca]
        assert _raw_get(raw, cb) is not None


def test_close_during_a_create_leaves_no_container_of_the_session(engine, raw):
    import threading

    session = unique("closing")
    tool = ContainersTool(runtime=engine, session_id=session)
    started = threading.Event()
    results = []

    def make():
        started.set()
        results.append(tool.call("create", purpose="t-cache", cache_bust=True))

    worker = threading.Thread(target=make)
    worker.start()
    started.wait()
    tool.close()
    worker.join()
    assert results[0]["ok"] in (True, False)
    left = raw.containers.list(all=True, filters={"label": f"io.containers-tool.session={session}"})
    assert left == []
    after = tool.call("list")
    assert after["error"]["code"] == "runtime_unavailable"
