"""A container replaced by another tool instance (or process): this one follows the name.

The containers are persistent: only those are shared by the sessions of a tenant.
"""

from __future__ import annotations

from containers_tool import ContainersTool
from containers_tool.settings import Settings
from tests.integration.conftest import BUSYBOX, TEST_SESSION, absent, unique


def _pair(engine):
    settings = Settings(runtime=engine)
    return (
        ContainersTool(settings, session_id=f"{TEST_SESSION}-{engine}-a"),
        ContainersTool(settings, session_id=f"{TEST_SESSION}-{engine}-b"),
    )


def _replace(other, name):
    assert other.call("destroy", container=name)["ok"]
    assert other.call("create", name=name, image=BUSYBOX, persistent=True)["ok"]
    marked = other.call("exec", container=name, command="echo new > /tmp/which")
    assert marked["exit_code"] == 0


def test_operations_follow_a_container_replaced_by_another_instance(engine, raw, tmp_path):
    one, other = _pair(engine)
    name = unique("repl")
    try:
        assert one.call("create", name=name, image=BUSYBOX, persistent=True)["ok"]
        assert one.call("exec", container=name, command="true")["exit_code"] == 0  # cached
        _replace(other, name)
        got = one.call("exec", container=name, command="cat /tmp/which")
        assert (got["ok"], got.get("stdout")) == (True, "new\n"), got

        _replace(other, name)
        assert one.call("status", container=name)["id"] == raw.containers.get(name).id[:12]
        _replace(other, name)
        out = one.call("copy_out", container=name, source="/tmp/which", destination=str(tmp_path))
        assert out["ok"], out
        assert (tmp_path / "which").read_text(encoding="utf-8") == "new\n"
        _replace(other, name)
        (tmp_path / "f").write_text("f", encoding="utf-8")
        put = one.call("copy_in", container=name, source=str(tmp_path / "f"), destination="f")
        assert put["ok"], put
        assert other.call("exec", container=name, command="cat f")["stdout"] == "f"
    finally:
        other.call("destroy", container=name)
        one.close()
        other.close()


def test_destroy_removes_the_container_that_now_has_the_name(engine, raw):
    one, other = _pair(engine)
    name = unique("repl")
    try:
        assert one.call("create", name=name, image=BUSYBOX, persistent=True)["ok"]
        assert one.call("status", container=name)["ok"]  # cached
        _replace(other, name)
        new_id = raw.containers.get(name).id
        assert one.call("destroy", container=name)["destroyed"] == [name]
        assert absent(raw, new_id)
        gone = one.call("exec", container=name, command="true")
        assert (gone["error"]["code"], gone["error"]["field"]) == ("not_found", "container")
    finally:
        other.call("destroy", container=name)
        one.close()
        other.close()
