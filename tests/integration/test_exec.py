"""exec on both engines: exit codes, separate streams, quoting, timeouts, bounded output."""

from __future__ import annotations

import asyncio

import pytest

from containers_tool import ContainersTool, acontainers
from tests.integration.conftest import BUSYBOX, wait_until


def test_exit_code_and_separate_streams(tool, box):
    result = tool.call("exec", container=box, command="echo out; echo err >&2; exit 3")
    assert result["ok"] is True
    assert (result["exit_code"], result["stdout"], result["stderr"]) == (3, "out\n", "err\n")
    assert (result["stdout_bytes"], result["stderr_bytes"]) == (4, 4)
    assert result["timed_out"] is False
    assert result["truncated"] is False


def test_argv_list_runs_without_a_shell(tool, box):
    result = tool.call("exec", container=box, command=["printf", "%s|", "a b", "$HOME", "c'd"])
    assert result["stdout"] == "a b|$HOME|c'd|"


def test_shell_string_quoting_is_preserved(tool, box):
    result = tool.call("exec", container=box, command="printf '%s\\n' 'a b' \"c'd\"")
    assert result["stdout"] == "a b\nc'd\n"


def test_env_and_workdir(tool, box):
    result = tool.call(
        "exec", container=box, command="echo $A; pwd", env={"A": "x y"}, workdir="/tmp"
    )
    assert result["stdout"] == "x y\n/tmp\n"


#: Children, grandchildren, and one that leaves the process group and clears its environment.
TREE = "sh -c 'sleep 300 & sleep 301 & wait' & setsid env -i sleep 302 & wait; echo never"


def test_timeout_kills_the_process_tree_inside_the_container(tool, box):
    result = tool.call("exec", container=box, command=TREE, timeout=1)
    assert result["timed_out"] is True
    assert result["exit_code"] is None
    assert "timeout" in result["hint"]
    left = tool.call("exec", container=box, command="ps -o args | grep -c '^sleep 30[012]' || true")
    assert left["stdout"].strip() == "0"


def test_timeout_kills_the_process_tree_of_a_non_root_command(tool):
    # The kill runs as root without CAP_SYS_PTRACE: it cannot read another uid's environment,
    # so the tree must be findable without it. (As root on the host, execs run as root and the
    # default tests cannot see this.)
    made = tool.call("create", image=BUSYBOX, user="1000:1000")
    name = made["container"]
    try:
        result = tool.call("exec", container=name, command=TREE, timeout=1)
        assert (result["timed_out"], result["exit_code"]) == (True, None)
        assert "may still be running" not in result["hint"]

        def tree_left() -> list[str]:
            ps = tool.call("exec", container=name, command=["ps", "-o", "user,args"], as_root=True)
            return [line for line in ps["stdout"].splitlines() if "sleep 30" in line]

        assert wait_until(lambda: not tree_left(), timeout=5), tree_left()
    finally:
        tool.call("destroy", container=name)


def test_as_root_keeps_root_powers_when_the_mapped_user_is_not_root(tool, engine):
    # Docker gives no capability to any exec, root ones included, of a container whose own user
    # is not root. A non-root host user (the usual case) would lose `as_root` installs and chown.
    made = tool.call("create", image=BUSYBOX, user="1000:1000")
    name = made["container"]
    try:
        plain = tool.call("exec", container=name, command="id -u; id -g")
        assert plain["stdout"] == "1000\n1000\n", plain
        script = "grep CapEff /proc/self/status; touch /tmp/f && chown 1000:1000 /tmp/f && id -u"
        root = tool.call("exec", container=name, command=script, as_root=True)
        assert root["exit_code"] == 0, root
        caps = int(root["stdout"].split()[1], 16)
        assert caps & (1 << 0), root  # CAP_CHOWN
        assert root["stdout"].endswith("\n0\n")
        assert tool.call("status", container=name)["user"] == "1000:1000"
        hint = tool.call("exec_interactive_hint", container=name)
        assert hint["user"] == "1000:1000"
        assert "1000:1000" in hint["command"]
        # Another tool of the session (as a new process would) finds the user from the labels.
        fresh = ContainersTool(runtime=engine, session_id=tool.session_id, reap_on_exit=False)
        try:
            again = fresh.call("exec", container=name, command="id -u")
            assert again["stdout"] == "1000\n", again
        finally:
            fresh.close()
    finally:
        tool.call("destroy", container=name)


