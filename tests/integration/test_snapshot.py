"""Snapshots on both engines: round trip, stripped secrets, and the error cases."""

from __future__ import annotations

import gzip
import json
import secrets
import tarfile
from pathlib import Path
from typing import Any

from tests.integration.conftest import BUSYBOX, unique


def _snap_name() -> str:
    return f"snap-{secrets.token_hex(4)}"


def _saved_files(raw: Any, ref: str, folder: Path) -> list[bytes]:
    """Saves an image with the engine's own SDK; returns every file of it, layers unpacked."""
    archive = folder / "image.tar"
    with archive.open("wb") as out:
        for chunk in raw.images.get(ref).save():
            out.write(chunk)
    files = []
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            handle = tar.extractfile(member) if member.isfile() else None
            if handle is not None:
                data = handle.read()
                files.append(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
    return files


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


def test_snapshot_carries_no_secret_printed_by_a_job(tool, raw, monkeypatch, tmp_path):
    var = f"CT_TEST_TOKEN_{secrets.token_hex(3).upper()}"
    secret = f"tok-{secrets.token_hex(12)}"
    monkeypatch.setenv(var, secret)
    made = tool.call("create", image=BUSYBOX, name=unique("jobsrc"), env_passthrough=[var])
    assert made["ok"], made
    src = made["container"]
    name = _snap_name()
    restored = None
    try:
        job = tool.call("exec_background", container=src, command=f'echo "job saw ${var}"')
        assert job["output_path"].startswith("/run/containers-tool/"), job
        polled = tool.call("exec_poll", container=src, job_id=job["job_id"], wait=10)
        assert (polled["exit_code"], polled["output"]) == (0, f"job saw {secret}\n")
        snap = tool.call("snapshot", container=src, name=name)
        assert snap["ok"], snap
        files = _saved_files(raw, snap["image"], tmp_path)
        assert len(files) >= 2  # the manifest or config, and at least one layer
        leaks = sum(secret.encode() in f for f in files)
        assert leaks == 0, f"{leaks} file(s) of the saved image hold the secret"
        restored = tool.call("restore", snapshot=name, name=unique("jobdst"))
        assert restored["ok"], restored
        listed = tool.call("list_jobs", container=restored["container"])
        assert (listed["ok"], listed["count"]) == (True, 0)
    finally:
        if restored and restored.get("ok"):
            tool.call("destroy", container=restored["container"])
        tool.call("destroy", container=src)
        tool.call("delete_snapshot", snapshot=name)


SNAPSHOT_KEYS = {
    "managed-by",
    "snapshot",
    "snapshot-of",
    "tenant",
    "created",
    "workdir",
    "stripped-env",
}


def test_a_restored_container_has_its_own_labels_not_its_sources(tool, raw, monkeypatch):
    var = f"CT_TEST_TOKEN_{secrets.token_hex(3).upper()}"
    monkeypatch.setenv(var, "forwarded")
    other_session = f"other-{secrets.token_hex(4)}"
    made = tool.call(
        "create",
        image=BUSYBOX,
        name=unique("lblsrc"),
        persistent=True,
        session_id=other_session,
        env_passthrough=[var],
        labels={"app.role": "db"},
    )
    assert made["ok"], made
    src = made["container"]
    name = _snap_name()
    restored = None
    try:
        snap = tool.call("snapshot", container=src, name=name)
        assert snap["ok"], snap
        image_labels = raw.images.get(snap["image"]).labels
        tool_keys = {k.removeprefix("io.containers-tool.") for k in image_labels}
        assert tool_keys - {"app.role"} <= SNAPSHOT_KEYS
        assert image_labels["app.role"] == "db"
        restored = tool.call("restore", snapshot=name, name=unique("lbldst"))
        assert restored["ok"], restored
        status = tool.call("status", container=restored["container"])
        assert (status["persistent"], status["session_id"]) == (False, tool.session_id)
        assert status["labels"] == {"app.role": "db"}
        labels = raw.containers.get(restored["container"]).labels
        assert not {"envfile", "forwarded-env"} & {
            k.removeprefix("io.containers-tool.") for k in labels
        }
        ran = tool.call("exec", container=restored["container"], command="echo ok")
        assert ran["stdout"] == "ok\n"
    finally:
        if restored and restored.get("ok"):
            tool.call("destroy", container=restored["container"])
        tool.call("destroy", container=src)
        tool.call("delete_snapshot", snapshot=name)


def test_snapshot_keeps_values_with_quotes_newlines_dollars_and_backslashes(tool, raw):
    tricky = 'say "hi"\nsecond line $HOME \\n end'
    # An image whose own ENV holds the value: snapshot keeps image env values (it strips the
    # ones given at create), so this is the value its rebuilt config must carry.
    holder = raw.containers.create(BUSYBOX, command=["sh"], environment={"TRICKY": tricky})
    base = f"localhost/h12-tricky:{secrets.token_hex(4)}"
    repo, _, tag = base.rpartition(":")
    try:
        holder.commit(repository=repo, tag=tag)
    finally:
        holder.remove(force=True)
    made = tool.call("create", image=base, name=unique("quote"), labels={"note": tricky})
    name = _snap_name()
    try:
        assert made["ok"], made
        snap = tool.call("snapshot", container=made["container"], name=name)
        assert snap["ok"], snap
        config = raw.images.get(snap["image"]).attrs["Config"]
        assert f"TRICKY={tricky}" in config["Env"]
        assert config["Labels"]["note"] == tricky
    finally:
        tool.call("delete_snapshot", snapshot=name)
        tool.call("destroy", container=made.get("container", ""))
        raw.images.remove(base, force=True)
