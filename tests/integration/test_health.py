"""Service containers on both engines: wait_healthy, keep_command, logs."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from containers_tool import ContainersTool
from containers_tool.runtime.capabilities import Commit, Images
from tests.integration.conftest import BUSYBOX, absent, unique, wait_until

SERVICE_CMD = ["sh", "-c", "echo service started; echo ready > /tmp/served; exec sleep infinity"]
UID_CMD = ["sh", "-c", "id -u; exec sleep infinity"]
# Pauses keep the order of the lines across the two streams deterministic.
LOG_CMD = [
    "sh",
    "-c",
    "echo o1; echo e1 >&2; sleep 0.3; echo o2; sleep 0.3; echo e2 >&2; "
    "sleep 0.3; echo done; exec sleep infinity",
]
SEQ_CMD = ["sh", "-c", "seq 1 30000; sleep 0.5; echo done >&2; exec sleep infinity"]
LATE_FAILING_CMD = ["sh", "-c", "echo starting; sleep 0.6; echo dying >&2; exit 5"]
FAILING_CMD = ["sh", "-c", "echo about to fail; echo boom >&2; exit 4"]


def _image_with_cmd(tool: ContainersTool, command: list[str], user: str | None = None) -> str:
    """Commits a busybox container into a tiny image whose own CMD is `command` (USER `user`)."""
    runtime = tool.context.require(Commit, "test image")
    fields = {"user": user} if user else {}
    made = tool.call("create", image=BUSYBOX, name=unique("img-src"), **fields)
    ref = f"localhost/containers-tool-test/service:{secrets.token_hex(4)}"
    runtime.commit_container(str(made["container"]), ref, labels={}, env={}, command=command)
    tool.call("destroy", container=made["container"])
    return ref


@pytest.fixture
def service_image(tool: ContainersTool) -> Iterator[str]:
    ref = _image_with_cmd(tool, SERVICE_CMD)
    yield ref
    tool.context.require(Images, "test image").remove_image(ref)


def test_wait_healthy_passes_once_the_check_does(tool, box):
    tool.call("exec_background", container=box, command="sleep 0.5; touch /tmp/ready")
    result = tool.call(
        "wait_healthy", container=box, health_command="test -f /tmp/ready", interval=0.1
    )
    assert result["ok"], result
    assert result["healthy"] is True
    assert result["check"] == "command"
    assert result["attempts"] >= 1
    assert result["last_exit_code"] == 0


def test_wait_healthy_fails_after_retries_with_last_output(tool, box):
    result = tool.call(
        "wait_healthy",
        container=box,
        health_command="echo not yet; exit 1",
        retries=3,
        interval=0.05,
    )
    assert result["ok"], result
    assert (result["healthy"], result["attempts"], result["last_exit_code"]) == (False, 3, 1)
    assert result["last_output"] == "not yet"
    assert result["hint"]


def test_wait_healthy_times_out(tool, box):
    result = tool.call("wait_healthy", container=box, port=9, timeout=0.5, interval=0.1)
    assert (result["healthy"], result["check"]) == (False, "port")
    assert result["attempts"] >= 1


def test_wait_healthy_on_port_and_url(tool, box):
    job = tool.call(
        "exec_background",
        container=box,
        command="mkdir -p /tmp/www && httpd -f -p 8080 -h /tmp/www",
    )["job_id"]
    by_port = tool.call("wait_healthy", container=box, port=8080, timeout=10, interval=0.1)
    assert by_port["healthy"] is True
    by_url = tool.call("wait_healthy", container=box, url="http://127.0.0.1:8080/", retries=1)
    # busybox httpd answers 404 for a missing index: not healthy, but a real HTTP answer.
    assert by_url["healthy"] is False
    tool.call("exec", container=box, command="echo hi > /tmp/www/index.html")
    by_url = tool.call(
        "wait_healthy", container=box, url="http://127.0.0.1:8080/", timeout=10, interval=0.1
    )
    assert by_url["healthy"] is True
    tool.call("exec_cancel", container=box, job_id=job)


@pytest.mark.parametrize(
    "fields",
    [{}, {"health_command": "true", "port": 80}, {"url": "ftp://x"}],
)
def test_wait_healthy_needs_exactly_one_check(tool, box, fields):
    result = tool.call("wait_healthy", container=box, **fields)
    assert result["error"]["code"] == "invalid_input"


def test_service_image_runs_its_own_command_with_keep_command(tool, service_image, raw):
    made = tool.call("create", image=service_image, name=unique("svc"), keep_command=True)
    assert made["ok"], made
    assert "wait_healthy" in made["hint"]
    name = made["container"]
    try:
        ready = tool.call(
            "wait_healthy", container=name, health_command="test -f /tmp/served", interval=0.1
        )
        assert ready["healthy"] is True
        assert tool.call("exec", container=name, command="cat /tmp/served")["stdout"] == "ready\n"
        logs = tool.call("logs", container=name)
        assert logs["stdout"] == "service started\n"
        assert (logs["stderr"], logs["truncated"]) == ("", False)
        assert raw.containers.get(name).status == "running"
    finally:
        tool.call("destroy", container=name)


def _own_output(tool: ContainersTool, name: str) -> str:
    """Waits for a service's own command to print its first line; returns its stdout."""
    assert wait_until(lambda: tool.call("logs", container=name)["stdout"] != "")
    return str(tool.call("logs", container=name)["stdout"])


