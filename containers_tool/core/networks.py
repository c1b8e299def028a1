"""The networks a container joins and what is attached to it, and cleanup."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from containers_tool import labels as lb
from containers_tool.context import Context
from containers_tool.errors import ConflictError, NotFoundError, ToolError
from containers_tool.runtime.capabilities import Images, Networks, Volumes
from containers_tool.runtime.types import (
    ContainerInfo,
    ContainerSpec,
    NetworkInfo,
    PortSpec,
    VolumeInfo,
)

log = logging.getLogger("containers_tool")


#: What containers that ask for no network join where the engine's default network is not
#: isolated from the tool's networks (Podman: see Runtime.network_isolation); shared, like
#: Docker's `bridge`, by every session, and marked by lb.DEFAULT_MARK.
DEFAULT_NETWORK = "ct-default"


#: Names that mean the engine's own networks; a tool network must not shadow them.
RESERVED = frozenset({"bridge", "host", "none", "default", "podman", DEFAULT_NETWORK})


#: What a forwarding sidecar runs: busybox nc, one `nc` to the target per accepted connection.
SIDECAR_IMAGE = "busybox:latest"


#: The sidecar listens above 1024, so it needs no privilege whatever port it forwards.
LISTEN_PORT = 15000


def network_labels(ctx: Context, session: str, extra: Mapping[str, str]) -> dict[str, str]:
    return {
        **extra,
        lb.MANAGED_BY: lb.MANAGER,
        lb.SESSION: session,
        lb.TENANT: ctx.tenant,
        lb.CREATED: datetime.now(UTC).isoformat(timespec="seconds"),
    }


def managed_network(ctx: Context, name: str, field: str = "name") -> NetworkInfo:
    try:
        info = ctx.require(Networks, "networks").inspect_network(name)
    except NotFoundError:
        info = None
    if info is None or not lb.in_tenant(info.labels, ctx.tenant):
        raise NotFoundError(
            f"No network named {name!r} made by this tool.",
            hint="Call list_networks to see the networks this tool manages.",
            field=field,
        )
    return info


def foreign_network(ctx: Context, name: str, field: str = "network") -> None:
    """Refuses a network the tool made for another tenant: to this one it does not exist.

    Raises:
        NotFoundError: `name` is another tenant's network.
    """
    try:
        info = ctx.require(Networks, "networks").inspect_network(name)
    except NotFoundError:
        return  # the engine's own answer (not_found) comes from the call that uses it
    if lb.is_managed(info.labels) and not lb.in_tenant(info.labels, ctx.tenant):
        raise NotFoundError(f"No network named {name!r}.", hint="Call list_networks.", field=field)


def session_network(ctx: Context, session: str) -> tuple[str, bool]:
    """Returns the session's private network, and whether this call created it."""
    # Session ids may repeat across tenants (callers choose them); the name must not.
    tenant = "" if ctx.tenant == lb.DEFAULT_TENANT else f"{ctx.tenant}-"
    name = f"ct-session-{tenant}{session}"
    labels = network_labels(ctx, session, {lb.SESSION_NETWORK: "true"})
    try:
        ctx.require(Networks, "networks").create_network(name, labels, internal=False)
    except ConflictError:
        existing = ctx.require(Networks, "networks").inspect_network(name).labels
        if existing.get(lb.SESSION_NETWORK) != "true" or not lb.in_tenant(existing, ctx.tenant):
            raise ConflictError(
                f"A network named {name!r} exists and is not this session's.",
                hint="Remove it, or use another session_id.",
                field="session_network",
            ) from None
        return name, False
    return name, True


def default_network(ctx: Context) -> str:
    """Returns the tool's shared default network, creating it on first use.

    Found by its label in a network list: inspecting it would make Podman list and inspect
    every container attached to it, a cost that grows with every session's containers.
    """
    mark = {lb.DEFAULT_MARK: "true"}
    if any(n.name == DEFAULT_NETWORK for n in _listed_networks(ctx, mark)):
        return DEFAULT_NETWORK
    try:
        info: NetworkInfo | None = ctx.require(Networks, "networks").inspect_network(
            DEFAULT_NETWORK
        )
    except NotFoundError:
        info = None
    if info is None:
        labels = {
            lb.MANAGED_BY: lb.MANAGER,
            lb.DEFAULT_MARK: "true",
            lb.CREATED: datetime.now(UTC).isoformat(timespec="seconds"),
        }
        try:
            return (
                ctx.require(Networks, "networks")
                .create_network(DEFAULT_NETWORK, labels, internal=False)
                .name
            )
        except ConflictError:  # made meanwhile by another call
            info = ctx.require(Networks, "networks").inspect_network(DEFAULT_NETWORK)
    if info.labels.get(lb.DEFAULT_MARK) != "true":
        raise ConflictError(
            f"A network named {DEFAULT_NETWORK!r} exists and is not the tool's.",
            hint="Remove or rename it, or pass network explicitly.",
            field="network",
        )
    return info.name


