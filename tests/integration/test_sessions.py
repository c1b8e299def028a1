"""exec with session= on both engines: state carries over, bad commands and timeouts do not
break the session, output is bounded, status lists sessions, close_session and destroy end them."""

from __future__ import annotations

import threading

import pytest

from containers_tool import ContainersTool
from tests.integration.conftest import BUSYBOX, DEBIAN, unique, wait_until


@pytest.fixture
def deb(tool):
    """A running Debian container (bash) made by the tool, removed after the test."""
    made = tool.call("create", image=DEBIAN, name=unique("deb"))
    assert made["ok"], made
    yield str(made["container"])
    tool.call("destroy", container=made["container"])


def sh(tool, container, command, session="s", **fields):
    result = tool.call("exec", container=container, command=command, session=session, **fields)
    assert result["ok"] is True, result
    return result


def _shells(tool, container):
    # argv form: no shell of the tool's own shows up in the listing.
    listed = tool.call("exec", container=container, command=["ps", "-o", "args"])
    return [line for line in listed["stdout"].splitlines() if line.strip() in ("sh", "bash")]


@pytest.mark.parametrize("image", [BUSYBOX, DEBIAN], ids=["ash", "bash"])
def test_session_keeps_cwd_exported_and_plain_variables(tool, image):
    made = tool.call("create", image=image, name=unique("st"))
    box = made["container"]
    try:
        first = sh(tool, box, "cd /tmp && export A='x y'; B=plain")
        assert (first["exit_code"], first["session_started"], first["cwd"]) == (0, True, "/tmp")
        second = sh(tool, box, 'pwd; echo "$A"; echo "$B"; sh -c \'echo "$A"\'')
        assert second["stdout"] == "/tmp\nx y\nplain\nx y\n"
        assert (second["session_started"], second["session_restarted"]) == (False, False)
    finally:
        tool.call("destroy", container=box)


def test_session_keeps_a_sourced_venv_its_functions_and_path(tool, deb):
    sh(
        tool,
        deb,
        "mkdir -p /tmp/venv/bin && printf '#!/bin/sh\\necho venv-tool\\n' > /tmp/venv/bin/vt "
        "&& chmod +x /tmp/venv/bin/vt && printf '%s\\n' 'export VIRTUAL_ENV=/tmp/venv' "
        "'export PATH=\"$VIRTUAL_ENV/bin:$PATH\"' 'deactivate() { echo deactivated; }' "
        "> /tmp/venv/bin/activate",
    )
    sh(tool, deb, ". /tmp/venv/bin/activate")
    result = sh(tool, deb, "echo $VIRTUAL_ENV; vt; deactivate")
    assert result["stdout"] == "/tmp/venv\nvenv-tool\ndeactivated\n"


def test_exit_ends_only_the_command_and_streams_stay_apart(tool, box):
    sh(tool, box, "export KEEP=1")
    result = sh(tool, box, "echo out; echo err >&2; exit 3; echo after")
    assert (result["exit_code"], result["stdout"], result["stderr"]) == (3, "out\n", "err\n")
    assert (result["stdout_bytes"], result["stderr_bytes"]) == (4, 4)
    assert (result["timed_out"], result["truncated"], result["session_restarted"]) == (
        False,
        False,
        False,
    )
    assert sh(tool, box, "echo $KEEP")["stdout"] == "1\n"


def test_output_without_trailing_newline_and_argv_lists(tool, box):
    result = sh(tool, box, "printf a; printf b >&2")
    assert (result["stdout"], result["stderr"]) == ("a", "b")
    listed = sh(tool, box, ["printf", "%s|", "a b", "$HOME", "c'd"])
    assert listed["stdout"] == "a b|$HOME|c'd|"


@pytest.mark.parametrize("image", [BUSYBOX, DEBIAN], ids=["ash", "bash"])
def test_syntax_error_is_exit_2_and_the_session_lives_on(tool, image):
    made = tool.call("create", image=image, name=unique("syn"))
    box = made["container"]
    try:
        sh(tool, box, "export KEEP=2")
        result = sh(tool, box, "echo ((")
        assert result["exit_code"] == 2
        assert "syntax" in result["stderr"]
        assert result["session_restarted"] is False
        assert sh(tool, box, "echo $KEEP")["stdout"] == "2\n"
    finally:
        tool.call("destroy", container=box)


def test_a_command_reading_stdin_gets_dev_null_and_does_not_hang(tool, box):
    result = sh(tool, box, 'cat; read x; echo "[$x]"', timeout=30)
    assert (result["stdout"], result["exit_code"], result["timed_out"]) == ("[]\n", 0, False)


