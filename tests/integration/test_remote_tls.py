"""Docker at tcp:// with mutual TLS (docker_cert_path): the tool's client side, for real."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from containers_tool import ContainersTool
from containers_tool.settings import Settings
from tests.integration.conftest import BUSYBOX, TEST_SESSION, raw_client, unique
from tests.integration.tls_proxy import DOCKER_SOCKET, TlsEndpoint, tls_docker


@pytest.fixture(scope="module")
def tls_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsEndpoint]:
    """Docker's API behind mutual TLS; fails under CI=true when Docker or openssl is missing."""
    problem = None
    if shutil.which("openssl") is None:
        problem = "openssl is not installed"
    elif not Path(DOCKER_SOCKET).exists():
        problem = f"no Docker socket at {DOCKER_SOCKET}"
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{problem}: required under CI=true")
        pytest.skip(problem)
    with tls_docker(tmp_path_factory.mktemp("tls")) as endpoint:
        yield endpoint


@pytest.fixture
def docker_raw() -> Iterator[Any]:
    client = raw_client("docker")
    yield client
    client.close()


def test_create_exec_destroy_over_mutual_tls(tls_endpoint: TlsEndpoint, docker_raw: Any) -> None:
    settings = Settings(
        runtime="docker", docker_host=tls_endpoint.url, docker_cert_path=str(tls_endpoint.cert_dir)
    )
    with ContainersTool(settings, session_id=f"{TEST_SESSION}-tls") as tool:
        report = tool.call("preflight")
        assert report["ok"], report
        assert report["endpoint"] == tls_endpoint.url
        name = unique("tls")
        made = tool.call("create", image=BUSYBOX, name=name)
        assert made["ok"], made
        assert docker_raw.containers.get(name).labels["io.containers-tool.session"] == (
            tool.session_id
        )
        ran = tool.call("exec", container=name, command="echo over-tls")
        assert ran["stdout"] == "over-tls\n"
        assert tool.call("destroy", container=name)["ok"]
    assert docker_raw.containers.list(all=True, filters={"name": f"^{name}$"}) == []


def test_a_server_the_ca_did_not_sign_is_refused(tls_endpoint: TlsEndpoint, tmp_path: Path) -> None:
    wrong = tmp_path / "certs"
    shutil.copytree(tls_endpoint.cert_dir, wrong)
    shutil.copy(tls_endpoint.other_ca, wrong / "ca.pem")
    settings = Settings(runtime="docker", docker_host=tls_endpoint.url, docker_cert_path=str(wrong))
    with ContainersTool(settings, reap_on_exit=False) as tool:
        out = tool.call("list")
    assert out["ok"] is False, out
    error = out["error"]
    assert isinstance(error, dict)
    assert error["code"] == "runtime_unavailable"


def test_without_a_client_certificate_the_engine_refuses(tls_endpoint: TlsEndpoint) -> None:
    settings = Settings(runtime="docker", docker_host=tls_endpoint.url)
    with ContainersTool(settings, reap_on_exit=False) as tool:
        out = tool.call("list")
    assert out["ok"] is False, out
    error = out["error"]
    assert isinstance(error, dict)
    assert error["code"] in ("runtime_unavailable", "engine_error")


def test_missing_cert_files_are_a_structured_error(tmp_path: Path) -> None:
    settings = Settings(
        runtime="docker", docker_host="tcp://127.0.0.1:1", docker_cert_path=str(tmp_path)
    )
    with ContainersTool(settings, reap_on_exit=False) as tool:
        out = tool.call("list")
    assert out["ok"] is False, out
    error = out["error"]
    assert isinstance(error, dict)
    assert error["code"] == "invalid_input"
    assert error["field"] == "docker_cert_path"
