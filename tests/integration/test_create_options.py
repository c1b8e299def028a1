"""create's shorthands from seed 003 on both engines: as_root, and the amplifier-only fields."""

from __future__ import annotations

from tests.integration.conftest import BUSYBOX, unique


def test_create_as_root_makes_every_exec_root(tool, raw):
    made = tool.call("create", image=BUSYBOX, name=unique("root"), as_root=True)
    assert made["ok"], made
    assert made["user"] == "0:0"
    ran = tool.call("exec", container=made["container"], command="id -u")
    assert ran["stdout"].strip() == "0"
    labels = raw.containers.get(made["container"]).labels
    assert labels["io.containers-tool.exec-user"] == "0:0"
    tool.call("destroy", container=made["container"])


def test_amplifier_fields_on_another_purpose_are_refused_before_anything_is_made(tool):
    before = tool.call("list", session_id=tool.session_id)["count"]
    for field in ("amplifier_version", "amplifier_bundle"):
        made = tool.call("create", image=BUSYBOX, **{field: "1.0"})
        assert (made["error"]["code"], made["error"]["field"]) == ("invalid_input", field)
    assert tool.call("list", session_id=tool.session_id)["count"] == before