def drop_network(ctx: Context, name: str) -> None:
    """Removes a network an undone create made; never raises (one in use by others stays)."""
    try:
        ctx.require(Networks, "networks").remove_network(name)
    except ToolError as exc:
        log.info("network %s kept: %s", name, exc.message)


def remove_unused_networks(ctx: Context, session: str | None) -> list[str]:
    """Removes the managed networks (of one session, or all) no container uses any more."""
    removed = []
    for net in _listed_networks(ctx, lb.managed_filter(session, ctx.tenant)):
        if not lb.in_tenant(net.labels, ctx.tenant):
            continue
        try:
            ctx.require(Networks, "networks").remove_network(net.name)
        except ToolError:
            continue  # in use by a container that outlives the session (persistent)
        removed.append(net.name)
    return sorted(removed)


def _remove_all(ctx: Context, infos: Iterable[ContainerInfo]) -> None:
    """Removes containers whatever their order, retrying while each round removes something.

    Podman refuses to remove a container others depend on (compose's depends_on becomes
    `--requires`), so a round removes the dependents and the next one what they needed.

    Raises:
        ToolError: A round removed nothing; the first error of that round.
    """
    pending = list(infos)
    while pending:
        failed: list[tuple[ContainerInfo, ToolError]] = []
        for info in pending:
            try:
                ctx.runtime.remove_container(info.id)
            except ToolError as exc:
                failed.append((info, exc))
        if len(failed) == len(pending):
            raise failed[0][1]
        pending = [info for info, _ in failed]


def release(ctx: Context, name: str, primary: str | None = None, stack: bool = True) -> None:
    """Removes what belongs to container `name` (port sidecars, its compose stack), then it.

    The attached containers go first, so that when one cannot be removed the primary is still
    there and destroy can be called again; then the primary (by id, when given), which frees the
    stack's networks; then those networks and the stack's volumes (only a compose stack has
    those: `stack=False` skips looking for them).

    Raises:
        ToolError: Something could not be removed; everything else was tried first.
    """
    owned = {lb.ATTACHED_TO: name}
    _remove_all(ctx, ctx.runtime.list_containers(owned))
    if primary is not None:
        ctx.runtime.remove_container(primary)
    if not stack:
        return
    failed: list[ToolError] = []
    for net in _listed_networks(ctx, owned):
        try:
            ctx.require(Networks, "networks").remove_network(net.name)
        except ToolError as exc:
            failed.append(exc)
    for vol in _listed_volumes(ctx, owned):
        try:
            ctx.require(Volumes, "remove volumes").remove_volume(vol.name)
        except ToolError as exc:
            failed.append(exc)
    if failed:
        raise type(failed[0])(
            f"The containers of {name!r} are removed, but not all of its stack: "
            + "; ".join(e.message for e in failed),
            hint="Call destroy_all with confirm and session_id once nothing uses it; "
            "it removes such leftovers.",
        )


def discard(ctx: Context, name: str) -> str | None:
    """Like `release` without a primary, for undo paths: never raises, so it masks no error.

    Returns:
        None when everything is gone, else what went wrong (also logged).
    """
    try:
        release(ctx, name)
    except ToolError as exc:
        log.warning("could not remove what belongs to %s: %s", name, exc.message)
        return exc.message
    return None


