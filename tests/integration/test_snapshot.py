"""Snapshots on both engines: round trip, stripped secrets, and the error cases."""

from __future__ import annotations

import json
import secrets

from tests.integration.conftest import BUSYBOX, unique


def _snap_name() -> str:
    return f"snap-{secrets.token_hex(4)}"


def test_snapshot_restore_round_trip_without_secrets(tool, raw):
    secret = f"s3cr3t-{secrets.token_hex(6)}"
    made = tool.call("create", image=BUSYBOX, name=unique("src"), env={"API_TOKEN": secret})
    src = made["container"]
    name = _snap_name()
    restored = None
    try:
        tool.call("exec", container=src, command="echo kept > state.txt")
        snap = tool.call("snapshot", container=src, name=name)
        assert snap["ok"], snap
        assert snap["snapshot"] == name
        assert snap["stripped_env"] == ["API_TOKEN"]
        attrs = raw.images.get(snap["image"]).attrs
        assert secret not in json.dumps(attrs)
        listed = tool.call("list_snapshots")
        assert name in [s["snapshot"] for s in listed["snapshots"]]
        restored = tool.call("restore", snapshot=name, name=unique("restored"), env={"B": "1"})
        assert restored["ok"], restored
        assert restored["snapshot"] == name
        check = tool.call(
            "exec",
            container=restored["container"],
            command='cat state.txt; echo "[${API_TOKEN}]"; echo $B',
        )
        assert check["stdout"] == "kept\n[]\n1\n"
        assert secret not in json.dumps(raw.containers.get(restored["container"]).attrs)
    finally:
        if restored and restored.get("ok"):
            tool.call("destroy", container=restored["container"])
        tool.call("destroy", container=src)
        tool.call("delete_snapshot", snapshot=name)
    assert tool.call("delete_snapshot", snapshot=name)["error"]["code"] == "not_found"


def test_restore_of_unknown_snapshot_is_not_found(tool):
    result = tool.call("restore", snapshot="never-made-" + secrets.token_hex(3))
    assert (result["error"]["code"], result["error"]["field"]) == ("not_found", "snapshot")


def test_restore_into_a_taken_name_is_a_conflict_and_leaves_it_untouched(tool, box, raw):
    name = _snap_name()
    before = raw.containers.get(box).id
    tool.call("exec", container=box, command="echo mine > /tmp/mark")
    try:
        assert tool.call("snapshot", container=box, name=name)["ok"]
        result = tool.call("restore", snapshot=name, name=box)
        assert (result["error"]["code"], result["error"]["field"]) == ("conflict", "name")
        assert raw.containers.get(box).id == before
        assert raw.containers.get(box).status == "running"
        mark = tool.call("exec", container=box, command="cat /tmp/mark")
        assert mark["stdout"] == "mine\n"
        again = tool.call("snapshot", container=box, name=name)
        assert (again["error"]["code"], again["error"]["field"]) == ("conflict", "name")
    finally:
        tool.call("delete_snapshot", snapshot=name)


def test_snapshot_names_are_validated(tool, box):
    for bad in ("../x", "a b", "-lead", "x" * 70, "UP:tag"):
        result = tool.call("snapshot", container=box, name=bad)
        assert (result["error"]["code"], result["error"]["field"]) == ("invalid_input", "name")
    bad_restore = tool.call("restore", snapshot="a/b")
    assert (bad_restore["error"]["code"], bad_restore["error"]["field"]) == (
        "invalid_input",
        "snapshot",
    )
    image = tool.call("restore", snapshot="ok-name", image=BUSYBOX)
    assert image["error"]["code"] == "invalid_input"


def test_snapshot_of_unknown_container_is_not_found(tool):
    result = tool.call("snapshot", container="no-such-" + secrets.token_hex(3), name=_snap_name())
    assert (result["error"]["code"], result["error"]["field"]) == ("not_found", "container")
