"""Background jobs on both engines: lifecycle, quoting, cancel, long-poll, bounded output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from containers_tool.core.jobs import KEEP_FINISHED
from tests.integration.conftest import BUSYBOX, unique

# Lists every process's argv inside the container, one per line (busybox has no pgrep -a).
PROCS = "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done"


def _start(tool, box, command, **fields):
    started = tool.call("exec_background", container=box, command=command, **fields)
    assert started["ok"], started
    assert started["running"] is True
    return started["job_id"]


def _finish(tool, box, job_id, offset=0):
    """Long-polls until the job ends; returns the final poll and all output read."""
    output = ""
    for _ in range(20):
        polled = tool.call("exec_poll", container=box, job_id=job_id, offset=offset, wait=10)
        assert polled["ok"], polled
        output += polled["output"]
        offset = polled["offset"]
        if not polled["running"]:
            return polled, output
    raise AssertionError(f"job {job_id} never ended")


def test_job_lifecycle_reports_output_and_exit_code(tool, box):
    job = _start(tool, box, "echo out; echo err >&2; exit 3")
    final, output = _finish(tool, box, job)
    assert (final["state"], final["exit_code"], final["running"]) == ("exited", 3, False)
    assert output == "out\nerr\n"
    assert final["output_bytes"] == final["offset"] == len(output)
    again = tool.call("exec_poll", container=box, job_id=job, offset=final["offset"])
    assert (again["output"], again["exit_code"], again["offset"]) == ("", 3, final["offset"])


def test_job_command_quoting_matches_exec(tool, box):
    command = "printf '%s\\n' 'a b' \"c'd\""
    _, output = _finish(tool, box, _start(tool, box, command))
    assert output == "a b\nc'd\n"
    _, argv_output = _finish(tool, box, _start(tool, box, ["printf", "%s|", "a b", "$HOME"]))
    assert argv_output == "a b|$HOME|"


def test_job_env_and_workdir(tool, box):
    job = _start(tool, box, "echo $A; pwd", env={"A": "x y"}, workdir="/tmp")
    _, output = _finish(tool, box, job)
    assert output == "x y\n/tmp\n"


def test_long_poll_returns_on_new_output_while_running(tool, box):
    job = _start(tool, box, "echo first; sleep 30")
    polled = tool.call("exec_poll", container=box, job_id=job, wait=20)
    assert polled["running"] is True
    assert polled["exit_code"] is None
    assert polled["output"] == "first\n"
    tool.call("exec_cancel", container=box, job_id=job)


def test_long_poll_returns_the_exit_in_one_call(tool, box):
    job = _start(tool, box, "sleep 1; exit 7")
    polled = tool.call("exec_poll", container=box, job_id=job, wait=30)
    assert (polled["running"], polled["exit_code"]) == (False, 7)


def test_long_poll_returns_when_the_exit_arrives_not_when_wait_ends(tool, box):
    # A correctness bound, not a performance figure: the poll ends with the job (after ~1 s),
    # far before its wait of 10 s; 3 s leaves room for a loaded machine.
    job = _start(tool, box, "sleep 1; exit 3")
    start = time.monotonic()
    polled = tool.call("exec_poll", container=box, job_id=job, wait=10)
    elapsed = time.monotonic() - start
    assert (polled["running"], polled["exit_code"], polled["state"]) == (False, 3, "exited")
    assert elapsed < 3.0, f"the poll took {elapsed:.2f}s for a job of 1 s (wait=10)"


def test_cancel_kills_the_whole_process_tree(tool, box):
    # Children, a grandchild, one that escaped into its own session (setsid), and one that also
    # cleared its environment (no marker left): found by its parent and its session.
    command = (
        "sleep 301 & sh -c 'sleep 302' & setsid sleep 303 & setsid env -i sleep 304 & "
        "echo started; wait"
    )
    job = _start(tool, box, command)
    assert tool.call("exec_poll", container=box, job_id=job, wait=10)["output"] == "started\n"
    cancelled = tool.call("exec_cancel", container=box, job_id=job)
    assert cancelled["ok"], cancelled
    assert cancelled["cancelled"] is True
    assert cancelled["exit_code"] is not None
    assert cancelled["exit_code"] != 0
    procs = tool.call("exec", container=box, command=PROCS)["stdout"]
    assert "sleep 30" not in procs
    polled = tool.call("exec_poll", container=box, job_id=job)
    assert (polled["state"], polled["running"]) == ("cancelled", False)
    again = tool.call("exec_cancel", container=box, job_id=job)
    assert (again["cancelled"], again["exit_code"]) == (False, cancelled["exit_code"])


def test_large_output_is_bounded_with_total_size(tool, box):
    total = len("".join(f"{i}\n" for i in range(1, 100001)))
    final, _ = _finish(tool, box, _start(tool, box, "seq 1 100000"))
    assert final["exit_code"] == 0
    whole = tool.call("exec_poll", container=box, job_id=final["job_id"], offset=0)
    assert whole["output_bytes"] == whole["offset"] == total
    assert whole["truncated"] is True
    assert whole["output"].startswith("1\n2\n")
    assert whole["output"].endswith("99999\n100000\n")
    assert len(whole["output"]) < 20_000


def test_list_jobs_shows_state(tool, box):
    done = _start(tool, box, "true")
    _finish(tool, box, done)
    running = _start(tool, box, "sleep 30")
    listed = tool.call("list_jobs", container=box)
    rows = {j["job_id"]: j for j in listed["jobs"]}
    assert rows[done]["state"] == "exited"
    assert rows[done]["exit_code"] == 0
    assert rows[running]["state"] == "running"
    assert rows[running]["command"] == "sleep 30"
    tool.call("exec_cancel", container=box, job_id=running)


def test_unknown_and_malformed_job_ids(tool, box):
    missing = tool.call("exec_poll", container=box, job_id="j-0000000000")
    assert (missing["error"]["code"], missing["error"]["field"]) == ("not_found", "job_id")
    assert tool.call("exec_cancel", container=box, job_id="j-0000000000")["error"]["code"] == (
        "not_found"
    )
    for bad in ("../etc", "a;rm -rf /", "$(id)", "J-UPPER"):
        result = tool.call("exec_poll", container=box, job_id=bad)
        assert (result["error"]["code"], result["error"]["field"]) == ("invalid_input", "job_id")


def test_offset_past_the_end_is_invalid(tool, box):
    job = _start(tool, box, "echo hi")
    _finish(tool, box, job)
    result = tool.call("exec_poll", container=box, job_id=job, offset=10_000)
    assert (result["error"]["code"], result["error"]["field"]) == ("invalid_input", "offset")


def test_jobs_of_a_non_root_user_after_a_root_job(tool):
    name = tool.call("create", image=BUSYBOX, name=unique("jobs-user"), user="1000:1000")[
        "container"
    ]
    try:
        _finish(tool, name, _start(tool, name, "id -u", as_root=True))
        final, output = _finish(tool, name, _start(tool, name, "id -u"))
        assert (final["exit_code"], output) == (0, "1000\n")
    finally:
        tool.call("destroy", container=name)


def test_a_new_tool_process_polls_and_cancels_a_job(tool, engine):
    # Persistent: a new process is another session, which sees only those of the tenant.
    box = tool.call("create", image=BUSYBOX, name=unique("jobs"), persistent=True)["container"]
    job = _start(tool, box, "echo from-first; sleep 300")
    script = (
        "import json, sys\n"
        "from containers_tool import containers\n"
        "box, job = sys.argv[1:3]\n"
        "p = containers('exec_poll', container=box, job_id=job, wait=10)\n"
        "c = containers('exec_cancel', container=box, job_id=job)\n"
        "print(json.dumps([p, c]))\n"
    )
    env = {**os.environ, "CONTAINERS_TOOL_RUNTIME": engine}
    done = subprocess.run(
        [sys.executable, "-c", script, box, job],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    polled, cancelled = json.loads(done.stdout.strip().splitlines()[-1])
    assert polled["output"] == "from-first\n"
    assert polled["running"] is True
    assert cancelled["cancelled"] is True
    assert tool.call("exec_poll", container=box, job_id=job)["state"] == "cancelled"
    tool.call("destroy", container=box)


def test_cancel_leaves_other_jobs_and_the_container_alone(tool, box):
    other = _start(tool, box, "setsid env -i sleep 311 & echo other; wait")
    victim = _start(tool, box, "setsid env -i sleep 312 & echo victim; wait")
    assert tool.call("exec_poll", container=box, job_id=victim, wait=10)["output"] == "victim\n"
    assert tool.call("exec_cancel", container=box, job_id=victim)["cancelled"] is True
    procs = tool.call("exec", container=box, command=PROCS)["stdout"]
    assert ("sleep 312" in procs, "sleep 311" in procs, "sleep infinity" in procs) == (
        False,
        True,
        True,
    )
    assert tool.call("exec_poll", container=box, job_id=other)["state"] == "running"
    tool.call("exec_cancel", container=box, job_id=other)


def test_cancel_in_a_non_root_container_ends_jobs_of_either_user(tool):
    name = tool.call("create", image=BUSYBOX, name=unique("jobs-cancel"), user="1000:1000")[
        "container"
    ]
    try:
        mine = _start(tool, name, "setsid env -i sleep 321 & sleep 322 & echo up; wait")
        root = _start(tool, name, "sleep 323 & echo up; wait", as_root=True)
        for job in (mine, root):
            assert tool.call("exec_poll", container=name, job_id=job, wait=10)["output"] == "up\n"
            cancelled = tool.call("exec_cancel", container=name, job_id=job)
            assert (cancelled["ok"], cancelled["cancelled"]) == (True, True), cancelled
        procs = tool.call("exec", container=name, command=PROCS)["stdout"]
        assert "sleep 32" not in procs
    finally:
        tool.call("destroy", container=name)


def test_poll_never_splits_a_utf8_character_between_two_polls(tool, box):
    # "é" is \303\251: the first byte is written a second before the second one.
    job = _start(tool, box, "printf 'a\\303'; sleep 1; printf '\\251\\n'")
    first = tool.call("exec_poll", container=box, job_id=job, wait=10)
    assert first["running"] is True
    assert (first["output"], first["offset"]) == ("a", 1)
    final, rest = _finish(tool, box, job, offset=first["offset"])
    assert first["output"] + rest == "aé\n"
    assert final["offset"] == final["output_bytes"] == 4
    # A job that ended inside a character is read to its end all the same.
    ended, _ = _finish(tool, box, _start(tool, box, "printf 'x\\303'"))
    assert (ended["offset"], ended["output_bytes"]) == (2, 2)


def test_starting_a_job_prunes_old_finished_jobs_but_never_running_ones(tool):
    name = tool.call("create", image=BUSYBOX, name=unique("jobs-prune"))["container"]
    try:
        running = _start(tool, name, "sleep 300")
        finished = []
        for _ in range(KEEP_FINISHED + 2):
            finished.append(_start(tool, name, "true"))
            polled = tool.call("exec_poll", container=name, job_id=finished[-1], wait=10)
            assert polled["exit_code"] == 0, polled
        latest = _start(tool, name, "true")
        listed = {j["job_id"]: j["state"] for j in tool.call("list_jobs", container=name)["jobs"]}
        assert listed[running] == "running"
        assert latest in listed
        assert len(listed) == KEEP_FINISHED + 2  # the running one, the kept ones, the new one
        gone = [j for j in finished if j not in listed]
        assert len(gone) == 2
        polled = tool.call("exec_poll", container=name, job_id=gone[0])
        assert polled["error"]["code"] == "not_found"
    finally:
        tool.call("destroy", container=name)
