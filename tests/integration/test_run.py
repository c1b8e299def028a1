"""One-shot runs on both engines: output, JSON result, usage, timeouts, cancel, nothing left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from typing import Any

from containers_tool import ContainersTool
from containers_tool.settings import Settings
from tests.integration.conftest import BUSYBOX, unique, wait_until

RUN_LABEL = "io.containers-tool.run-id"
SESSION_LABEL = "io.containers-tool.session"


def _left(raw: Any, label: str, value: str) -> list[Any]:
    # sparse: no inspect per row, which would race with run containers removing themselves.
    return list(raw.containers.list(all=True, sparse=True, filters={"label": f"{label}={value}"}))


def _state(container: Any) -> str:
    state = container.attrs.get("State")  # Podman's list rows hold a string, Docker's a dict
    return str(state if isinstance(state, str) else (state or {}).get("Status", ""))


def _run(tool, **fields):
    done = tool.call("run", image=BUSYBOX, **fields)
    assert done["ok"], done
    return done


def test_run_passes_env_and_files_parses_json_and_removes_its_container(tool, raw):
    done = _run(
        tool,
        command='echo "$GREETING"; cat in/data.txt; echo \'{"answer": 42}\'',
        env={"GREETING": "hello there"},
        files={"in/data.txt": "file body\n"},
    )
    assert (done["exit_code"], done["state"], done["timed_out"]) == (0, "exited", False)
    assert done["stdout"] == 'hello there\nfile body\n{"answer": 42}\n'
    assert done["result"] == {"answer": 42}  # the last non-empty line is JSON
    assert done["truncated"] is False
    assert done["duration_ms"] >= 0
    assert _left(raw, RUN_LABEL, done["run_id"]) == []


def test_run_whole_stdout_as_json_and_a_failing_command_is_data(tool):
    whole = _run(tool, command="printf '[1,\\n 2]'")
    assert whole["result"] == [1, 2]
    failed = _run(tool, command="echo not json; echo oops >&2; exit 3")
    assert (failed["exit_code"], failed["result"], failed["stderr"]) == (3, None, "oops\n")


def test_run_has_no_network_by_default(tool):
    done = _run(tool, command="ls /sys/class/net")
    assert done["stdout"].split() == ["lo"]


def test_run_usage_shows_memory_peak_of_a_50mb_allocation(tool):
    # tmpfs pages are memory charged to the container's cgroup, so the peak must pass 50 MB.
    done = _run(
        tool,
        command="head -c 60000000 /dev/zero > /run/containers-tool/b; rm /run/containers-tool/b",
        memory_limit="1g",  # a default memory tier
    )
    usage = done["usage"]
    assert set(usage) == {
        "cpu_seconds",
        "memory_peak_bytes",
        "net_rx_bytes",
        "net_tx_bytes",
        "blk_read_bytes",
        "blk_write_bytes",
    }
    assert usage["memory_peak_bytes"] > 50_000_000
    assert usage["memory_peak_bytes"] < 512 * 2**20
    assert usage["cpu_seconds"] > 0
    assert usage["net_rx_bytes"] == usage["net_tx_bytes"] == 0  # network none


def test_run_timeout_kills_the_command_and_leaves_nothing(tool, raw):
    done = _run(tool, command="sleep 60", timeout=1)
    assert (done["timed_out"], done["state"], done["exit_code"]) == (True, "timed_out", None)
    assert _left(raw, RUN_LABEL, done["run_id"]) == []


def test_run_with_a_missing_image_fails_and_leaves_nothing(tool, raw):
    session = unique("s-run")
    done = tool.call("run", image="localhost/h14a-missing:1", command="true", session_id=session)
    assert not done["ok"]
    assert (done["error"]["code"], done["error"]["field"]) == ("not_found", "image")
    assert _left(raw, SESSION_LABEL, session) == []


def test_run_rejects_bad_input_before_making_anything(tool):
    bad_env = tool.call("run", command="true", env={"1X": "v"})
    assert (bad_env["error"]["code"], bad_env["error"]["field"]) == ("invalid_input", "env")
    both = tool.call("run", command="true", image=BUSYBOX, purpose="python")
    assert both["error"]["code"] == "invalid_input"


def test_background_run_keeps_env_values_out_of_engine_state_and_cancel_removes_it(tool, raw):
    secret = "s3cr3t-" + unique("v")
    started = tool.call("run", image=BUSYBOX, command="sleep 60", env={"TOKEN": secret}, wait=False)
    assert started["ok"], started
    run_id = started["run_id"]
    [listed] = _left(raw, RUN_LABEL, run_id)
    inspected = raw.containers.get(listed.id).attrs  # the full inspect, on both engines
    assert secret not in json.dumps(inspected)  # not in Env, labels or anything else
    assert "TOKEN" in json.dumps(inspected["Config"]["Labels"])  # the name only
    still = tool.call("run_result", run_id=run_id, wait=0)
    assert still["state"] == "running"
    cancelled = tool.call("run_cancel", run_id=run_id)
    assert cancelled["ok"], cancelled
    assert (cancelled["cancelled"], cancelled["state"]) == (True, "cancelled")
    assert cancelled["usage"]["cpu_seconds"] is not None
    assert _left(raw, RUN_LABEL, run_id) == []
    gone = tool.call("run_result", run_id=run_id)
    assert (gone["error"]["code"], gone["error"]["field"]) == ("not_found", "run_id")


def test_background_run_result_long_polls_then_the_run_is_removed(tool, raw):
    started = tool.call("run", image=BUSYBOX, command="sleep 1; echo '{\"n\": 2}'", wait=False)
    assert started["ok"], started
    done = tool.call("run_result", run_id=started["run_id"], wait=60)
    assert done["ok"], done
    assert (done["state"], done["exit_code"], done["result"]) == ("exited", 0, {"n": 2})
    assert _left(raw, RUN_LABEL, started["run_id"]) == []


READ_ELSEWHERE = """
import json, sys
from containers_tool import ContainersTool
with ContainersTool(runtime=sys.argv[1], session_id=sys.argv[2]) as tool:
    print(json.dumps(tool.call("run_result", run_id=sys.argv[3], wait=60)))
