"""The host-path policy and compose resolution, as pure logic on temp files."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from containers_tool.core.compose_resolve import Resolver, escape, interpolate
from containers_tool.errors import InvalidInputError, PolicyDeniedError
from containers_tool.policy.host_paths import HostPaths, allowed_roots, socket_keys


@pytest.fixture
def fake_socket(tmp_path):
    path = tmp_path / "engine.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        yield path


def _paths(tmp_path: Path, sock: Path | None = None, allowed: list[str] | None = None) -> HostPaths:
    keys = frozenset({(sock.stat().st_dev, sock.stat().st_ino)}) if sock else frozenset()
    roots = allowed_roots(allowed or [str(tmp_path)])
    return HostPaths(allowed=roots, sockets=keys | socket_keys())


def test_a_hard_link_of_a_socket_and_a_directory_holding_one_are_refused(tmp_path, fake_socket):
    (tmp_path / "d" / "deep").mkdir(parents=True)
    os.link(fake_socket, tmp_path / "d" / "deep" / "plain-name")
    paths = _paths(tmp_path, fake_socket)
    for given in (tmp_path / "d" / "deep" / "plain-name", tmp_path / "d"):
        with pytest.raises(PolicyDeniedError, match="socket"):
            paths.check(given, "mounts")
    (tmp_path / "clean").mkdir()
    assert paths.check(tmp_path / "clean", "mounts") == (tmp_path / "clean").resolve()


def test_the_allow_list_decides_and_the_deny_list_holds_inside_it(tmp_path):
    with pytest.raises(PolicyDeniedError, match="outside the allowed host paths"):
        _paths(tmp_path).check("/srv", "mounts")
    wide = _paths(tmp_path, allowed=["/"])
    for denied in ("/etc", "/etc/passwd", "/", "/usr/share"):
        with pytest.raises(PolicyDeniedError):
            wide.check(denied, "mounts")
    home = _paths(tmp_path, allowed=[str(Path.home())])
    assert home.check(Path.home(), "mounts") == Path(os.path.realpath(Path.home()))
    with pytest.raises(PolicyDeniedError, match=r"\.ssh"):
        home.check(Path.home() / ".ssh" / "id_rsa", "mounts")


def test_links_are_judged_by_their_targets_and_bad_paths_are_invalid(tmp_path):
    (tmp_path / "out").symlink_to("/etc")
    with pytest.raises(PolicyDeniedError, match="/etc"):
        _paths(tmp_path).check(tmp_path / "out", "source")
    for bad in ("/" + "a" * 5000, "/x/" + "b" * 300, "/a\x00b"):
        with pytest.raises(InvalidInputError):
            _paths(tmp_path).check(bad, "source")


def test_interpolation_follows_compose():
    env = {"SET": "v", "EMPTY": ""}
    cases = {
        "${SET}": "v",
        "$SET/x": "v/x",
        "${UNSET:-d}": "d",
        "${EMPTY:-d}": "d",
        "${EMPTY-d}": "",
        "${SET:+alt}": "alt",
        "${UNSET:+alt}": "",
        "a$$b": "a$b",
        "${UNSET}": "",
    }
    for text, want in cases.items():
        assert interpolate(text, env, "f") == want, text
    with pytest.raises(InvalidInputError, match="needed"):
        interpolate("${UNSET:?needed}", env, "f")
    assert escape({"k": ["a$b"]}) == {"k": ["a$$b"]}
    deep: object = "x"
    for _ in range(100):
        deep = [deep]
    with pytest.raises(InvalidInputError, match="deeper"):
        interpolate(deep, env, "f")


def test_extends_env_file_and_paths_are_resolved_inside_the_project(tmp_path):
    (tmp_path / "base.yml").write_text(
        "services:\n  b:\n    image: i\n    cap_add: [NET_ADMIN]\n    volumes: ['./d:/d']\n",
        encoding="utf-8",
    )
    (tmp_path / "e.env").write_text("# c\nA=1\nexport B='two'\n", encoding="utf-8")
    (tmp_path / ".env").write_text("TAG=3\n", encoding="utf-8")
    doc = {
        "services": {
            "app": {
                "extends": {"file": "base.yml", "service": "b"},
                "image": "img:${TAG}",
                "env_file": "e.env",
                "environment": ["A=override", "TAG"],
                "cap_add": ["SYS_TIME"],
            },
            "off": {"image": "x", "profiles": ["debug"]},
        }
    }
    out = Resolver(tmp_path, _paths(tmp_path), "compose_file").resolve(doc)
    app = out["services"]["app"]
    assert app["image"] == "img:3"
    assert app["environment"] == {"A": "override", "B": "two", "TAG": "3"}
    assert app["cap_add"] == ["NET_ADMIN", "SYS_TIME"]
    assert app["volumes"] == [f"{tmp_path.resolve()}/d:/d"]
    assert "extends" not in app
    assert "env_file" not in app
    assert "off" not in out["services"]
    outside = {"services": {"app": {"image": "i", "env_file": ["/etc/hostname"]}}}
    with pytest.raises(PolicyDeniedError, match="env_file"):
        Resolver(tmp_path, _paths(tmp_path, allowed=["/"]), "f").resolve(outside)
