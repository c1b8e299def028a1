"""copy_in / copy_out on both engines: files, directories, ownership, safety."""

from __future__ import annotations

import os

from tests.integration.conftest import BUSYBOX, unique


def test_copy_in_file_and_directory(tool, box, tmp_path):
    (tmp_path / "src" / "deep").mkdir(parents=True)
    (tmp_path / "src" / "a.txt").write_text("alpha", encoding="utf-8")
    (tmp_path / "src" / "deep" / "b.txt").write_text("beta", encoding="utf-8")
    one = tool.call(
        "copy_in",
        container=box,
        source=str(tmp_path / "src" / "a.txt"),
        destination="notes/a-copy.txt",
    )
    assert (one["files"], one["bytes"]) == (1, 5)
    assert tool.call("exec", container=box, command="cat notes/a-copy.txt")["stdout"] == "alpha"
    tree = tool.call("copy_in", container=box, source=str(tmp_path / "src"), destination="/opt/x/")
    assert (tree["files"], tree["bytes"]) == (2, 9)
    assert tool.call("exec", container=box, command="cat /opt/x/src/deep/b.txt")["stdout"] == "beta"


def test_copy_in_files_are_owned_by_the_mapped_user(tool, tmp_path):
    name = unique("own")
    assert tool.call("create", name=name, image=BUSYBOX, user="1000:1000")["ok"]
    (tmp_path / "f").write_text("x", encoding="utf-8")
    assert tool.call("copy_in", container=name, source=str(tmp_path / "f"), destination="f")["ok"]
    st = tool.call("exec", container=name, command="stat -c '%u:%g' /workspace/f")
    assert st["stdout"] == "1000:1000\n"
    tool.call("destroy", container=name)


def test_copy_out_file_and_directory(tool, box, tmp_path):
    tool.call(
        "exec", container=box, command="mkdir -p d/e && printf 1 > d/one && printf 22 > d/e/two"
    )
    got = tool.call("copy_out", container=box, source="d", destination=str(tmp_path / "out"))
    assert (got["files"], got["bytes"]) == (2, 3)
    assert (tmp_path / "out" / "e" / "two").read_text(encoding="utf-8") == "22"
    into = tool.call("copy_out", container=box, source="d/one", destination=str(tmp_path) + "/")
    assert into["destination"] == str(tmp_path / "one")
    assert (tmp_path / "one").read_text(encoding="utf-8") == "1"
    assert (tmp_path / "one").stat().st_uid == os.getuid()


def test_copy_errors_name_the_field(tool, box, tmp_path):
    missing_host = tool.call(
        "copy_in", container=box, source=str(tmp_path / "nope"), destination="x"
    )
    assert (missing_host["error"]["code"], missing_host["error"]["field"]) == (
        "not_found",
        "source",
    )
    missing_ctr = tool.call("copy_out", container=box, source="/no/such", destination=str(tmp_path))
    assert (missing_ctr["error"]["code"], missing_ctr["error"]["field"]) == ("not_found", "source")


def test_copy_out_refuses_links_leaving_the_destination(tool, box, tmp_path):
    tool.call("exec", container=box, command="mkdir -p evil && ln -s /etc/passwd evil/link")
    result = tool.call("copy_out", container=box, source="evil", destination=str(tmp_path / "e"))
    assert (result["error"]["code"], result["error"]["field"]) == ("policy_denied", "source")
    assert not (tmp_path / "e").exists()


def test_copy_in_file_onto_an_existing_directory_puts_it_inside(tool, box, tmp_path):
    tool.call("exec", container=box, command="mkdir -p src && printf a > src/a && printf b > src/b")
    (tmp_path / "new.txt").write_text("new", encoding="utf-8")
    got = tool.call("copy_in", container=box, source=str(tmp_path / "new.txt"), destination="src")
    assert got["ok"], got
    assert got["destination"] == "/workspace/src/new.txt"
    listing = tool.call("exec", container=box, command="cat src/a src/b src/new.txt")
    assert listing["stdout"] == "abnew"
    # A directory source lands inside too, and the others still stay.
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("m", encoding="utf-8")
    tree = tool.call("copy_in", container=box, source=str(tmp_path / "pkg"), destination="src")
    assert tree["destination"] == "/workspace/src/pkg"
    assert tool.call("exec", container=box, command="cat src/a src/pkg/m.py")["stdout"] == "am"


def test_copy_in_onto_a_link_to_a_directory_goes_into_its_target(tool, box, tmp_path):
    made = "mkdir -p real && printf k > real/keep && ln -s real ln"
    assert tool.call("exec", container=box, command=made)["exit_code"] == 0
    (tmp_path / "f").write_text("f", encoding="utf-8")
    got = tool.call("copy_in", container=box, source=str(tmp_path / "f"), destination="ln")
    assert got["ok"], got
    check = tool.call("exec", container=box, command="test -L ln && cat real/keep real/f")
    assert (check["exit_code"], check["stdout"]) == (0, "kf")


def test_copy_out_refuses_relative_links_that_leave_the_copied_item(tool, box, tmp_path):
    made = "mkdir -p rel/sub && printf 1 > rel/sub/f && ln -s .. rel/up && ln -s sub/f rel/ok"
    assert tool.call("exec", container=box, command=made)["exit_code"] == 0
    for dest in (str(tmp_path / "out"), str(tmp_path) + "/"):
        got = tool.call("copy_out", container=box, source="rel", destination=dest)
        assert (got["error"]["code"], got["error"]["field"]) == ("policy_denied", "source"), got
    assert list(tmp_path.iterdir()) == []
    # Links that stay inside the item are kept as links.
    assert tool.call("exec", container=box, command="rm rel/up")["exit_code"] == 0
    got = tool.call("copy_out", container=box, source="rel", destination=str(tmp_path / "out"))
    assert got["ok"], got
    assert (tmp_path / "out" / "ok").is_symlink()
    assert (tmp_path / "out" / "ok").read_text(encoding="utf-8") == "1"
