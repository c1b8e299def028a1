"""create, list, status, destroy, destroy_all: containers whose only record is their labels."""

from __future__ import annotations

from containers_tool import labels as lb
from containers_tool.context import Context
from containers_tool.core import compose, create_options, networks, preflight
from containers_tool.core import create as pipeline
from containers_tool.core.containers import connect_command, destroy_many, remove
from containers_tool.core.create import port_rows
from containers_tool.errors import (
    InvalidInputError,
)
from containers_tool.models.lifecycle import (
    CreateInput,
    DestroyAllInput,
    DestroyInput,
    KeepAliveInput,
    ListInput,
    StatusInput,
)
from containers_tool.registry import operation
from containers_tool.runtime.types import ContainerInfo
from containers_tool.times import iso


def _lifetimes(ctx: Context, infos: list[ContainerInfo]) -> dict[str, dict[str, object]]:
    rows = [(i.id, i.name, i.labels.get(lb.SESSION), i.labels) for i in infos]
    return ctx.activity.describe(rows)


def _row(info: ContainerInfo, ctx: Context, lifetime: dict[str, object]) -> dict[str, object]:
    owner = info.labels.get(lb.SESSION)
    return {
        "name": info.name,
        "status": info.state,
        "image": lb.image(info.labels, info.image),
        "purpose": _purpose(info),
        "session_id": owner,
        # Another session's rows are its persistent containers, shared within the tenant.
        "own_session": owner == ctx.session_id,
        "persistent": info.labels.get(lb.PERSISTENT) == "true",
        "created": iso(info.labels.get(lb.CREATED) or info.created),
        **lifetime,
    }


def _purpose(info: ContainerInfo) -> str | None:
    # The label says "none" (labels are strings); results say null, as create's does.
    value = info.labels.get(lb.PURPOSE)
    return None if value in (None, "", "none") else value


@operation("create", CreateInput)
def create(args: CreateInput, ctx: Context) -> dict[str, object]:
    """Creates and starts a container with limits, labels and the mapped user.

    The first create of a process (per engine) runs preflight first: a failing required check
    is the create's error, with that check's fix.
    """
    args = create_options.normalize(args)
    preflight.gate(ctx)
    made = pipeline.create(args, ctx)
    ref = ctx.resolve(str(made["container"]))  # its idle clock starts now
    ctx.activity.created(ref.id, ref.name, ref.labels.get(lb.SESSION))
    return made


@operation("list", ListInput)
def list_(args: ListInput, ctx: Context) -> dict[str, object]:
    """Lists this session's containers and the tenant's persistent ones (or one session's)."""
    rows = ctx.visible_containers(args.session_id)
    rows.sort(key=lambda i: i.labels.get(lb.CREATED, ""))
    lifetimes = _lifetimes(ctx, rows)
    return {
        "containers": [_row(i, ctx, lifetimes[i.id]) for i in rows],
        "count": len(rows),
        "tenant": ctx.tenant,
        "session_id": ctx.session_id,
    }


@operation("status", StatusInput)
def status(args: StatusInput, ctx: Context) -> dict[str, object]:
    """Shows a managed container's state, limits, ports, mounts and networks."""
    info = ctx.using(args.container, lambda ref: ctx.runtime.inspect_container(ref.id))
    return {
        "container": info.name,
        "id": info.id[:12],
        "state": info.state,
        "exit_code": info.exit_code,
        "image": lb.image(info.labels, info.image),
        "runtime": ctx.runtime.name,
        "user": info.user,
        "workdir": info.workdir,
        "purpose": _purpose(info),
        "session_id": info.labels.get(lb.SESSION),
        "tenant": lb.tenant_of(info.labels),
        "persistent": info.labels.get(lb.PERSISTENT) == "true",
        "created": iso(info.labels.get(lb.CREATED) or info.created),
        "started_at": iso(info.started_at),
        **_lifetimes(ctx, [info])[info.id],
        "ports": port_rows(info),
        "mounts": [
            {"source": m.source, "target": m.target, "read_only": m.read_only} for m in info.mounts
        ],
        "networks": list(info.networks),
        "labels": lb.visible_labels(info.labels),
        # Names only: values may be secrets and never leave the engine through this tool.
        "env_names": sorted(n for n in info.env_names if n not in ("PATH", "HOSTNAME", "HOME")),
        "resources": {
            "memory_bytes": info.memory_bytes,
            "cpus": info.nano_cpus / 1e9 if info.nano_cpus else None,
            "pids_limit": info.pids_limit,
            "privileged": info.privileged,
        },
        "connect": connect_command(ctx, info.name, info.user or None, info.workdir or None),
        "compose": compose.describe(ctx, info.name, dict(info.labels)),
        "sessions": ctx.sessions.describe(info.id),  # open persistent shells
    }


@operation("keep_alive", KeepAliveInput)
def keep_alive(args: KeepAliveInput, ctx: Context) -> dict[str, object]:
    """Resets a container's idle clock (resolving it is activity) and says when it expires."""
    ref = ctx.resolve(args.container)
    ctx.activity.keep(ref.id, ref.name, ref.labels.get(lb.SESSION))
    lifetime = _lifetimes(ctx, [ContainerInfo(ref.id, ref.name, "", "", ref.labels)])[ref.id]
    return {"container": ref.name, **lifetime}


@operation("destroy", DestroyInput)
def destroy(args: DestroyInput, ctx: Context) -> dict[str, object]:
    """Kills and removes one managed container."""
    # Never the cached id: another process may have replaced the container by that name.
    ref = ctx.refresh(args.container)
    remove(ctx, ref.name, ref.id, ref.labels)
    return {"destroyed": [ref.name]}


@operation("destroy_all", DestroyAllInput)
def destroy_all(args: DestroyAllInput, ctx: Context) -> dict[str, object]:
    """Removes every container of the tenant (persistent ones too), or one session's."""
    if not args.confirm:
        raise InvalidInputError(
            "destroy_all removes many containers and needs confirm: true.",
            hint="Call list first; then pass confirm: true (and session_id to limit it).",
            field="confirm",
        )
    infos = ctx.tenant_containers(args.session_id)
    destroyed, failed = destroy_many(ctx, infos)
    # Leftovers of earlier failed destroys (labelled), then the session's unused networks.
    swept, errors = networks.sweep_orphans(ctx, args.session_id)
    removed_networks = networks.remove_unused_networks(ctx, args.session_id)
    problems = [f"{n}: {e.message}" for n, e in sorted(failed.items())]
    problems += [e.message for e in errors]
    if problems:
        first = next(iter(failed.values()), None) or errors[0]
        raise type(first)(
            f"destroy_all removed {len(destroyed)} container(s) but not everything: "
            + "; ".join(problems),
            hint="Call destroy_all again; if it fails the same way, check the engine.",
        )
    return {"destroyed": destroyed, "networks": removed_networks, "orphans_removed": swept}
