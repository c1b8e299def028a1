"""Fixtures over both engines: `engine`, a `tool` bound to it, and the raw SDK to check state."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker.errors
import podman.errors
import pytest

from containers_tool import ContainersTool
from containers_tool.errors import RuntimeUnavailableError
from containers_tool.runtime.backends import get_runtime
from containers_tool.runtime.discovery import discover
from containers_tool.runtime.protocol import Runtime
from containers_tool.settings import Settings

ENGINES = ["docker", "podman"]
TEST_SESSION = f"test-{secrets.token_hex(4)}"
BUSYBOX = "localhost/base/busybox:latest"
DEBIAN = "localhost/base/debian:12"


def _connect(engine: str) -> Runtime:
    try:
        runtime = get_runtime(Settings(runtime=engine))
        runtime.info()
    except RuntimeUnavailableError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{engine} is unreachable under CI=true: {exc.message} ({exc.hint})")
        pytest.skip(f"{engine} unreachable: {exc.hint}")
    return runtime


@pytest.fixture(scope="session", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The engine name; fails under CI=true when it is unreachable."""
    runtime = _connect(request.param)
    runtime.close()
    return str(request.param)


@pytest.fixture(scope="session")
def session_tool(engine: str) -> Iterator[ContainersTool]:
    tool = ContainersTool(Settings(runtime=engine), session_id=f"{TEST_SESSION}-{engine}")
    yield tool
    tool.call("destroy_all", confirm=True, session_id=tool.session_id)
    tool.close()


@pytest.fixture
def tool(session_tool: ContainersTool) -> ContainersTool:
    """A tool bound to the engine; everything it makes is removed at the end of the run."""
    return session_tool


@pytest.fixture
def raw(engine: str) -> Iterator[Any]:
    """The engine's own SDK client, to check engine state independently of the tool."""
    client = raw_client(engine)
    yield client
    client.close()


def raw_client(engine: str) -> Any:
    """The engine's SDK client on the endpoint the tool itself discovers (env, then sockets)."""
    settings = Settings(runtime=engine)
    url = discover(engine, settings.docker_host, settings.podman_host).url
    if engine == "docker":
        import docker

        return docker.DockerClient(base_url=url)
    import podman

    return podman.PodmanClient(base_url=url)


@pytest.fixture
def box(tool: ContainersTool) -> Iterator[str]:
    """A running busybox container made by the tool, removed after the test."""
    made = tool.call("create", image=BUSYBOX, name=unique("box"))
    assert made["ok"], made
    yield str(made["container"])
    tool.call("destroy", container=made["container"])


def absent(raw: Any, name_or_id: str) -> bool:
    """Tells whether the engine has no container by that name or id.

    Asked directly: listing every container and inspecting each one races with other test
    files removing theirs at the same time.
    """
    try:
        raw.containers.get(name_or_id)
    except (docker.errors.NotFound, podman.errors.NotFound):
        return True
    return False


def unique(prefix: str = "t") -> str:
    """A container name no other test uses."""
    return f"{prefix}-{secrets.token_hex(4)}"


def wait_until(pred: Callable[[], bool], timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Polls `pred` until true or the deadline passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return pred()


def host_repo(path: Path, files: dict[str, str]) -> None:
    """Makes a one-commit git repository on the host (mounted into containers to clone from)."""
    path.mkdir()
    git = ["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    for name, text in files.items():
        (path / name).write_text(text, encoding="utf-8")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)


@pytest.fixture
def tenants(engine: str, tmp_path: Path) -> Iterator[Callable[..., ContainersTool]]:
    """Makes tools of fresh tenants (`t-<hex>`: parallel runs never share one); cleans them up.

    `tenants("a")` is a tool of this test's tenant "a" with a fresh session; passing the same
    key again gives another session of that tenant; `session_id` and settings go through.
    """
    names: dict[str, str] = {}
    made: list[ContainersTool] = []

    def make(key: str = "a", **kwargs: Any) -> ContainersTool:
        tenant = names.setdefault(key, f"t-{secrets.token_hex(4)}")
        session = kwargs.pop("session_id", f"{TEST_SESSION}-{unique('ten')}")
        settings = Settings(
            runtime=engine, tenant=tenant, state_dir=str(tmp_path / "state"), **kwargs
        )
        tool = ContainersTool(settings, session_id=session)
        made.append(tool)
        return tool

    yield make
    for tool in made:
        tool.call("destroy_all", confirm=True)  # the whole tenant, every session
        tool.close()