"""


def test_another_process_reads_a_background_run_result(tool, engine, raw):
    started = tool.call("run", image=BUSYBOX, command='echo \'{"from": "far"}\'', wait=False)
    assert started["ok"], started
    argv = [sys.executable, "-c", READ_ELSEWHERE, engine, unique("s-other"), started["run_id"]]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True)
    done = json.loads(out.stdout)
    assert done["ok"], done
    assert (done["state"], done["result"]) == ("exited", {"from": "far"})
    assert _left(raw, RUN_LABEL, started["run_id"]) == []


RUN_AND_HANG = """
import sys
from containers_tool import ContainersTool
tool = ContainersTool(runtime=sys.argv[1], session_id=sys.argv[2])
tool.call("run", image=sys.argv[3], command="sleep 300", timeout=5)
"""


def test_a_sigkilled_tool_process_leaves_no_run_container(engine, raw):
    session = unique("s-kill")
    env = {**os.environ, "CONTAINERS_TOOL_RUN_GRACE": "5"}
    argv = [sys.executable, "-c", RUN_AND_HANG, engine, session, BUSYBOX]
    proc = subprocess.Popen(argv, env=env)

    def running() -> bool:
        return any(_state(c) == "running" for c in _left(raw, SESSION_LABEL, session))

    try:
        assert wait_until(running, timeout=60)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    # Nothing of the dead process removes it: its keep-alive ends (timeout + grace), and the
    # engine's auto-remove does the rest.
    assert wait_until(lambda: not _left(raw, SESSION_LABEL, session), timeout=40, interval=0.5)


def test_run_removes_expired_run_containers_that_never_started(tool, engine, raw):
    # What a tool process killed between a run's create and start leaves behind.
    name = unique("h14a-stale-run")
    labels = {
        "io.containers-tool.managed-by": "containers-tool",
        "io.containers-tool.session": unique("s-stale"),
        RUN_LABEL: "r-000000000000",
        "io.containers-tool.run-deadline": "1000",
    }
    raw.containers.create(BUSYBOX, ["sleep", "1"], name=name, labels=labels)
    _run(tool, command="true")
    assert _left(raw, "io.containers-tool.run-deadline", "1000") == []


def test_an_unread_background_run_is_removed_after_the_retention(engine, raw):
    settings = Settings(runtime=engine, run_retention=1)
    with ContainersTool(settings, session_id=unique("s-retain")) as short:
        started = short.call("run", image=BUSYBOX, command="echo done", wait=False)
        assert started["ok"], started
        run_id = started["run_id"]
        assert wait_until(lambda: not _left(raw, RUN_LABEL, run_id), timeout=60, interval=0.5)
        late = short.call("run_result", run_id=run_id)
        assert (late["error"]["code"], late["error"]["field"]) == ("not_found", "run_id")


CANCEL_ELSEWHERE = """
import json, sys
from containers_tool import ContainersTool
with ContainersTool(runtime=sys.argv[1], session_id=sys.argv[2]) as tool:
    print(json.dumps(tool.call("run_cancel", run_id=sys.argv[3])))
"""


def test_another_process_cancels_a_background_run(tool, engine, raw):
    started = tool.call("run", image=BUSYBOX, command="sleep 120", wait=False)
    assert started["ok"], started
    run_id = started["run_id"]
    argv = [sys.executable, "-c", CANCEL_ELSEWHERE, engine, unique("s-other"), run_id]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True)
    cancelled = json.loads(out.stdout)
    assert cancelled["ok"], cancelled
    assert (cancelled["cancelled"], cancelled["state"]) == (True, "cancelled")
    assert _left(raw, RUN_LABEL, run_id) == []
    # The starting process reports the run as cancelled too, not as an engine failure.
    seen = tool.call("run_result", run_id=run_id, wait=30)
    assert seen["ok"], seen
    assert (seen["state"], seen["cancelled"]) == ("cancelled", True)


def test_run_with_a_purpose_gets_its_image_and_env_but_nothing_from_the_host(tool, monkeypatch):
    # t-cache forwards API keys ("auto") to create; a run forwards nothing.
    monkeypatch.setenv("H14A_TEST_API_KEY", "host-value-must-stay-out")
    done = tool.call("run", purpose="t-cache", command="echo $T_CACHE; test -s /etc/built-at; env")
    assert done["ok"], done
    assert done["exit_code"] == 0
    assert done["stdout"].startswith("yes\n")
    assert "host-value-must-stay-out" not in done["stdout"]
