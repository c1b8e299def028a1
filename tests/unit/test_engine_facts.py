"""Engine facts on disk: kept while the engine's socket is the same, dropped when it is not."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from containers_tool.core import facts
from containers_tool.runtime.types import EngineInfo


def _listen(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.listen()
    return sock


def _info(endpoint: str) -> EngineInfo:
    return EngineInfo(
        name="podman",
        version="4.3.1",
        api_version="4.3.1",
        endpoint=endpoint,
        rootless=False,
        cpus=2,
        memory_bytes=8 << 30,
        storage_root="/var/lib/containers/storage",
    )


def test_facts_are_kept_until_the_socket_is_made_again(tmp_path: Path) -> None:
    # Short path: a unix socket's path must fit in 108 bytes.
    sock_path = Path(tmp_path, "e.sock")
    endpoint = f"unix://{sock_path}"
    first = _listen(sock_path)
    info = _info(endpoint)
    facts.save(tmp_path / "state", "podman x", info)
    assert facts.load(tmp_path / "state", "podman x", endpoint) == info
    assert facts.load(tmp_path / "state", "docker x", endpoint) is None, "per engine key"
    first.close()
    sock_path.unlink()
    second = _listen(sock_path)  # the engine restarted: a new socket
    try:
        assert facts.load(tmp_path / "state", "podman x", endpoint) is None
    finally:
        second.close()


def test_remote_engines_and_unreadable_files_are_never_trusted(tmp_path: Path) -> None:
    remote = _info("tcp://10.0.0.2:2375")
    facts.save(tmp_path, "podman tcp", remote)
    assert not (tmp_path / facts.FILE).exists()
    assert facts.load(tmp_path, "podman tcp", remote.endpoint) is None
    sock_path = Path(tmp_path, "e.sock")
    with _listen(sock_path):
        endpoint = f"unix://{sock_path}"
        (tmp_path / facts.FILE).write_text("{not json", encoding="utf-8")
        assert facts.load(tmp_path, "k", endpoint) is None
        facts.save(tmp_path, "k", _info(endpoint))  # a broken file is replaced
        assert facts.load(tmp_path, "k", endpoint) == _info(endpoint)
        saved = json.loads((tmp_path / facts.FILE).read_text(encoding="utf-8"))
        saved["k"]["info"]["added_by_a_newer_tool"] = 1
        (tmp_path / facts.FILE).write_text(json.dumps(saved), encoding="utf-8")
        assert facts.load(tmp_path, "k", endpoint) is None, "other fields: ask the engine"