def test_large_output_is_bounded_with_totals(tool, box):
    result = tool.call("exec", container=box, command="seq 1 100000")
    assert result["exit_code"] == 0
    assert result["truncated"] is True
    assert result["stdout_bytes"] == len("".join(f"{i}\n" for i in range(1, 100001)))
    assert result["stdout"].startswith("1\n2\n")
    assert result["stdout"].endswith("99999\n100000\n")
    assert "bytes omitted" in result["stdout"]
    assert len(result["stdout"]) < 20_000


def test_missing_command_is_exit_127_not_an_error(tool, box):
    result = tool.call("exec", container=box, command="no-such-command")
    assert result["ok"] is True
    assert result["exit_code"] == 127


def test_exec_in_stopped_container_is_a_clear_error(tool, raw):
    made = tool.call("create", image="localhost/base/busybox:latest")
    name = made["container"]
    stopped = raw.containers.get(name)
    stopped.stop(timeout=0)
    result = tool.call("exec", container=name, command="true")
    assert result["ok"] is False
    assert (result["error"]["code"], result["error"]["field"]) == ("conflict", "container")
    # The next calls to make, not the name-clash hint every 409 used to get.
    assert "status" in result["error"]["hint"]
    assert "destroy" in result["error"]["hint"]
    assert name in result["error"]["message"]
    assert stopped.id[:12] not in result["error"]["message"]
    tool.call("destroy", container=name)


def test_exec_in_a_missing_workdir_is_invalid_input(tool, box):
    for workdir in ("/nonexistent", "/etc/passwd"):
        result = tool.call("exec", container=box, command="pwd", workdir=workdir)
        assert (result["error"]["code"], result["error"]["field"]) == ("invalid_input", "workdir")
    # A command that is missing is still data (exit 127), not a workdir error.
    missing = tool.call("exec", container=box, command="no-such-command", workdir="/tmp")
    assert (missing["ok"], missing["exit_code"]) == (True, 127)


def test_async_entry_point_runs_concurrently(engine, monkeypatch):
    monkeypatch.setenv("CONTAINERS_TOOL_RUNTIME", engine)
    with ContainersTool(runtime=engine) as tool:
        name = tool.call("create", image="localhost/base/busybox:latest")["container"]

        async def both():
            return await asyncio.gather(
                tool.acall("exec", container=name, command="echo a"),
                tool.acall("exec", container=name, command="echo b"),
                acontainers("list"),
            )

        a, b, listed = asyncio.run(both())
        assert (a["stdout"], b["stdout"]) == ("a\n", "b\n")
        assert listed["ok"] is True


@pytest.mark.slow
def test_exec_silent_for_over_a_minute_completes(tool, box):
    # Past the engine clients' 60 s request timeout: an exec's stream may be silent for longer.
    result = tool.call("exec", container=box, command="sleep 65; echo done", timeout=120)
    assert result["ok"] is True, result
    assert (result["exit_code"], result["stdout"], result["timed_out"]) == (0, "done\n", False)


def test_timeout_whose_kill_fails_returns_without_waiting_for_the_command(tool):
    made = tool.call("create", image="localhost/base/busybox:latest")
    name = made["container"]
    # The kill runs through /bin/sh: without it the kill fails and only closing the stream is
    # left. Busybox's sleep and ps are separate links, so they still work.
    assert tool.call("exec", container=name, command=["rm", "/bin/sh"], as_root=True)["ok"]
    result = tool.call("exec", container=name, command=["sleep", "300"], timeout=1)
    assert (result["ok"], result["timed_out"], result["exit_code"]) == (True, True, None)
    assert "may still be running" in result["hint"]
    # It came back while the command was still running: it did not wait for it to end.
    ps = tool.call("exec", container=name, command=["ps", "-o", "args"])
    assert "sleep 300" in ps["stdout"]
    tool.call("destroy", container=name)
