"""The same answer for the same thing, on both engines: purpose, times, image errors, tmpfs."""

from __future__ import annotations

import re

import pytest

from containers_tool import ContainersTool
from tests.integration.conftest import BUSYBOX, unique, wait_until

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def test_no_purpose_is_null_in_create_list_and_status(tool, box):
    made = tool.call("create", image=BUSYBOX, name=unique("nop"))
    assert made["purpose"] is None
    row = next(r for r in tool.call("list")["containers"] if r["name"] == made["container"])
    assert row["purpose"] is None
    assert tool.call("status", container=made["container"])["purpose"] is None
    tool.call("destroy", container=made["container"])


def test_every_time_in_results_is_iso_8601_utc_to_the_second(tool, box):
    status = tool.call("status", container=box)
    assert ISO.match(status["created"]), status["created"]
    assert ISO.match(status["started_at"]), status["started_at"]
    row = next(r for r in tool.call("list")["containers"] if r["name"] == box)
    assert ISO.match(row["created"]), row["created"]
    job = tool.call("exec_background", container=box, command="true")
    listed = tool.call("list_jobs", container=box)["jobs"]
    started = next(j for j in listed if j["job_id"] == job["job_id"])["started"]
    assert ISO.match(started), started
    snap = tool.call("snapshot", container=box, name=unique("snap"))
    assert snap["ok"], snap
    snaps = tool.call("list_snapshots")["snapshots"]
    for s in snaps:
        assert s["created"] is None or ISO.match(s["created"]), s
    tool.call("delete_snapshot", snapshot=snap["snapshot"])


@pytest.mark.parametrize("image", ["localhost/h11-absent:1", "registry.invalid/h11/absent:1"])
def test_a_missing_image_is_not_found_on_image_on_both_engines(tool, image):
    made = tool.call("create", image=image)
    assert (made["error"]["code"], made["error"]["field"]) == ("not_found", "image"), made


@pytest.mark.parametrize("image", ["Bad::Ref", "a b", "Upper:1", "x:"])
def test_an_invalid_image_reference_is_invalid_input_and_nothing_is_made(tool, image):
    before = tool.call("list", session_id=tool.session_id)["count"]
    made = tool.call("create", image=image)
    assert (made["error"]["code"], made["error"]["field"]) == ("invalid_input", "image"), made
    assert tool.call("list", session_id=tool.session_id)["count"] == before


def test_a_full_job_tmpfs_says_so(tool):
    # A small tier (the tmpfs is a quarter of the memory limit) fills in a moment.
    small = tool.settings.model_copy(update={"allowed_memory_tiers": ["64m"]})
    tool = ContainersTool(small, session_id=tool.session_id, reap_on_exit=False)
    made = tool.call("create", image=BUSYBOX, name=unique("full"), memory_limit="64m")
    assert made["ok"], made
    name = made["container"]
    big = tool.call("exec_background", container=name, command="head -c 20000000 /dev/zero")
    assert big["ok"], big

    def full() -> bool:
        ran = tool.call("exec", container=name, command="df -k /run/containers-tool | tail -1")
        return bool(ran["stdout"].split()[3] == "0")

    assert wait_until(full, timeout=30)
    after = tool.call("exec_background", container=name, command="echo hi")
    assert after["error"]["code"] == "quota_exceeded", after
    assert "tmpfs" in after["error"]["message"]
    assert "/bin/sh" not in after["error"]["hint"]
    tool.call("destroy", container=name)
