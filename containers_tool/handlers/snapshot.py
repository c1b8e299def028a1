"""snapshot, restore, list_snapshots, delete_snapshot: container filesystems saved as images.

A snapshot is a local image `localhost/containers-tool/snapshots:<name>` labelled by the tool;
the image store is its only record. Env values set at create (forwarded secrets among them)
never reach the image: each is blanked, or reset to the source image's own value. Neither do the
source's tool labels, nor the tool's tmpfs (env file, job output).
"""

from __future__ import annotations

from datetime import UTC, datetime

from containers_tool import labels as lb
from containers_tool.context import Context
from containers_tool.core.create import create
from containers_tool.errors import ConflictError, NotFoundError
from containers_tool.models.lifecycle import CreateInput
from containers_tool.models.snapshot import (
    DeleteSnapshotInput,
    ListSnapshotsInput,
    RestoreInput,
    SnapshotInput,
)
from containers_tool.registry import operation
from containers_tool.runtime.capabilities import Commit, Images
from containers_tool.runtime.types import ImageInfo
from containers_tool.times import iso

REPOSITORY = "localhost/containers-tool/snapshots"
#: Variables engines set themselves; never secrets, kept as they are.
ENGINE_ENV = frozenset({"PATH", "HOSTNAME", "HOME", "TERM", "container"})


def image_ref(name: str) -> str:
    """Returns the image reference of snapshot `name`."""
    return f"{REPOSITORY}:{name}"


def _own_image(ctx: Context, name: str) -> ImageInfo:
    """Returns snapshot `name` if it is this tenant's; another tenant's does not exist here.

    Raises:
        NotFoundError: No such snapshot, or another tenant's.
    """
    try:
        image = ctx.require(Images, "snapshots").inspect_image(image_ref(name))
    except NotFoundError:
        raise _unknown(name) from None
    if not lb.in_tenant(image.labels, ctx.tenant):
        raise _unknown(name)
    return image


def _unknown(name: str) -> NotFoundError:
    return NotFoundError(
        f"No snapshot named {name!r}.",
        hint="Call list_snapshots to see the snapshots.",
        field="snapshot",
    )


@operation("snapshot", SnapshotInput)
def snapshot(args: SnapshotInput, ctx: Context) -> dict[str, object]:
    """Commits the container's filesystem into a snapshot image, without env values."""
    ref = ctx.resolve(args.container)
    target = image_ref(args.name)
    if ctx.require(Images, "snapshot").image_exists(target):
        raise ConflictError(
            f"A snapshot named {args.name!r} already exists.",
            hint="Pick another name, or call delete_snapshot first.",
            field="name",
        )
    info = ctx.runtime.inspect_container(ref.id)
    try:
        base_env = ctx.require(Images, "snapshot").inspect_image(info.image).env
    except NotFoundError:
        base_env = {}
    env: dict[str, str] = {}
    stripped: list[str] = []
    # The tool's own variables (CA paths, HOME) hold no secret, and restore sets them again.
    tool_env = set(info.labels.get(lb.TOOL_ENV, "").split(","))
    for name in info.env_names:
        if name in base_env:
            env[name] = base_env[name]  # undoes any value given at create
        elif name not in ENGINE_ENV and name not in tool_env:
            env[name] = ""
            stripped.append(name)
    labels = {
        lb.MANAGED_BY: lb.MANAGER,
        lb.SNAPSHOT: args.name,
        lb.SNAPSHOT_OF: info.name,
        lb.TENANT: ctx.tenant,
        lb.CREATED: datetime.now(UTC).isoformat(timespec="seconds"),
        lb.WORKDIR: info.workdir or ref.workdir,
        lb.STRIPPED_ENV: ",".join(sorted(stripped)),
    }
    # The source's own tool labels (session, persistent, envfile, compose project, ...) would
    # pass to every restored container and misdescribe it: only the snapshot's are kept.
    stale = {k for k in info.labels if k.startswith(lb.PREFIX) and k not in labels}
    image_id = ctx.require(Commit, "snapshot").commit_container(
        ref.id, target, labels=labels, env=env, drop_labels=stale
    )
    return {
        "snapshot": args.name,
        "image": target,
        "image_id": image_id[:19],
        "source": info.name,
        "stripped_env": sorted(stripped),
        "hint": "Call restore with this snapshot to make a new container from it; pass env "
        "again for the stripped variables.",
    }


@operation("restore", RestoreInput)
def restore(args: RestoreInput, ctx: Context) -> dict[str, object]:
    """Creates a container from a snapshot, as create does; never pulls."""
    target = image_ref(args.snapshot)
    image = _own_image(ctx, args.snapshot)
    fields = args.model_dump(exclude={"snapshot"}, exclude_unset=True)
    fields["image"] = target
    if args.workdir is None and image.labels.get(lb.WORKDIR):
        fields["workdir"] = image.labels[lb.WORKDIR]
    result = create(CreateInput.model_validate(fields), ctx)
    return {**result, "snapshot": args.snapshot}


@operation("list_snapshots", ListSnapshotsInput)
def list_snapshots(args: ListSnapshotsInput, ctx: Context) -> dict[str, object]:
    """Lists the tool's snapshots, newest first."""
    rows = [
        i
        for i in ctx.require(Images, "list_snapshots").list_images(
            lb.managed_filter(tenant=ctx.tenant)
        )
        if i.labels.get(lb.SNAPSHOT) and lb.in_tenant(i.labels, ctx.tenant)
    ]
    rows.sort(key=lambda i: i.labels.get(lb.CREATED, ""), reverse=True)
    snapshots = [
        {
            "snapshot": i.labels[lb.SNAPSHOT],
            "image": image_ref(i.labels[lb.SNAPSHOT]),
            "source": i.labels.get(lb.SNAPSHOT_OF),
            "created": iso(i.labels.get(lb.CREATED) or i.created),
            "size": i.size,
            "stripped_env": [n for n in i.labels.get(lb.STRIPPED_ENV, "").split(",") if n],
        }
        for i in rows
    ]
    return {"snapshots": snapshots, "count": len(snapshots)}


@operation("delete_snapshot", DeleteSnapshotInput)
def delete_snapshot(args: DeleteSnapshotInput, ctx: Context) -> dict[str, object]:
    """Removes a snapshot image; refused while a container still uses it."""
    target = image_ref(args.snapshot)
    _own_image(ctx, args.snapshot)
    try:
        ctx.require(Images, "delete_snapshot").remove_image(target)
    except ConflictError as exc:
        raise ConflictError(
            f"Snapshot {args.snapshot!r} is in use by a container.",
            hint="Destroy the containers restored from it, then call delete_snapshot again.",
            field="snapshot",
        ) from exc
    return {"deleted": args.snapshot}
