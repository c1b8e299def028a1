"""Input models of the multi-container operations: networks and published ports."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from containers_tool.labels import ALIAS_PATTERN, NAME_PATTERN, SESSION_PATTERN
from containers_tool.models.common import (
    SESSION_DESCRIPTION,
    ContainerInput,
    Input,
)

#: Network names and ids alike; anything else would reach the engines' URL paths.
NETWORK_REF = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

NetworkName = Field(
    min_length=1,
    max_length=128,
    pattern=NETWORK_REF,
    description='Network name (call list_networks); for connect also "bridge".',
)


class CreateNetworkInput(Input):
    """Creates a private network; containers on it resolve each other by name and alias."""

    name: str = Field(
        pattern=NAME_PATTERN, description="Network name (letters, digits, _.-); must be new."
    )
    internal: bool = Field(
        False, description="No route out of the network: only its own containers are reachable."
    )
    labels: dict[str, str] = Field(
        default_factory=dict, max_length=64, description="Extra labels (not secrets)."
    )
    session_id: str | None = Field(None, pattern=SESSION_PATTERN, description=SESSION_DESCRIPTION)


class DestroyNetworkInput(Input):
    """Removes a network this tool created; refused while containers are attached."""

    name: str = Field(
        min_length=1, max_length=128, pattern=NETWORK_REF, description="Network to remove."
    )


class ConnectNetworkInput(ContainerInput):
    """Attaches a running container to a network, optionally under extra DNS aliases."""

    network: str = NetworkName
    aliases: list[Annotated[str, Field(pattern=ALIAS_PATTERN)]] = Field(
        default_factory=list,
        max_length=16,
        description="Extra names other containers on the network can use for this one.",
    )


class DisconnectNetworkInput(ContainerInput):
    """Detaches a container from a network."""

    network: str = NetworkName


class ListNetworksInput(Input):
    """Lists networks this tool created, with the containers attached to each."""

    session_id: str | None = Field(None, pattern=SESSION_PATTERN, description=SESSION_DESCRIPTION)


class ExposePortInput(ContainerInput):
    """Publishes a port of a running container on 127.0.0.1; returns the host address."""

    port: int = Field(ge=1, le=65535, description="TCP port the container listens on.")
    host_port: int | None = Field(
        None, ge=1, le=65535, description="Host port; omit to let the engine pick a free one."
    )
