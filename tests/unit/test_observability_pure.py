"""Pure parts of expiry, the reaper, metrics and logs: owners, records, formats."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time

from prometheus_client.parser import text_string_to_metric_families

from containers_tool import labels as lb
from containers_tool import metrics
from containers_tool.core import owner
from containers_tool.core.activity import Activity, ActivityStore, Tombstone, timeout_of
from containers_tool.core.housekeeping import orphaned
from containers_tool.logs import EVENT, FIELDS, JsonFormatter, TextFormatter
from tests.integration.conftest import wait_until


def test_a_live_process_is_alive_and_a_dead_or_recycled_one_is_not():
    me = owner.current()
    assert owner.alive(me.pid, me.start, me.boot)
    assert not owner.alive(me.pid, me.start + "1", me.boot)  # the pid now names another process
    assert not owner.alive(me.pid, me.start, "another-boot")
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert not owner.alive(int(done.stdout), "", "")


def test_only_ephemeral_containers_of_a_dead_owner_on_this_host_are_orphans():
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    me = owner.current()
    base = {lb.OWNER_HOST: me.host, lb.OWNER_BOOT: me.boot, lb.PERSISTENT: "false"}
    assert orphaned({**base, lb.OWNER_PID: dead.stdout.strip(), lb.OWNER_START: "1"})
    assert orphaned({**base, lb.OWNER_PID: str(me.pid), lb.OWNER_START: me.start}) is None
    persistent = {**base, lb.PERSISTENT: "true", lb.OWNER_PID: dead.stdout.strip()}
    assert orphaned(persistent) is None
    elsewhere = {**base, lb.OWNER_HOST: "another-host", lb.OWNER_PID: dead.stdout.strip()}
    assert orphaned(elsewhere) is None
    assert orphaned({lb.PERSISTENT: "false"}) is None  # no owner: the CLI's shared session


def test_timeouts_come_from_the_label_and_zero_means_never():
    assert timeout_of({lb.IDLE_TIMEOUT: "1200"}) == 1200
    assert timeout_of({lb.IDLE_TIMEOUT: "0"}) is None
    assert timeout_of({}) is None
    assert timeout_of({lb.IDLE_TIMEOUT: "soon"}) is None


def test_records_are_shared_through_the_database(tmp_path):
    one, two = ActivityStore(tmp_path), ActivityStore(tmp_path)  # two processes' views
    now = time.time()
    one.touch("cid", "box", "s-1", now - 100)
    one.touch("cid", "box", "s-1", now - 200)  # never moves the clock back
    assert two.last_active(["cid"]) == {"cid": now - 100}
    two.bury(Tombstone("box", "s-1", "default", "expired", now, now - 5, "2s"), "cid")
    stone = one.tombstone("box")
    assert stone is not None
    assert stone.reason == "expired"
    assert one.last_active(["cid"]) == {}
    one.unbury("box")
    assert two.tombstone("box") is None


def test_an_operation_in_flight_keeps_its_container_active_for_other_processes(tmp_path):
    activity, other = Activity(tmp_path), ActivityStore(tmp_path)
    labels = {lb.IDLE_TIMEOUT: "1"}
    with activity.operation():
        activity.touch("cid", "box", None, labels)
        first = other.last_active(["cid"])["cid"]
        assert activity.holding("cid")
        # The heartbeat writes the row again while the operation runs.
        assert wait_until(lambda: other.last_active(["cid"])["cid"] > first + 0.4)
        assert activity.idle_since("cid", labels) is None
    assert not activity.holding("cid")


def test_an_unusable_state_directory_expires_nothing(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    activity = Activity(blocker / "state")  # a directory under a regular file cannot exist
    with activity.operation():
        activity.touch("cid", "box", None)
    assert activity.store.broken
    assert activity.store.last_active(["cid"]) == {}
    assert activity.idle_since("cid", {lb.IDLE_TIMEOUT: "1"}) is None


def _record(fields: dict[str, object]) -> logging.LogRecord:
    record = logging.LogRecord("containers_tool", logging.INFO, __file__, 1, "x", None, None)
    setattr(record, EVENT, "container.expired")
    setattr(record, FIELDS, fields)
    return record


def test_log_lines_are_one_json_object_or_one_text_line():
    fields = {"container": "box", "session": "s-1", "duration_ms": 1.5}
    line = JsonFormatter().format(_record(fields))
    parsed = json.loads(line)
    assert parsed["event"] == "container.expired"
    assert parsed["container"] == "box"
    assert parsed["level"] == "info"
    assert "\n" not in line
    text = TextFormatter().format(_record(fields))
    assert "container.expired container=box session=s-1 duration_ms=1.5" in text


def test_metrics_exposition_has_the_three_families():
    metrics.record("create", "ok", 0.2)
    metrics.watch_active(
        lambda: [{}, {activity_tenant(): "t1"}],
        lambda labels: labels.get(activity_tenant(), "default"),
    )
    families = {f.name: f for f in text_string_to_metric_families(metrics.exposition().decode())}
    assert {
        "container_operations",
        "container_operation_duration_seconds",
        "containers_active",
    } <= set(families)
    active = {s.labels["tenant"]: s.value for s in families["containers_active"].samples}
    assert active == {"default": 1, "t1": 1}


def activity_tenant() -> str:
    from containers_tool.core.activity import TENANT_LABEL

    return TENANT_LABEL


def test_state_dir_defaults_to_xdg_state_home(monkeypatch, tmp_path):
    from containers_tool.context import Context
    from containers_tool.settings import Settings

    monkeypatch.delenv("CONTAINERS_TOOL_STATE_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    ctx = Context(Settings(), "s-1")
    assert ctx.activity.store.path.parent == tmp_path / "containers-tool"
    other = Context(Settings(state_dir=str(tmp_path / "x")), "s-1")
    assert os.fspath(other.activity.store.path.parent) == str(tmp_path / "x")
