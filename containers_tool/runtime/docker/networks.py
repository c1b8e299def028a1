"""DockerRuntime's networks and volumes : create, connect, inspect, list, remove."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import docker
import docker.errors

from containers_tool.errors import ConflictError, NotFoundError
from containers_tool.runtime import isolation
from containers_tool.runtime.docker.errors import _engine_errors
from containers_tool.runtime.types import NetworkInfo, NetworkIsolation, VolumeInfo


@contextlib.contextmanager
def _network_errors(subject: str) -> Iterator[None]:
    """Network calls answer 403/500 for states that are conflicts or absences to the caller."""
    with _engine_errors(subject):
        try:
            yield
        except docker.errors.NotFound:
            raise
        except docker.errors.APIError as exc:
            text = str(exc.explanation or exc)
            if "not connected" in text:
                raise NotFoundError(f"{subject}: {text}", hint="Call status.") from exc
            if exc.status_code in (403, 409) or "already exists" in text:
                raise ConflictError(f"{subject}: {text}", hint="Call list_networks.") from exc
            raise


def _network(data: dict[str, Any]) -> NetworkInfo:
    return NetworkInfo(
        id=str(data.get("Id", "")),
        name=str(data.get("Name", "")),
        driver=str(data.get("Driver", "")),
        internal=bool(data.get("Internal")),
        labels=dict(data.get("Labels") or {}),
        containers={
            str(c.get("Name", "")): str(c.get("IPv4Address", "")).partition("/")[0]
            for c in (data.get("Containers") or {}).values()
        },
        subnets=[str(c.get("Subnet")) for c in (data.get("IPAM") or {}).get("Config") or []],
    )


class DockerNetworks:
    """Networks, volumes and container addresses over Docker's API; a mixin of DockerRuntime."""

    _api: docker.APIClient

    def create_network(self, name: str, labels: Mapping[str, str], internal: bool) -> NetworkInfo:
        """See Runtime.create_network."""
        # Docker gives an internal network a gateway address on the host (and its containers a
        # default route to it), so they would reach every host service; without the address they
        # reach only each other (and Docker's DNS, which lives inside each container).
        options = {"com.docker.network.bridge.inhibit_ipv4": "true"} if internal else None
        with _network_errors(f"Network {name!r}"):
            self._api.create_network(
                name,
                driver="bridge",
                internal=internal,
                labels=dict(labels),
                options=options,
                check_duplicate=True,
            )
        return self.inspect_network(name)

    def network_isolation(self) -> NetworkIsolation:
        """See Runtime.network_isolation."""
        return isolation.DOCKER

    def inspect_network(self, network: str) -> NetworkInfo:
        """See Runtime.inspect_network."""
        with _network_errors(f"Network {network!r}"):
            return _network(self._api.inspect_network(network))

    def list_networks(self, labels: Mapping[str, str]) -> list[NetworkInfo]:
        """See Runtime.list_networks."""
        filters = {"label": [f"{k}={v}" for k, v in labels.items()]}
        with _engine_errors("Docker"):
            rows = self._api.networks(filters=filters)
        return [_network({**r, "Containers": {}}) for r in rows]

    def remove_network(self, network: str) -> None:
        """See Runtime.remove_network."""
        with contextlib.suppress(NotFoundError), _network_errors(f"Network {network!r}"):
            self._api.remove_network(network)

    def connect_network(self, network: str, container: str, aliases: Sequence[str]) -> None:
        """See Runtime.connect_network."""
        with _network_errors(f"Network {network!r}"):
            self._api.connect_container_to_network(container, network, aliases=list(aliases))

    def disconnect_network(self, network: str, container: str) -> None:
        """See Runtime.disconnect_network."""
        with _network_errors(f"Network {network!r}"):
            self._api.disconnect_container_from_network(container, network)

    def container_addresses(self, container: str) -> dict[str, str]:
        """See Runtime.container_addresses."""
        with _engine_errors(f"Container {container!r}"):
            data = self._api.inspect_container(container)
        nets = (data.get("NetworkSettings") or {}).get("Networks") or {}
        return {str(k): str(v.get("IPAddress") or "") for k, v in nets.items()}

    def list_volumes(self, labels: Mapping[str, str]) -> list[VolumeInfo]:
        """See Runtime.list_volumes."""
        filters = {"label": [f"{k}={v}" for k, v in labels.items()]}
        with _engine_errors("Docker"):
            rows = self._api.volumes(filters=filters).get("Volumes") or []
        return [VolumeInfo(str(r.get("Name", "")), dict(r.get("Labels") or {})) for r in rows]

    def remove_volume(self, volume: str) -> None:
        """See Runtime.remove_volume."""
        with contextlib.suppress(NotFoundError), _engine_errors(f"Volume {volume!r}"):
            self._api.remove_volume(volume, force=True)
