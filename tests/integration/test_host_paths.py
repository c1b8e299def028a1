"""One host-path policy for mounts, mount_cwd, copy_in and copy_out, on both engines.

Each refusal here was an escape: a hard link of the engine socket (a container then ran
`docker ps` against the host's engine), the engines' state directories, host system paths, a
copy_in of host secrets, a copy_out that wrote outside its destination through links.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from containers_tool import ContainersTool
from containers_tool.settings import Settings
from tests.integration.conftest import BUSYBOX, TEST_SESSION, unique

SOCKETS = {"docker": "/var/run/docker.sock", "podman": "/run/podman/podman.sock"}


def _no_container(raw, name):
    assert raw.containers.list(all=True, filters={"name": name}) == []


@pytest.fixture
def linked_socket(engine: str, tmp_path: Path) -> Iterator[Path]:
    """A hard link of the engine's socket (a name no name-check knows), removed afterwards.

    Left behind, it would be a live engine socket in the temp dir for anyone to mount.
    """
    (tmp_path / "d").mkdir()
    link = tmp_path / "d" / "innocent"
    os.link(SOCKETS[engine], link)
    yield link
    link.unlink()


@pytest.mark.parametrize("inside", [False, True], ids=["the-link", "a-dir-holding-it"])
def test_a_hard_link_of_the_engine_socket_is_refused_by_inode(tool, raw, linked_socket, inside):
    source = linked_socket.parent if inside else linked_socket
    name = unique("hl")
    got = tool.call(
        "create", name=name, image=BUSYBOX, mounts=[{"source": str(source), "target": "/s"}]
    )
    assert (got["error"]["code"], got["error"]["field"]) == ("policy_denied", "mounts"), got
    assert "socket" in got["error"]["message"]
    _no_container(raw, name)


@pytest.mark.parametrize(
    "source",
    [
        "/run/docker",
        "/run/docker/containerd/containerd.sock",
        "/var/lib/docker",
        "/var/lib/containers",
        "/etc",
        "/dev",
        "/proc/1/root",
        "/",
        "/root/.ssh",
    ],
)
def test_engine_state_and_sensitive_host_paths_are_refused(tool, raw, source):
    name = unique("hp")
    got = tool.call("create", name=name, image=BUSYBOX, mounts=[{"source": source, "target": "/h"}])
    assert (got["error"]["code"], got["error"]["field"]) == ("policy_denied", "mounts"), got
    _no_container(raw, name)


def test_a_symlink_is_judged_by_its_target(tool, raw, tmp_path):
    (tmp_path / "etc").symlink_to("/etc")
    name = unique("sl")
    mount = {"source": str(tmp_path / "etc"), "target": "/h"}
    got = tool.call("create", name=name, image=BUSYBOX, mounts=[mount])
    assert (got["error"]["code"], got["error"]["field"]) == ("policy_denied", "mounts"), got
    assert "/etc" in got["error"]["message"]
    _no_container(raw, name)


def test_a_path_longer_than_the_kernel_allows_is_invalid_input(tool, box):
    long = "/" + "a" * 50_000
    mount = tool.call("create", image=BUSYBOX, mounts=[{"source": long, "target": "/h"}])
    copy = tool.call("copy_in", container=box, source=long, destination="x")
    out = tool.call("copy_out", container=box, source="/etc/hostname", destination=long)
    for got in (mount, copy, out):
        assert got["error"]["code"] == "invalid_input", got
        assert len(str(got)) < 4000, "the path is not echoed whole"


def test_operators_can_widen_the_allowed_paths_but_not_past_the_deny_list(engine, raw, tmp_path):
    (tmp_path / "ok").mkdir()
    settings = Settings(runtime=engine, allowed_host_paths=["/"])
    with ContainersTool(settings, session_id=f"{TEST_SESSION}-{unique('wide')}") as wide:
        name = unique("wide")
        refused = wide.call(
            "create", name=name, image=BUSYBOX, mounts=[{"source": "/etc", "target": "/h"}]
        )
        assert refused["error"]["code"] == "policy_denied", refused
        mount = {"source": str(tmp_path / "ok"), "target": "/h"}
        made = wide.call("create", name=name, image=BUSYBOX, mounts=[mount])
        assert made["ok"], made
        assert wide.call("destroy", container=name)["ok"]
    narrow = Settings(runtime=engine, allowed_host_paths=[str(tmp_path / "only")])
    with ContainersTool(narrow, session_id=f"{TEST_SESSION}-{unique('narrow')}") as tool:
        name = unique("narrow")
        got = tool.call("create", name=name, image=BUSYBOX, mounts=[mount])
        assert got["error"]["code"] == "policy_denied", got
        assert "allowed_host_paths" in got["error"]["hint"]
        _no_container(raw, name)


def test_host_network_needs_the_privileged_opt_in(engine, tool, raw):
    name = unique("hostnet")
    got = tool.call("create", name=name, image=BUSYBOX, network="host")
    assert (got["error"]["code"], got["error"]["field"]) == ("policy_denied", "network"), got
    _no_container(raw, name)


@pytest.mark.parametrize("via_link", [False, True])
def test_copy_in_refuses_host_secrets(tool, box, tmp_path, via_link):
    source = "/etc/shadow"
    if via_link:
        (tmp_path / "s").symlink_to("/etc/shadow")
        source = str(tmp_path / "s")
    got = tool.call("copy_in", container=box, source=source, destination="stolen")
    assert (got["error"]["code"], got["error"]["field"]) == ("policy_denied", "source"), got
    check = tool.call("exec", container=box, command="test -e stolen")
    assert check["exit_code"] == 1, "nothing was copied in"


def test_copy_in_refuses_a_directory_holding_the_engine_socket(tool, box, linked_socket):
    source = str(linked_socket.parent.parent)
    got = tool.call("copy_in", container=box, source=source, destination="d")
    assert (got["error"]["code"], got["error"]["field"]) == ("policy_denied", "source"), got


def test_copy_out_refuses_destinations_outside_the_allowed_paths(tool, box, tmp_path):
    assert tool.call("exec", container=box, command="printf x > f")["exit_code"] == 0
    outside = "/etc/h12-copy-out-probe"
    got = tool.call("copy_out", container=box, source="f", destination=outside)
    assert (got["error"]["code"], got["error"]["field"]) == ("policy_denied", "destination"), got
    assert not Path(outside).exists()
    (tmp_path / "up").symlink_to("/root")
    via = tool.call("copy_out", container=box, source="f", destination=str(tmp_path / "up/x"))
    assert (via["error"]["code"], via["error"]["field"]) == ("policy_denied", "destination"), via
    assert not Path("/root/x").exists()


def test_copy_out_does_not_write_through_links_in_an_existing_destination(tool, box, tmp_path):
    made = "mkdir -p item/sub && printf x > item/sub/f"
    assert tool.call("exec", container=box, command=made)["exit_code"] == 0
    (tmp_path / "dest" / "item").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "dest" / "item" / "sub").symlink_to(tmp_path / "elsewhere")
    got = tool.call("copy_out", container=box, source="item", destination=str(tmp_path / "dest"))
    assert (got["error"]["code"], got["error"]["field"]) == ("policy_denied", "destination"), got
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.parametrize("target", ["/etc/passwd", "/etc", "f"])
def test_copy_out_of_a_link_is_refused_on_both_engines(tool, box, tmp_path, target):
    made = f"printf x > f && ln -s {target} ln"
    assert tool.call("exec", container=box, command=made)["exit_code"] == 0
    got = tool.call("copy_out", container=box, source="ln", destination=str(tmp_path / "out"))
    assert (got["error"]["code"], got["error"]["field"]) == ("policy_denied", "source"), got
    assert list(tmp_path.iterdir()) == []
