"""Which endpoints count as remote, and how TLS settings are read (no engine needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from containers_tool.errors import InvalidInputError, RuntimeUnavailableError
from containers_tool.runtime.discovery import is_remote
from containers_tool.runtime.docker.connect import tls_config
from containers_tool.runtime.tunnel import SshTunnel
from containers_tool.settings import Settings


@pytest.mark.parametrize(
    ("url", "remote"),
    [
        ("unix:///var/run/docker.sock", False),
        ("ssh://root@127.0.0.1:2222", True),  # the login may land anywhere
        ("ssh://dev@build-host/run/podman/podman.sock", True),
        ("tcp://127.0.0.1:2376", False),
        ("tcp://localhost:2375", False),
        ("tcp://10.0.0.5:2376", True),
        ("https://engine.example:2376", True),
    ],
)
def test_is_remote(url: str, remote: bool) -> None:
    assert is_remote(url) is remote


def test_tls_needs_all_three_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_TLS_VERIFY", raising=False)
    (tmp_path / "ca.pem").write_text("x")
    settings = Settings(docker_cert_path=str(tmp_path))
    with pytest.raises(InvalidInputError) as raised:
        tls_config("tcp://10.0.0.5:2376", settings)
    assert raised.value.field == "docker_cert_path"
    assert "cert.pem" in raised.value.message
    assert "key.pem" in raised.value.message


def test_tls_is_only_for_tcp_and_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_TLS_VERIFY", raising=False)
    assert tls_config("tcp://10.0.0.5:2376", Settings()) is None
    assert tls_config("unix:///var/run/docker.sock", Settings(docker_cert_path="/x")) is None


def test_a_tunnel_without_a_host_is_refused() -> None:
    with pytest.raises(RuntimeUnavailableError, match="names no host"):
        SshTunnel("ssh:///run/podman/podman.sock", "/x", identity=None, known_hosts=None, hint="")