def test_a_service_and_its_execs_run_as_the_image_user_not_the_host_user(tool):
    # The image says USER 4321; the host user (this process) is someone else.
    ref = _image_with_cmd(tool, UID_CMD, user="4321:4321")
    names = []
    try:
        made = tool.call("create", image=ref, name=unique("svc-user"), keep_command=True)
        assert made["ok"], made
        names.append(made["container"])
        assert made["user"] == "4321:4321"
        assert _own_output(tool, made["container"]) == "4321\n"
        ran = tool.call("exec", container=made["container"], command="id -u")
        assert ran["stdout"] == "4321\n"
        asked = tool.call(
            "create", image=ref, name=unique("svc-user"), keep_command=True, user="1000:1000"
        )
        assert asked["ok"], asked
        names.append(asked["container"])
        assert _own_output(tool, asked["container"]) == "1000\n"
    finally:
        for name in names:
            tool.call("destroy", container=name)
        tool.context.require(Images, "test image").remove_image(ref)


def test_without_keep_command_the_image_command_does_not_run(tool, service_image):
    made = tool.call("create", image=service_image, name=unique("svc-keep"))
    try:
        result = tool.call("exec", container=made["container"], command="test -f /tmp/served")
        assert result["exit_code"] == 1
    finally:
        tool.call("destroy", container=made["container"])


@pytest.mark.parametrize(
    ("command", "code", "said"),
    [(FAILING_CMD, 4, "boom"), (LATE_FAILING_CMD, 5, "dying")],
    ids=["at-once", "after-0.6s"],
)
def test_create_refuses_a_service_that_exits_at_once_or_soon_after(tool, raw, command, code, said):
    ref = _image_with_cmd(tool, command)
    name = unique("svc-fail")
    try:
        made = tool.call("create", image=ref, name=name, keep_command=True)
        assert made["ok"] is False, made
        assert (made["error"]["code"], made["error"]["field"]) == ("conflict", "keep_command")
        assert f"exit {code}" in made["error"]["message"]
        assert said in made["error"]["message"]
        assert absent(raw, name)
    finally:
        tool.context.require(Images, "test image").remove_image(ref)


def test_logs_tail_is_bounded(tool, raw, service_image):
    made = tool.call("create", image=service_image, name=unique("svc-logs"), keep_command=True)
    name = made["container"]
    try:
        logs = tool.call("logs", container=name, tail=1)
        assert logs["ok"], logs
        assert logs["stdout_bytes"] <= len("service started\n")
        assert tool.call("logs", container="no-such-container")["error"]["code"] == "not_found"
    finally:
        tool.call("destroy", container=name)


