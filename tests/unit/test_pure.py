"""Pure logic: sizes, labels, settings precedence, discovery, archive safety."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from containers_tool import labels as lb
from containers_tool.archive import pack, unpack
from containers_tool.errors import InvalidInputError, PolicyDeniedError, RuntimeUnavailableError
from containers_tool.runtime.discovery import discover
from containers_tool.settings import Settings
from containers_tool.sizes import parse_size


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("512m", 512 * 2**20),
        ("2g", 2 * 2**30),
        ("1.5G", int(1.5 * 2**30)),
        ("64MiB", 64 * 2**20),
        ("100", 100),
    ],
)
def test_parse_size_accepts_units(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["lots", "", "-1g", "0", "12q"])
def test_parse_size_rejects_non_sizes(text):
    with pytest.raises(ValueError):  # noqa: PT011
        parse_size(text)


def test_user_labels_refuse_the_tool_namespace():
    with pytest.raises(InvalidInputError):
        lb.user_labels({"io.containers-tool.managed-by": "me"})
    assert lb.user_labels({"app": "web"}) == {"app": "web"}


def test_settings_precedence_argument_env_yaml(tmp_path, monkeypatch):
    config = tmp_path / "config.yaml"
    config.write_text(
        "memory_limit: 1g\npids_limit: 77\ndefault_image: from-yaml\n", encoding="utf-8"
    )
    monkeypatch.setenv("CONTAINERS_TOOL_CONFIG", str(config))
    monkeypatch.setenv("CONTAINERS_TOOL_MEMORY_LIMIT", "3g")
    monkeypatch.setenv("CONTAINERS_TOOL_IMAGE_OVERRIDES__debian:12-slim", "mirror/debian:12")
    settings = Settings(pids_limit=5)
    assert settings.pids_limit == 5  # argument beats YAML
    assert settings.memory_limit == "3g"  # env beats YAML
    assert settings.default_image == "from-yaml"  # YAML beats default
    assert settings.resolve_image("debian:12-slim") == "mirror/debian:12"


def test_image_prefix_applies_to_registry_images_only():
    settings = Settings(image_prefix="mirror.local:5000/hub")
    assert settings.resolve_image("python:3.12-slim") == "mirror.local:5000/hub/python:3.12-slim"
    assert settings.resolve_image("localhost/base/debian:12") == "localhost/base/debian:12"


def test_discovery_reports_what_it_tried(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/d.sock")
    with pytest.raises(RuntimeUnavailableError) as info:
        discover("docker", docker_host="unix:///nonexistent/e.sock")
    assert "nonexistent/e.sock" in info.value.message or "d.sock" in info.value.message


def _tar(members: list[tarfile.TarInfo], payload: bytes = b"x") -> list[bytes]:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for m in members:
            tar.addfile(m, io.BytesIO(payload) if m.isfile() else None)
    return [buf.getvalue()]


def _file(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = 1
    return info


def test_unpack_refuses_members_outside_destination(tmp_path):
    chunks = _tar([_file("item/ok"), _file("item/../../escape")])
    with pytest.raises(PolicyDeniedError):
        unpack(iter(chunks), tmp_path / "out", into_dir=False)
    assert not (tmp_path.parent / "escape").exists()
    assert not (tmp_path / "out").exists(), "a refused archive leaves nothing behind"


def test_unpack_refuses_links_that_escape(tmp_path):
    top = tarfile.TarInfo("item")
    top.type = tarfile.DIRTYPE
    for target in ("/etc/passwd", "../../outside"):
        link = tarfile.TarInfo("item/link")
        link.type, link.linkname = tarfile.SYMTYPE, target
        with pytest.raises(PolicyDeniedError):
            unpack(iter(_tar([top, link])), tmp_path / "o", into_dir=False)
    assert list(tmp_path.iterdir()) == []


def _dir(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    return info


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.mark.parametrize("into_dir", [False, True])
@pytest.mark.parametrize(
    "members",
    [
        [_dir("d"), _link("d/up", "..")],
        [_dir("d"), _dir("d/a"), _link("d/a/b", "../..")],
        [_dir("d"), _link("d/sib", "../sibling")],
        # A chain: each link alone resolves inside by name, together they leave.
        [_dir("d"), _link("d/self", "."), _link("d/x", "self/..")],
        [_link("lone", "neighbour")],
        [_dir("d"), _link("d/hard", "other/f", tarfile.LNKTYPE)],
    ],
    ids=["up", "up-two", "sibling", "chain", "lone-link", "hard-link"],
)
def test_unpack_refuses_relative_links_leaving_the_final_destination(tmp_path, members, into_dir):
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(PolicyDeniedError) as info:
        unpack(iter(_tar(members)), dest if into_dir else dest / "out", into_dir=into_dir)
    assert info.value.field == "source"
    assert list(dest.iterdir()) == [], "a refused archive leaves nothing behind"


def test_unpack_keeps_relative_links_inside_the_item(tmp_path):
    members = [
        _dir("d"),
        _dir("d/a"),
        _file("d/a/f"),
        _link("d/to-f", "a/f"),
        _link("d/a/up", ".."),
        _link("d/self", "."),
        _link("d/dangling", "a/later"),
        _link("d/hard", "d/a/f", tarfile.LNKTYPE),
    ]
    files, _ = unpack(iter(_tar(members)), tmp_path / "out", into_dir=False)
    assert files == 1
    out = tmp_path / "out"
    assert (out / "to-f").read_bytes() == b"x"
    assert (out / "a" / "up").resolve() == out.resolve()
    assert (out / "hard").read_bytes() == b"x"


def test_unpack_keeps_absolute_member_names_inside_destination(tmp_path):
    files, _ = unpack(iter(_tar([_file("/etc/evil")])), tmp_path / "o", into_dir=False)
    assert files == 1
    assert (tmp_path / "o" / "evil").read_bytes() == b"x"


def test_pack_then_unpack_round_trips_a_tree(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"alpha")
    (src / "sub" / "b.bin").write_bytes(bytes(range(256)))
    packed = pack(src, "copy", uid=1000, gid=1000)
    assert (packed.files, packed.size) == (2, 5 + 256)
    with packed.file:
        files, size = unpack(packed.chunks(), tmp_path / "dst", into_dir=False)
    assert (files, size) == (2, 261)
    assert (tmp_path / "dst" / "sub" / "b.bin").read_bytes() == bytes(range(256))


def test_unpack_into_missing_parent_is_invalid_input(tmp_path):
    with pytest.raises(InvalidInputError):
        unpack(iter(_tar([_file("x")])), Path(tmp_path / "no" / "such"), into_dir=False)
