"""BACKENDS, the entry-point group, and the refusal of what a backend cannot do.

`CoreOnly` is a real (if tiny) backend: an engine with no containers that implements only the
required core of the protocol. What is under test is the selection and the refusal path, which
take it as they would any plugin's runtime.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest
from pydantic import ValidationError

from containers_tool import ContainersTool
from containers_tool.errors import NotFoundError
from containers_tool.runtime import backends as backends_mod
from containers_tool.runtime.backends import BACKENDS, ENTRY_POINT_GROUP, get_runtime
from containers_tool.runtime.capabilities import (
    CAPABILITIES,
    Engine,
    Networks,
    capabilities_of,
    require,
)
from containers_tool.runtime.protocol import Runtime
from containers_tool.runtime.types import (
    ContainerInfo,
    ContainerLogs,
    ContainerSpec,
    EngineInfo,
    ExecRequest,
    ExecResult,
    PathStat,
)
from containers_tool.settings import Settings


class CoreOnly:
    """An engine with no containers and none of the optional capabilities."""

    name = "coreonly"
    remote = False

    def info(self) -> EngineInfo:
        return EngineInfo(self.name, "1", "1", "memory://", rootless=True)

    def close(self) -> None:
        pass

    def create_container(self, spec: ContainerSpec) -> str:
        raise NotFoundError(f"Image {spec.image!r} was not found.")

    def start_container(self, container: str) -> None:
        raise NotFoundError(f"No container {container!r}.")

    def inspect_container(self, container: str) -> ContainerInfo:
        raise NotFoundError(f"No container {container!r}.")

    def list_containers(self, labels: Mapping[str, str]) -> list[ContainerInfo]:
        return []

    def remove_container(self, container: str) -> None:
        pass

    def rename_container(self, container: str, name: str) -> None:
        raise NotFoundError(f"No container {container!r}.")

    def container_logs(
        self, container: str, *, tail: int | None, since_s: float | None, limit: int
    ) -> ContainerLogs:
        raise NotFoundError(f"No container {container!r}.")

    def exec_command(self, container: str, req: ExecRequest) -> ExecResult:
        raise NotFoundError(f"No container {container!r}.")

    def put_archive(self, container: str, dest: str, tar: Iterable[bytes] | bytes) -> None:
        raise NotFoundError(f"No container {container!r}.")

    def stat_path(self, container: str, path: str) -> PathStat | None:
        raise NotFoundError(f"No container {container!r}.")

    def get_archive(self, container: str, src: str) -> Iterator[bytes]:
        raise NotFoundError(f"No container {container!r}.")


def connect_core_only(settings: Settings) -> CoreOnly:
    """The plugin's factory, as an entry point names it."""
    return CoreOnly()


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Installs a distribution whose entry point adds the `coreonly` backend."""
    dist = tmp_path / "ct_coreonly-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ct-coreonly\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\ncoreonly = tests.unit.test_backends:connect_core_only\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    backends_mod.backends.cache_clear()
    yield "coreonly"
    backends_mod.backends.cache_clear()


def test_the_built_in_backends_are_registered_with_every_capability() -> None:
    assert {"docker", "podman"} <= set(BACKENDS)
    for name in ("docker", "podman"):
        backend = BACKENDS[name]
        assert backend.origin == "built-in"
        module, _, attr = backend.target.partition(":")
        assert callable(backend.load()), backend.target
        assert attr == "connect"
        assert module.endswith(f"{name}.connect")


def test_the_runtime_setting_accepts_only_registered_backends() -> None:
    assert Settings(runtime="podman").runtime == "podman"
    with pytest.raises(ValidationError) as raised:
        Settings(runtime="kubernetes")
    assert "choose one of auto, docker, podman" in str(raised.value)


def test_an_entry_point_adds_a_backend_to_settings_and_selection(plugin: str) -> None:
    assert BACKENDS[plugin].origin == "ct-coreonly"
    assert plugin in backends_mod.runtime_choices()
    runtime = get_runtime(Settings(runtime=plugin))
    assert isinstance(runtime, CoreOnly)
    assert isinstance(runtime, Runtime)
    assert capabilities_of(runtime) == []
    assert not isinstance(runtime, Engine)


def test_an_entry_point_cannot_replace_a_built_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "evil-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: evil\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\ndocker = tests.unit.test_backends:connect_core_only\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    backends_mod.backends.cache_clear()
    try:
        assert BACKENDS["docker"].origin == "built-in"
    finally:
        backends_mod.backends.cache_clear()


@pytest.mark.parametrize(
    ("operation", "fields", "capability"),
    [
        ("create_network", {"name": "h10-net"}, "networks"),
        ("list_networks", {}, "networks"),
        ("list_snapshots", {}, "images"),
        ("cache_clear", {}, "images"),
    ],
)
def test_an_operation_needing_a_missing_capability_is_refused(
    plugin: str, operation: str, fields: dict[str, object], capability: str
) -> None:
    with ContainersTool(Settings(runtime=plugin)) as tool:
        out = tool.call(operation, **fields)
    assert out["ok"] is False, out
    error = out["error"]
    assert isinstance(error, dict)
    assert error["code"] == "invalid_input"
    assert error["field"] == "operation"
    assert error["message"] == (
        f"{operation} is not supported by this backend (coreonly has no {capability})."
    )
    assert capability in str(error["hint"])


def test_cleanup_and_preflight_work_without_the_optional_capabilities(plugin: str) -> None:
    with ContainersTool(Settings(runtime=plugin)) as tool:
        report = tool.call("preflight")
        swept = tool.call("destroy_all", confirm=True, session_id=tool.session_id)
    assert report["ok"], report
    assert report["capabilities"] == []
    assert report["remote"] is False
    checks = report["checks"]
    assert isinstance(checks, list)
    assert "network_isolation" not in {c["name"] for c in checks}
    assert swept["ok"], swept


def test_require_names_the_capability_and_returns_the_runtime_typed() -> None:
    core = CoreOnly()
    with pytest.raises(Exception, match="network_create is not supported by this backend"):
        require(core, Networks, "network_create")
    assert set(CAPABILITIES) == {"images", "commit", "networks", "volumes", "shell", "stats"}