def test_settle_seconds_is_bounded_and_only_for_services(tool):
    alone = tool.call("create", image=BUSYBOX, name=unique("settle"), settle_seconds=1)
    assert (alone["error"]["code"], alone["error"]["field"]) == ("invalid_input", "settle_seconds")
    too_long = tool.call(
        "create", image=BUSYBOX, name=unique("settle"), keep_command=True, settle_seconds=31
    )
    assert too_long["error"]["code"] == "invalid_input"
    assert too_long["error"]["field"] == "settle_seconds"


@pytest.fixture
def logging_service(tool):
    """A running service whose own command printed o1, e1, o2, e2, done (stdout/stderr)."""
    ref = _image_with_cmd(tool, LOG_CMD)
    made = tool.call("create", image=ref, name=unique("svc-log"), keep_command=True)
    assert made["ok"], made
    name = made["container"]
    assert wait_until(lambda: "done" in tool.call("logs", container=name)["stdout"])
    yield name
    tool.call("destroy", container=name)
    tool.context.require(Images, "test image").remove_image(ref)


def test_logs_tail_counts_lines_of_both_streams_together(tool, logging_service):
    def streams(**fields):
        got = tool.call("logs", container=logging_service, **fields)
        assert got["ok"], got
        return got["stdout"], got["stderr"]

    assert streams() == ("o1\no2\ndone\n", "e1\ne2\n")
    assert streams(tail=None) == ("o1\no2\ndone\n", "e1\ne2\n")
    assert streams(tail=1) == ("done\n", "")
    assert streams(tail=2) == ("done\n", "e2\n")
    assert streams(tail=3) == ("o2\ndone\n", "e2\n")


def test_logs_since_is_the_same_on_both_engines(tool, logging_service):
    assert tool.call("logs", container=logging_service, since=0)["stdout_bytes"] == 0
    assert tool.call("logs", container=logging_service, since=0)["stderr_bytes"] == 0
    recent = tool.call("logs", container=logging_service, since=3600)
    assert (recent["stdout"], recent["stderr"]) == ("o1\no2\ndone\n", "e1\ne2\n")


def test_logs_are_bounded_in_bytes_with_the_total(tool):
    ref = _image_with_cmd(tool, SEQ_CMD)
    made = tool.call("create", image=ref, name=unique("svc-seq"), keep_command=True)
    name = made["container"]
    total = len("".join(f"{i}\n" for i in range(1, 30001)))
    try:
        assert wait_until(lambda: tool.call("logs", container=name)["stderr"] == "done\n")
        got = tool.call("logs", container=name, tail=None, max_output=1000)
        assert (got["truncated"], got["stdout_bytes"], got["stderr"]) == (True, total, "done\n")
        assert got["stdout"].startswith("1\n2\n3\n")
        assert got["stdout"].endswith("29999\n30000\n")
        assert len(got["stdout"]) < 1100
        last = tool.call("logs", container=name, tail=2)
        assert (last["stdout"], last["stderr"], last["truncated"]) == ("30000\n", "done\n", False)
    finally:
        tool.call("destroy", container=name)
        tool.context.require(Images, "test image").remove_image(ref)


def test_a_service_runs_in_its_image_workdir(tool):
    # A server image whose command uses a path relative to its own WORKDIR.
    made = tool.call("create", image=BUSYBOX, name=unique("img-src"), workdir="/app")
    script = "echo served from $(pwd); exec sleep infinity"
    tool.call("exec", container=made["container"], command=f"echo '{script}' > run.sh")
    ref = f"localhost/containers-tool-test/service:{secrets.token_hex(4)}"
    tool.context.runtime.commit_container(
        str(made["container"]), ref, labels={}, env={}, command=["sh", "run.sh"]
    )
    tool.call("destroy", container=made["container"])
    try:
        svc = tool.call("create", image=ref, name=unique("svc-wd"), keep_command=True)
        assert svc["ok"], svc
        assert svc["workdir"] == "/app"
        assert _own_output(tool, svc["container"]) == "served from /app\n"
        ran = tool.call("exec", container=svc["container"], command="pwd")
        assert ran["stdout"] == "/app\n"
        tool.call("destroy", container=svc["container"])
    finally:
        tool.context.require(Images, "test image").remove_image(ref)
