"""Networks and ports: create/destroy/connect/disconnect/list_networks, expose_port."""

from __future__ import annotations

import contextlib
import logging

from containers_tool import labels as lb
from containers_tool.context import Context
from containers_tool.core.networks import (
    RESERVED,
    foreign_network,
    forward_port,
    managed_network,
    network_labels,
)
from containers_tool.errors import ConflictError, InvalidInputError, NotFoundError
from containers_tool.models.networks import (
    ConnectNetworkInput,
    CreateNetworkInput,
    DestroyNetworkInput,
    DisconnectNetworkInput,
    ExposePortInput,
    ListNetworksInput,
)
from containers_tool.registry import operation
from containers_tool.runtime.capabilities import Networks
from containers_tool.runtime.types import NetworkInfo

log = logging.getLogger("containers_tool")


def _row(info: NetworkInfo) -> dict[str, object]:
    return {
        "name": info.name,
        "internal": info.internal,
        "session_id": info.labels.get(lb.SESSION),
        "session_network": info.labels.get(lb.SESSION_NETWORK) == "true",
        "containers": sorted(info.containers),
        "subnets": list(info.subnets),
        "labels": lb.visible_labels(info.labels),
    }


@operation("create_network", CreateNetworkInput)
def create_network(args: CreateNetworkInput, ctx: Context) -> dict[str, object]:
    """Creates a labelled bridge network with DNS between its containers."""
    if args.name.lower() in RESERVED:
        raise InvalidInputError(
            f"{args.name!r} names an engine's built-in network.",
            hint="Pick another name, e.g. 'app-net'.",
            field="name",
        )
    labels = network_labels(ctx, args.session_id or ctx.session_id, lb.user_labels(args.labels))
    try:
        info = ctx.require(Networks, "create_network").create_network(
            args.name, labels, args.internal
        )
    except ConflictError as exc:
        raise ConflictError(
            f"A network named {args.name!r} already exists.",
            hint="Pick another name, or call list_networks.",
            field="name",
        ) from exc
    return _row(info)


@operation("destroy_network", DestroyNetworkInput)
def destroy_network(args: DestroyNetworkInput, ctx: Context) -> dict[str, object]:
    """Removes a managed network; refused while containers are attached."""
    info = managed_network(ctx, args.name)
    if info.containers:
        names = ", ".join(sorted(info.containers))
        raise ConflictError(
            f"Network {args.name!r} is in use by: {names}.",
            hint="Call disconnect_network or destroy for those containers first.",
            field="name",
        )
    ctx.require(Networks, "destroy_network").remove_network(info.name)
    return {"destroyed": [info.name]}


@operation("connect_network", ConnectNetworkInput)
def connect_network(args: ConnectNetworkInput, ctx: Context) -> dict[str, object]:
    """Attaches a managed container to a network under optional aliases."""
    ref = ctx.resolve(args.container)
    if args.network in ("host", "none"):
        raise InvalidInputError(
            f"A running container cannot join {args.network!r}.",
            hint="Pass network at create instead.",
            field="network",
        )
    foreign_network(ctx, args.network)
    try:
        ctx.require(Networks, "connect_network").connect_network(args.network, ref.id, args.aliases)
    except NotFoundError as exc:
        raise NotFoundError(
            f"No network named {args.network!r}.", hint="Call list_networks.", field="network"
        ) from exc
    except ConflictError as exc:
        raise ConflictError(
            f"{ref.name!r} is already attached to {args.network!r}.",
            hint="Call status to see its networks.",
            field="network",
        ) from exc
    return {"container": ref.name, "network": args.network, "aliases": list(args.aliases)}


@operation("disconnect_network", DisconnectNetworkInput)
def disconnect_network(args: DisconnectNetworkInput, ctx: Context) -> dict[str, object]:
    """Detaches a managed container from a network."""
    ref = ctx.resolve(args.container)
    try:
        ctx.require(Networks, "disconnect_network").disconnect_network(args.network, ref.id)
    except NotFoundError as exc:
        raise NotFoundError(
            f"{ref.name!r} is not attached to a network named {args.network!r}.",
            hint="Call status to see its networks.",
            field="network",
        ) from exc
    return {"container": ref.name, "network": args.network}


@operation("list_networks", ListNetworksInput)
def list_networks(args: ListNetworksInput, ctx: Context) -> dict[str, object]:
    """Lists managed networks, optionally one session's, with their containers."""
    rows = []
    for net in ctx.require(Networks, "list_networks").list_networks(
        lb.managed_filter(args.session_id, ctx.tenant)
    ):
        if not lb.in_tenant(net.labels, ctx.tenant):
            continue
        with contextlib.suppress(NotFoundError):  # removed meanwhile
            rows.append(_row(ctx.require(Networks, "list_networks").inspect_network(net.name)))
    rows.sort(key=lambda r: str(r["name"]))
    return {"networks": rows, "count": len(rows)}


@operation("expose_port", ExposePortInput)
def expose_port(args: ExposePortInput, ctx: Context) -> dict[str, object]:
    """Publishes a port of a running container (through a forwarding sidecar if needed)."""
    ref = ctx.resolve(args.container)
    info = ctx.runtime.inspect_container(ref.id)
    if info.state != "running":
        raise ConflictError(
            f"Container {ref.name!r} is {info.state}, not running.",
            hint="Start a new container with create; ports need a running one.",
            field="container",
        )
    published = [p for p in info.ports if p.container_port == args.port and p.protocol == "tcp"]
    if published:
        return _exposed(ref.name, args.port, published[0].host_port, None)
    sidecar = f"{ref.name}-port-{args.port}"[:128]
    for existing in ctx.runtime.list_containers(
        {lb.ATTACHED_TO: ref.name, lb.FORWARDS: str(args.port)}
    ):
        ports = ctx.runtime.inspect_container(existing.id).ports
        if ports:
            return _exposed(ref.name, args.port, ports[0].host_port, existing.name)
    host_port = forward_port(ctx, ref.name, ref.id, info.labels, args.port, args.host_port)
    return _exposed(ref.name, args.port, host_port, sidecar)


def _exposed(name: str, port: int, host_port: int, via: str | None) -> dict[str, object]:
    return {
        "container": name,
        "port": port,
        "host": "127.0.0.1",
        "host_port": host_port,
        "address": f"127.0.0.1:{host_port}",
        "via": via,
    }