def test_timeout_kills_the_command_and_restarts_the_session_in_its_cwd(tool, box):
    sh(tool, box, "cd /tmp")
    command = "echo started; sleep 300 & setsid env -i sleep 302 & sleep 301; echo never"
    result = sh(tool, box, command, timeout=1)
    assert (result["timed_out"], result["exit_code"]) == (True, None)
    assert result["session_restarted"] is True
    assert "never" not in result["stdout"]
    assert "timeout" in result["hint"]
    after = sh(tool, box, "pwd")
    assert (after["stdout"], after["session_restarted"]) == ("/tmp\n", False)

    def sleeps_gone():
        listed = tool.call("exec", container=box, command=["ps", "-o", "args"])["stdout"]
        return not any(line.startswith("sleep 30") for line in listed.splitlines())

    assert wait_until(sleeps_gone, timeout=10)


def test_a_command_that_ends_the_shell_is_reported_and_the_session_restarts(tool, box):
    sh(tool, box, "cd /tmp")
    result = sh(tool, box, "set -e; false; echo no")
    assert (result["exit_code"], result["session_restarted"]) == (1, True)
    assert "no" not in result["stdout"]
    after = sh(tool, box, "pwd; echo ok")
    assert (after["stdout"], after["session_restarted"]) == ("/tmp\nok\n", False)


def test_large_output_is_bounded_and_the_next_command_starts_clean(tool, box):
    result = sh(tool, box, "seq 1 100000")
    assert result["exit_code"] == 0
    assert result["truncated"] is True
    assert result["stdout_bytes"] == len("".join(f"{i}\n" for i in range(1, 100001)))
    assert result["stdout"].startswith("1\n2\n")
    assert result["stdout"].endswith("99999\n100000\n")
    assert "bytes omitted" in result["stdout"]
    assert len(result["stdout"]) < 20_000
    assert sh(tool, box, "echo next")["stdout"] == "next\n"


def test_workdir_and_env_act_as_cd_and_export_in_the_session(tool, box):
    result = sh(tool, box, 'pwd; echo "$V"', workdir="/tmp", env={"V": "a b"})
    assert result["stdout"] == "/tmp\na b\n"
    assert sh(tool, box, 'pwd; echo "$V"')["stdout"] == "/tmp\na b\n"


def test_status_lists_sessions_and_close_session_ends_the_shell(tool, box):
    baseline = len(_shells(tool, box))
    sh(tool, box, "cd /tmp", session="one")
    sh(tool, box, "true", session="two")
    sessions = tool.call("status", container=box)["sessions"]
    assert [s["session"] for s in sessions] == ["one", "two"]
    assert sessions[0]["cwd"] == "/tmp"
    assert len(_shells(tool, box)) == baseline + 2

    closed = tool.call("close_session", container=box, session="one")
    assert closed["ok"] is True
    assert [s["session"] for s in tool.call("status", container=box)["sessions"]] == ["two"]
    assert wait_until(lambda: len(_shells(tool, box)) == baseline + 1, timeout=10)
    again = tool.call("close_session", container=box, session="one")
    assert (again["ok"], again["error"]["code"], again["error"]["field"]) == (
        False,
        "not_found",
        "session",
    )
    reopened = sh(tool, box, "pwd", session="one")
    assert (reopened["session_started"], reopened["stdout"]) == (True, "/workspace\n")


def test_destroy_closes_the_containers_sessions(tool, raw):
    made = tool.call("create", image=BUSYBOX, name=unique("gone"))
    sh(tool, made["container"], "true")
    cid = raw.containers.get(made["container"]).id
    assert tool.call("destroy", container=made["container"])["ok"] is True
    assert tool.context.sessions.describe(cid) == []


def test_session_inputs_are_checked(tool, box):
    bad_name = tool.call("exec", container=box, command="true", session="-x")
    assert (bad_name["error"]["code"], bad_name["error"]["field"]) == ("invalid_input", "session")
    bad_env = tool.call("exec", container=box, command="true", session="s", env={"A-B": "1"})
    assert (bad_env["error"]["code"], bad_env["error"]["field"]) == ("invalid_input", "env")
    sh(tool, box, "true", session="plain")
    as_root = tool.call("exec", container=box, command="id", session="plain", as_root=True)
    assert (as_root["error"]["code"], as_root["error"]["field"]) == ("invalid_input", "as_root")
    rooted = sh(tool, box, "id -u", session="root", as_root=True)
    assert rooted["stdout"] == "0\n"


def test_a_busy_session_refuses_a_second_command(tool, box):
    first: dict[str, object] = {}
    worker = threading.Thread(
        target=lambda: first.update(sh(tool, box, "sleep 2; echo done", session="busy"))
    )
    worker.start()
    try:
        assert wait_until(
            lambda: any(s["busy"] for s in tool.call("status", container=box)["sessions"]),
            timeout=10,
        )
        second = tool.call("exec", container=box, command="true", session="busy")
        assert (second["error"]["code"], second["error"]["field"]) == ("conflict", "session")
    finally:
        worker.join()
    assert first["stdout"] == "done\n"


def test_closing_the_tool_closes_its_sessions(engine):
    with ContainersTool(runtime=engine) as own:
        name = own.call("create", image=BUSYBOX)["container"]
        sh(own, name, "true")
        cid = own.context.resolve(name).id
        assert len(own.context.sessions.describe(cid)) == 1
    assert own.context.sessions.describe(cid) == []