def sweep_orphans(ctx: Context, session: str | None) -> tuple[list[str], list[ToolError]]:
    """Removes sidecars and stack members whose primary container no longer exists.

    A destroy that failed halfway, or a process that died during create, leaves them behind;
    their lb.MEMBER label finds them. Run it when nothing of the session is being created (a stack
    whose primary is still being created looks orphaned).

    Returns:
        The names of the primaries whose leftovers were removed, and the errors met.
    """
    member = {lb.MEMBER: "true", **({lb.SESSION: session} if session else {})}
    found: list[Mapping[str, str]] = [c.labels for c in ctx.runtime.list_containers(member)]
    found += [n.labels for n in _listed_networks(ctx, member)]
    found += [v.labels for v in _listed_volumes(ctx, member)]
    # Only this tenant's leftovers; names are the engine's, so any tenant's live primary counts.
    owners = {
        labels.get(lb.ATTACHED_TO, "") for labels in found if lb.tenant_of(labels) == ctx.tenant
    } - {""}
    live = {c.name for c in ctx.runtime.list_containers(lb.managed_filter())}
    swept: list[str] = []
    errors: list[ToolError] = []
    for owner in sorted(owners - live):
        try:
            release(ctx, owner)
        except ToolError as exc:
            errors.append(exc)
        else:
            swept.append(owner)
    return swept, errors


def forward_port(
    ctx: Context,
    name: str,
    cid: str,
    labels: Mapping[str, str],
    port: int,
    host_port: int | None,
) -> int:
    """Publishes `port` of a running container through a forwarding sidecar on its network.

    Engines cannot publish a port after creation, so a small busybox container on the same
    network publishes it and relays each connection to the container's address.

    Returns:
        The host port the sidecar publishes.

    Raises:
        ConflictError: The container has no address, another call is exposing the port, or the
            host port is taken.
        NotFoundError: The forwarder's image is absent and pulling is disabled.
    """
    sidecar = f"{name}-port-{port}"[:128]
    addresses = {
        n: ip
        for n, ip in ctx.require(Networks, "expose_port").container_addresses(cid).items()
        if ip
    }
    if not addresses:
        raise ConflictError(
            f"Container {name!r} has no network address (network 'none').",
            hint="Call connect_network first, or create it with a network.",
            field="container",
        )
    network, address = sorted(addresses.items())[0]
    image = ctx.settings.resolve_image(SIDECAR_IMAGE)
    if not ctx.require(Images, "expose_port").image_exists(image):
        if ctx.settings.pull == "never":
            raise NotFoundError(
                f"The port forwarder's image {image!r} is not present and pulling is disabled.",
                hint=f"Load it, or set image_overrides for {SIDECAR_IMAGE!r} to a local image.",
            )
        ctx.require(Images, "expose_port").pull_image(image)
    spec = ContainerSpec(
        name=sidecar,
        image=image,
        command=["nc", "-ll", "-p", str(LISTEN_PORT), "-e", "nc", address, str(port)],
        labels={
            lb.ATTACHED_TO: name,
            lb.MEMBER: "true",
            lb.FORWARDS: str(port),
            lb.SESSION: labels.get(lb.SESSION, ctx.session_id),
            lb.TENANT: ctx.tenant,
            lb.CREATED: datetime.now(UTC).isoformat(timespec="seconds"),
        },
        ports=[PortSpec(LISTEN_PORT, host_port)],
        network=network,
        memory_bytes=32 * 2**20,
        nano_cpus=250_000_000,
        pids_limit=64,
        user="65534:65534",
    )
    try:
        sidecar_id = ctx.runtime.create_container(spec)
    except ConflictError as exc:
        raise ConflictError(
            f"Port {port} of {name!r} is being exposed by another call.",
            hint="Call expose_port again in a moment.",
            field="port",
        ) from exc
    try:
        ctx.runtime.start_container(sidecar_id)
        ports = ctx.runtime.inspect_container(sidecar_id).ports
    except ToolError as exc:
        ctx.runtime.remove_container(sidecar_id)
        if host_port is not None:
            raise ConflictError(
                f"Host port {host_port} could not be published: {exc.message}",
                hint="Omit host_port to let the engine pick a free one.",
                field="host_port",
            ) from exc
        raise
    return ports[0].host_port


def _listed_networks(ctx: Context, labels: Mapping[str, str]) -> list[NetworkInfo]:
    """The networks carrying `labels`; none on a backend without networks."""
    networks = ctx.capability(Networks)
    return networks.list_networks(labels) if networks else []


def _listed_volumes(ctx: Context, labels: Mapping[str, str]) -> list[VolumeInfo]:
    """The volumes carrying `labels`; none on a backend without volumes."""
    volumes = ctx.capability(Volumes)
    return volumes.list_volumes(labels) if volumes else []
