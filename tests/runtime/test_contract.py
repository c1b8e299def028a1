"""The runtime contract: the same assertions against every registered backend.

The core (containers, exec, files) is required of all; each optional capability is checked on
the backends that declare it, and a backend that lacks one must not have half of it.
"""

from __future__ import annotations

import contextlib
import io
import secrets
import tarfile
from collections.abc import Iterator

import pytest

from containers_tool.errors import ConflictError, NotFoundError
from containers_tool.runtime.capabilities import (
    CAPABILITIES,
    Images,
    Networks,
    Shell,
    Volumes,
    supports,
)
from containers_tool.runtime.protocol import Runtime
from containers_tool.runtime.types import ContainerSpec, ExecRequest
from tests.integration.conftest import wait_until
from tests.runtime.conftest import LABELS

BUSYBOX = "localhost/base/busybox:latest"
KEEP_ALIVE = ["sleep", "600"]


def _name(kind: str) -> str:
    return f"ct-contract-{kind}-{secrets.token_hex(4)}"


@pytest.fixture
def running(backend: Runtime) -> Iterator[str]:
    cid = backend.create_container(
        ContainerSpec(name=_name("c"), image=BUSYBOX, command=KEEP_ALIVE, labels=LABELS)
    )
    backend.start_container(cid)
    yield cid
    backend.remove_container(cid)


def _tar(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_info_names_the_backend(backend: Runtime) -> None:
    info = backend.info()
    assert info.name == backend.name
    assert info.version
    assert isinstance(backend.remote, bool)


def test_a_container_is_created_started_listed_and_removed(backend: Runtime) -> None:
    name = _name("life")
    cid = backend.create_container(
        ContainerSpec(name=name, image=BUSYBOX, command=KEEP_ALIVE, labels=LABELS)
    )
    assert backend.inspect_container(cid).state == "created"
    backend.start_container(cid)
    info = backend.inspect_container(name)
    assert info.id == cid
    assert info.state == "running"
    assert info.labels[next(iter(LABELS))] == next(iter(LABELS.values()))
    assert cid in {c.id for c in backend.list_containers(LABELS)}
    backend.remove_container(cid)
    backend.remove_container(cid)  # idempotent
    with pytest.raises(NotFoundError):
        backend.inspect_container(cid)
    assert cid not in {c.id for c in backend.list_containers(LABELS)}


def test_a_taken_name_is_a_conflict_and_a_missing_image_not_found(
    backend: Runtime, running: str
) -> None:
    taken = backend.inspect_container(running).name
    with pytest.raises(ConflictError):
        backend.create_container(
            ContainerSpec(name=taken, image=BUSYBOX, command=KEEP_ALIVE, labels=LABELS)
        )
    with pytest.raises(NotFoundError):
        backend.create_container(
            ContainerSpec(
                name=_name("noimg"),
                image="localhost/ct-contract/absent:1",
                command=KEEP_ALIVE,
                labels=LABELS,
            )
        )


def test_exec_returns_exit_code_and_both_streams(backend: Runtime, running: str) -> None:
    result = backend.exec_command(
        running,
        ExecRequest(["sh", "-c", 'echo "out $X"; echo err >&2; exit 3'], env={"X": "1"}),
    )
    assert result.exit_code == 3
    assert result.stdout.text == "out 1\n"
    assert result.stderr.text == "err\n"
    assert not result.timed_out


def test_exec_timeout_kills_the_command(backend: Runtime, running: str) -> None:
    result = backend.exec_command(running, ExecRequest(["sleep", "30"], timeout_s=1))
    assert result.timed_out
    left = backend.exec_command(running, ExecRequest(["ps", "-o", "args"]))
    assert "sleep 30" not in [line.strip() for line in left.stdout.text.splitlines()]


def test_files_go_in_and_come_out_and_stat_tells_what_they_are(
    backend: Runtime, running: str
) -> None:
    backend.put_archive(running, "/tmp", _tar("hello.txt", b"hi\n"))
    stat = backend.stat_path(running, "/tmp/hello.txt")
    assert stat is not None
    assert (stat.is_dir, stat.size) == (False, 3)
    assert backend.stat_path(running, "/tmp/absent") is None
    data = b"".join(backend.get_archive(running, "/tmp/hello.txt"))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.extractfile("hello.txt")
        assert member is not None
        assert member.read() == b"hi\n"


def test_logs_hold_the_main_process_output(backend: Runtime) -> None:
    cid = backend.create_container(
        ContainerSpec(
            name=_name("logs"),
            image=BUSYBOX,
            command=["sh", "-c", "echo one; echo two >&2"],
            labels=LABELS,
            init=False,
        )
    )
    try:
        backend.start_container(cid)
        assert wait_until(lambda: backend.inspect_container(cid).state == "exited")
        logs = backend.container_logs(cid, tail=None, since_s=None, limit=4096)
        assert logs.stdout.text == "one\n"
        assert logs.stderr.text == "two\n"
    finally:
        backend.remove_container(cid)


def test_a_capability_is_whole_or_absent(backend: Runtime) -> None:
    for name, capability in CAPABILITIES.items():
        methods = [m for m in dir(capability) if not m.startswith("_") and m not in dir(Runtime)]
        present = [m for m in methods if callable(getattr(backend, m, None))]
        assert present in ([], methods), f"{backend.name} has half of {name}: {present}"


def test_images_capability(backend: Runtime) -> None:
    images = supports(backend, Images)
    if images is None:
        pytest.skip(f"{backend.name} declares no images capability")
    assert images.image_exists(BUSYBOX)
    assert not images.image_exists("localhost/ct-contract/absent:1")
    info = images.inspect_image(BUSYBOX)
    assert info.id
    with pytest.raises(NotFoundError):
        images.inspect_image("localhost/ct-contract/absent:1")


def test_networks_capability(backend: Runtime, running: str) -> None:
    networks = supports(backend, Networks)
    if networks is None:
        pytest.skip(f"{backend.name} declares no networks capability")
    name = backend.inspect_container(running).name
    made = networks.create_network(_name("net"), LABELS, internal=True)
    try:
        assert made.name in {n.name for n in networks.list_networks(LABELS)}
        networks.connect_network(made.name, running, ["contract-alias"])
        assert name in networks.inspect_network(made.name).containers
        assert made.name in networks.container_addresses(running)
        networks.disconnect_network(made.name, running)
        assert name not in networks.inspect_network(made.name).containers
    finally:
        with contextlib.suppress(NotFoundError):
            networks.disconnect_network(made.name, running)
        networks.remove_network(made.name)
    networks.remove_network(made.name)  # idempotent
    with pytest.raises(NotFoundError):
        networks.inspect_network(made.name)


def test_volumes_capability_lists_by_label(backend: Runtime) -> None:
    volumes = supports(backend, Volumes)
    if volumes is None:
        pytest.skip(f"{backend.name} declares no volumes capability")
    assert volumes.list_volumes(LABELS) == []
    volumes.remove_volume(_name("vol"))  # idempotent: an absent volume is no error


def test_shell_capability_attaches_stdin(backend: Runtime, running: str) -> None:
    shell = supports(backend, Shell)
    if shell is None:
        pytest.skip(f"{backend.name} declares no shell capability")
    channel = shell.open_shell(running, ["cat"], env={}, user=None, workdir=None)
    try:
        channel.send(b"ping\n")
        frame = channel.recv(10.0)
        assert frame == (1, b"ping\n")
    finally:
        channel.close()
    argv = shell.shell_command(running, user=None, workdir=None, shell=["sh"])  # noqa: S604
    assert argv[-1] == "sh"
