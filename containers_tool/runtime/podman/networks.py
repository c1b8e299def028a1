"""PodmanRuntime's networks and volumes : create, connect, inspect, list, remove."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from podman.api.client import APIClient

from containers_tool.errors import ConflictError, EngineError, NotFoundError, ToolError
from containers_tool.runtime import isolation
from containers_tool.runtime.podman.errors import _check, _engine_errors
from containers_tool.runtime.types import EngineInfo, NetworkInfo, NetworkIsolation, VolumeInfo

#: endpoint -> its network isolation: what the engine's version and backend imply.
_ISOLATION: dict[str, NetworkIsolation] = {}


def _network(data: dict[str, Any], containers: Mapping[str, str] | None = None) -> NetworkInfo:
    return NetworkInfo(
        id=str(data.get("id", "")),
        name=str(data.get("name", "")),
        driver=str(data.get("driver", "")),
        internal=bool(data.get("internal")),
        labels=dict(data.get("labels") or {}),
        containers=dict(containers or {}),
        subnets=[str(s.get("subnet")) for s in data.get("subnets") or []],
    )


def _network_conflict(subject: str, exc: ConflictError | EngineError) -> ToolError:
    text = exc.message
    if "being used" in text or "in use" in text or "already" in text:
        return ConflictError(text, hint="Call list_networks.")
    if "not connected" in text or "no such" in text.lower():
        return NotFoundError(text, hint="Call status.")
    return exc


def parse_info(data: Mapping[str, Any], endpoint: str) -> EngineInfo:
    """Builds an EngineInfo from one libpod `/info` answer."""
    host = data.get("host") or {}
    ver = data.get("version") or {}
    return EngineInfo(
        name="podman",
        version=str(ver.get("Version", "")),
        api_version=str(ver.get("APIVersion", "")),
        endpoint=endpoint,
        rootless=bool((host.get("security") or {}).get("rootless")),
        os=str(host.get("distribution", {}).get("distribution", "")),
        cgroup_version=str(host.get("cgroupVersion", "")),
        cpus=int(host.get("cpus") or 0),
        storage_root=str((data.get("store") or {}).get("graphRoot") or ""),
        memory_bytes=int(host.get("memTotal") or 0),
        network_backend=str(host.get("networkBackend", "")),
        network_backend_version=str((host.get("networkBackendInfo") or {}).get("version", "")),
    )


class PodmanNetworks:
    """Networks, volumes and container addresses over libpod; a mixin of PodmanRuntime."""

    _api: APIClient
    endpoint: str
    _isolation: NetworkIsolation | None
    _info: dict[str, Any] | None

    if TYPE_CHECKING:  # defined by PodmanRuntime, which lists containers too

        def _container_rows(self, filters: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]: ...

    def _info_data(self) -> dict[str, Any]:
        # /info is slow (Podman gathers host facts) and what it says of version and network
        # backend does not change while the connection lives: the last answer of info() does.
        if self._info is None:
            with _engine_errors("Podman"):
                self._info = dict(_check(self._api.get("/info")).json())
        return self._info

    def adopt_info(self, info: EngineInfo) -> None:
        """Takes the isolation from facts this endpoint gave earlier (Context.engine_info)."""
        if self._isolation is None and _ISOLATION.get(self.endpoint) is None:
            self._isolated_as(info)

    def _isolated_as(self, info: EngineInfo) -> NetworkIsolation:
        self._isolation = _ISOLATION[self.endpoint] = isolation.podman(
            info.version, info.network_backend, info.network_backend_version
        )
        return self._isolation

    def network_isolation(self) -> NetworkIsolation:
        """See Runtime.network_isolation (once per endpoint and process: /info is slow)."""
        if self._isolation is None:
            self._isolation = _ISOLATION.get(self.endpoint)
        if self._isolation is None:
            return self._isolated_as(parse_info(self._info_data(), self.endpoint))
        return self._isolation

    def create_network(self, name: str, labels: Mapping[str, str], internal: bool) -> NetworkInfo:
        """See Runtime.create_network."""
        body = {
            "name": name,
            "driver": "bridge",
            "labels": dict(labels),
            "internal": internal,
            "dns_enabled": True,
            # Docker isolates its bridges from each other by default; netavark only when asked.
            "options": dict(self.network_isolation().options),
        }
        subject = f"Network {name!r}"
        try:
            with _engine_errors(subject):
                _check(self._api.post("/networks/create", data=json.dumps(body)))
        except (ConflictError, EngineError) as exc:
            raise _network_conflict(subject, exc) from exc
        return self.inspect_network(name)

    def inspect_network(self, network: str) -> NetworkInfo:
        """See Runtime.inspect_network."""
        with _engine_errors(f"Network {network!r}"):
            data = _check(self._api.get(f"/networks/{network}/json")).json()
        rows = self._container_rows({"network": [str(data.get("name", network))]})
        attached: dict[str, str] = {}
        for row in rows or []:
            name = str((row.get("Names") or [""])[0])
            with contextlib.suppress(NotFoundError):
                attached[name] = self.container_addresses(name).get(str(data.get("name")), "")
        return _network(data, attached)

    def list_networks(self, labels: Mapping[str, str]) -> list[NetworkInfo]:
        """See Runtime.list_networks."""
        filters = json.dumps({"label": [f"{k}={v}" for k, v in labels.items()]})
        with _engine_errors("Podman"):
            rows = _check(self._api.get("/networks/json", params={"filters": filters})).json()
        return [_network(r) for r in rows or []]

    def remove_network(self, network: str) -> None:
        """See Runtime.remove_network."""
        subject = f"Network {network!r}"
        try:
            with contextlib.suppress(NotFoundError), _engine_errors(subject):
                _check(self._api.delete(f"/networks/{network}"))
        except (ConflictError, EngineError) as exc:
            raise _network_conflict(subject, exc) from exc

    def connect_network(self, network: str, container: str, aliases: Sequence[str]) -> None:
        """See Runtime.connect_network."""
        body = {"container": container, "aliases": list(aliases)}
        subject = f"Network {network!r}"
        try:
            with _engine_errors(subject):
                _check(self._api.post(f"/networks/{network}/connect", data=json.dumps(body)))
        except (ConflictError, EngineError) as exc:
            raise _network_conflict(subject, exc) from exc

    def disconnect_network(self, network: str, container: str) -> None:
        """See Runtime.disconnect_network."""
        body = {"Container": container}
        subject = f"Network {network!r}"
        try:
            with _engine_errors(subject):
                _check(self._api.post(f"/networks/{network}/disconnect", data=json.dumps(body)))
        except (ConflictError, EngineError) as exc:
            raise _network_conflict(subject, exc) from exc

    def container_addresses(self, container: str) -> dict[str, str]:
        """See Runtime.container_addresses."""
        with _engine_errors(f"Container {container!r}"):
            data = _check(self._api.get(f"/containers/{container}/json")).json()
        nets = (data.get("NetworkSettings") or {}).get("Networks") or {}
        return {str(k): str(v.get("IPAddress") or "") for k, v in nets.items()}

    def list_volumes(self, labels: Mapping[str, str]) -> list[VolumeInfo]:
        """See Runtime.list_volumes."""
        filters = json.dumps({"label": [f"{k}={v}" for k, v in labels.items()]})
        with _engine_errors("Podman"):
            rows = _check(self._api.get("/volumes/json", params={"filters": filters})).json()
        found = [
            VolumeInfo(str(r.get("Name", "")), dict(r.get("Labels") or {})) for r in rows or []
        ]
        # Podman 4.3 matches volumes carrying ANY of the labels (containers and networks: all).
        return [v for v in found if all(v.labels.get(k) == val for k, val in labels.items())]

    def remove_volume(self, volume: str) -> None:
        """See Runtime.remove_volume."""
        with contextlib.suppress(NotFoundError), _engine_errors(f"Volume {volume!r}"):
            _check(self._api.delete(f"/volumes/{volume}", params={"force": "true"}))
