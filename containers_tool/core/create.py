"""The create pipeline: plan, make, provision, start and check one container."""

from __future__ import annotations

import secrets
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from containers_tool import labels as lb
from containers_tool.context import Context
from containers_tool.core import compose, housekeeping, jobs, quota
from containers_tool.core.containers import connect_command
from containers_tool.core.create_options import engine_workdir, ownable
from containers_tool.core.services import ensure_running, exit_details, settle_window, start_error
from containers_tool.errors import ConflictError, EngineError, NotFoundError
from containers_tool.models.lifecycle import CreateInput
from containers_tool.policy import container as policy
from containers_tool.policy import tiers
from containers_tool.provision import home as provision_home
from containers_tool.provision import layers
from containers_tool.provision import plan as provision
from containers_tool.provision import steps as provision_steps
from containers_tool.provision.plan import Plan
from containers_tool.provision.purposes import Purpose
from containers_tool.runtime.capabilities import Images, Layers, Networks
from containers_tool.runtime.types import ContainerInfo, ContainerSpec, MountSpec
from containers_tool.runtime.users import ROOT

#: PID 1 of a tool container: the engine's init reaps zombies and forwards signals to this.
KEEP_ALIVE = ("sleep", "infinity")


def _step(step: str, status: str, detail: str) -> dict[str, object]:
    return {"step": step, "status": status, "detail": detail}


def ensure_image(
    ctx: Context, image: str, explicit: bool, want_id: bool = False
) -> tuple[dict[str, object], str | None]:
    """Makes sure `image` is present (pulling it if allowed); returns its step and, if asked, id.

    Raises:
        NotFoundError: The image is missing and cannot (or may not) be pulled.
    """
    if (images := ctx.capability(Images)) is None:  # its nodes fetch images (e.g. a cluster)
        return _step("image", "skipped", f"{image}: {ctx.runtime.name} has no local images"), None
    if want_id:  # one inspect says both whether it is present and its id
        try:
            found = images.inspect_image(image).id
        except NotFoundError:
            found = None
        if found:
            return _step("image", "success", f"{image} present locally"), found
    elif images.image_exists(image):
        return _step("image", "success", f"{image} present locally"), None
    if ctx.settings.pull == "never":
        raise NotFoundError(
            f"Image {image!r} is not present and pulling is disabled.",
            hint="Load the image, or set image_overrides to a local image.",
            field="image" if explicit else None,
        )
    images.pull_image(image)
    pulled = _step("image", "success", f"pulled {image}")
    return pulled, (images.inspect_image(image).id if want_id else None)


@dataclass
class Draft:
    """Everything create decides before it makes anything, so a refusal leaves nothing behind."""

    args: CreateInput
    name: str
    session: str
    purpose: Purpose | None
    workdir: str
    user: str | None
    settle_s: float
    mounts: list[MountSpec]
    prov: Plan
    spec: ContainerSpec
    steps: list[dict[str, object]] = field(default_factory=list)
    #: The key of the image with this create's HOME baked in (provision/layers.py), if any,
    #: and whether the spec names it (then HOME, passwd and the workdir's owner are in it).
    layer: str | None = None
    baked: bool = False


def create(args: CreateInput, ctx: Context) -> dict[str, object]:
    """Creates and starts a container with limits, labels and the mapped user.

    Args:
        args: The validated create input.
        ctx: The tool's context.

    Returns:
        The create payload: name, id, image, user, workdir, connect line, provisioning steps.

    Raises:
        ToolError: Any refusal or engine failure; whatever was made is removed first.
    """
    draft = plan_create(args, ctx, check_image=ctx.pool is None)
    member = ctx.pool.take(args, draft.spec) if ctx.pool is not None else None
    image_step(ctx, draft, present=member is not None)
    with ExitStack() as undo:
        if member is not None:
            cid, info, user = adopt(ctx, draft, member.id, member.name, member.steps, undo)
        else:
            layers.use(ctx, draft, _home_dirs(draft))
            cid, info, user = make(ctx, draft, undo)
            ctx.remember(info)  # what start's inspect said: the caller's resolve asks no more
        undo.pop_all()  # success: keep it
    return _result(ctx, draft, cid, info, user)


def plan_create(args: CreateInput, ctx: Context, *, check_image: bool = True) -> Draft:
    """Decides name, workdir, user, limits, mounts, image and the container spec; makes nothing.

    `check_image=False` leaves the image to image_step (a pooled container shows it is there).
    """
    settings = ctx.settings
    name = args.name or f"ct-{secrets.token_hex(4)}"
    purpose = ctx.purposes.get(args.purpose) if args.purpose else None
    workdir = args.workdir or (purpose.workdir if purpose else settings.workdir)
    # A service runs as its image's USER (postgres, `USER app`), and so do its execs, unless asked.
    user = args.user or (None if args.keep_command else policy.host_user())
    own_image = None  # a service runs its own command in its image's WORKDIR
    if args.keep_command and not (args.workdir or purpose or args.mount_cwd):
        ref = settings.resolve_image(args.image or settings.default_image)
        step, _ = ensure_image(ctx, ref, explicit=args.image is not None)
        found = ctx.require(Images, "create with keep_command").inspect_image(ref)
        own_image, workdir = (step, found.id), found.workdir or "/"
    policy.check_privileged(args, settings)
    settle_s = settle_window(args)
    resources = purpose.resources if purpose else None
    limits = policy.resource_limits(args, settings, resources, ctx.engine_info().cpus)
    tiers.check_memory(args.memory_limit, settings, ctx.engine_info().memory_bytes)
    mounts = policy.mounts(args, workdir, Path.cwd(), settings, remote=ctx.runtime.remote)
    session = args.session_id or ctx.session_id
    # Purpose image (built once, cached), files, env, secrets: decided before anything is made.
    prov = provision.plan(ctx, args, user or "", workdir)
    image = settings.resolve_image(args.image, prefix=False) if args.image else prov.image
    image = image or settings.resolve_image(settings.default_image)
    steps = list(prov.steps)
    if own_image:
        steps.insert(0, own_image[0])
        prov.image_key = own_image[1]
    labels = {**_labels(args, session, workdir, prov), **housekeeping.made_by(ctx, args, session)}
    lazy = bool(getattr(ctx.runtime, "slow_missing_workdir", False))
    everything = [*mounts, *prov.mounts]
    at = engine_workdir(args, workdir, everything, prov.image, bool(purpose), lazy=lazy)
    spec = _spec(args, name, image, labels, at, user, mounts, prov, purpose, limits)
    draft = Draft(args, name, session, purpose, workdir, user, settle_s, mounts, prov, spec, steps)
    if check_image:
        image_step(ctx, draft)
    return draft


def image_step(ctx: Context, draft: Draft, present: bool = False) -> None:
    """Makes sure a create's image is there (`present`: a pooled container of it is) and says so."""
    if draft.prov.image or (draft.steps and draft.steps[0]["step"] == "image"):
        return  # a purpose image (checked when planned), or a service's (inspected already)
    image = draft.spec.image
    if present:
        draft.steps.insert(0, _step("image", "success", f"{image} present locally"))
        return
    # Image files are cached by image id, and HOME layers are keyed by it (Docker's image
    # exists check is an inspect anyway).
    want_id = provision_home.needs_passwd(draft.user or "") or ctx.capability(Layers) is not None
    step, found = ensure_image(ctx, image, explicit=draft.args.image is not None, want_id=want_id)
    draft.prov.image_key = draft.prov.image_id = found
    draft.steps.insert(0, step)


def _labels(args: CreateInput, session: str, workdir: str, prov: Plan) -> dict[str, str]:
    labels = {
        **lb.user_labels(args.labels),
        lb.MANAGED_BY: lb.MANAGER,
        lb.SESSION: session,
        lb.PURPOSE: "none",
        lb.PERSISTENT: str(args.persistent).lower(),
        lb.CREATED: datetime.now(UTC).isoformat(timespec="seconds"),
        lb.WORKDIR: workdir,
        **prov.labels,
        lb.TOOL_ENV: ",".join(sorted(prov.env)),
    }
    if prov.secrets:
        labels[lb.ENVFILE] = "true"
    return labels


def _spec(
    args: CreateInput,
    name: str,
    image: str,
    labels: dict[str, str],
    workdir: str | None,
    user: str | None,
    mounts: list[MountSpec],
    prov: Plan,
    purpose: Purpose | None,
    limits: tuple[int, int, int],
) -> ContainerSpec:
    memory, nano_cpus, pids = limits
    return ContainerSpec(
        name=name,
        image=image,
        command=None if args.keep_command else KEEP_ALIVE,
        # An image's ENTRYPOINT would get the keep-alive as its arguments (and likely exit).
        entrypoint=None if args.keep_command else (),
        labels=labels,
        env={**(purpose.env if purpose else {}), **prov.env, **args.env},
        workdir=workdir,
        # Under the keep-alive, PID 1 runs as root and execs default to the mapped user: on
        # Docker a non-root container user leaves even root execs without capabilities.
        user=user if args.keep_command else ROOT,
        exec_user=None if args.keep_command else user,
        mounts=[*mounts, *prov.mounts],
        # The env file and job output live in memory, never in a commit or snapshot.
        tmpfs={lb.ENVFILE_DIR: jobs.tmpfs_options(memory)},
        ports=policy.ports(args),
        network=args.network,
        memory_bytes=memory,
        nano_cpus=nano_cpus,
        pids_limit=pids,
        privileged=args.privileged,
        hostname=name[:63],
    )


def make(
    ctx: Context, draft: Draft, undo: ExitStack, *, provision: bool = True
) -> tuple[str, ContainerInfo, str | None]:
    """Makes, prepares and starts the drafted container; `undo` removes what was made on failure.

    Args:
        ctx: The tool's context.
        draft: What plan_create decided.
        undo: Gets a callback removing what was made.
        provision: False for a warm-pool container: no per-create command steps.

    Returns:
        The container id, its inspect after start, and the user its execs run as.
    """
    # A compose stack and the session network exist before the container joins them.
    joins = compose.prepare(ctx, draft.args, draft.name, draft.session, undo)
    draft.steps.extend(joins.steps)
    if joins.networks or joins.labels:
        labels = {**draft.spec.labels, **joins.labels}
        draft.spec = replace(draft.spec, network=joins.networks[0], labels=labels)
    with quota.slot(ctx):  # count and create as one step, whatever runs beside it
        cid = _create(ctx, draft)
    undo.callback(ctx.runtime.remove_container, cid)
    for extra in dict.fromkeys(joins.networks[1:]):  # engines take one network at create
        ctx.require(Networks, "create with networks").connect_network(extra, cid, [])
    service = bool(draft.args.keep_command)
    if service:  # its own command may read HOME at once
        _home(ctx, draft, cid)
    info, user = _start(ctx, draft, cid)
    if not service:
        # Under the keep-alive nothing runs before create returns, and an archive into a
        # running container skips mounting its root filesystem (much faster on both engines).
        _home(ctx, draft, cid)
    if provision:
        draft.steps += provision_steps.after_start(ctx, cid, draft.prov, draft.args)
    return cid, info, user


def adopt(
    ctx: Context,
    draft: Draft,
    cid: str,
    name: str,
    steps: tuple[dict[str, object], ...],
    undo: ExitStack,
) -> tuple[str, ContainerInfo | None, str | None]:
    """Finishes a warm-pool container (already renamed to `name`) as the drafted create.

    Its spec equals the draft's but for name and hostname, which are the pooled container's:
    what is left is the per-create part, HOME's files and the command steps.

    Returns:
        The container id, its inspect if ports need reading, and the user its execs run as.
    """
    undo.callback(ctx.runtime.remove_container, cid)
    draft.name = name
    draft.spec = replace(draft.spec, name=name, hostname=name[:63])
    provision_home.write_files(ctx, cid, draft.prov)
    draft.steps.extend(steps)
    draft.steps += provision_steps.after_start(ctx, cid, draft.prov, draft.args)
    info = ctx.runtime.inspect_container(cid) if draft.spec.ports else None
    return cid, info, draft.user


def _create(ctx: Context, draft: Draft) -> str:
    spec = draft.spec
    try:
        try:
            return ctx.runtime.create_container(spec)
        except NotFoundError:
            if not draft.baked:
                raise
            layers.unuse(ctx, draft)  # another process removed it: write the archive instead
            return ctx.runtime.create_container(draft.spec)
    except ConflictError as exc:
        raise ConflictError(
            f"A container named {spec.name!r} already exists.",
            hint="Pick another name, or call destroy on the old one if it is yours.",
            field="name",
        ) from exc
    except NotFoundError as exc:
        field = "network" if "network" in exc.message.lower() else "image"
        raise NotFoundError(
            exc.message, hint=f"Check {field}; call list_networks or preflight.", field=field
        ) from exc


def _home_dirs(draft: Draft) -> list[tuple[str, bool]]:
    # The mapped user owns its workdir, with no extra exec (root owns it already).
    return [(draft.workdir, True)] if ownable(draft.workdir, draft.mounts) else []


def _home(ctx: Context, draft: Draft, cid: str) -> None:
    """HOME, passwd and files, and the workdir's owner, go in with one archive."""
    dirs = _home_dirs(draft)
    if not draft.baked:
        # A workdir the engine was not told of is made here, for root too.
        new = draft.spec.workdir is None
        tar = provision_home.set_up(ctx, cid, draft.prov, dirs, new_dirs=new)
        layers.bake_later(ctx, draft, tar)
    if dirs and draft.prov.uid:  # names are resolved by now
        draft.steps.append(_step("workdir", "success", f"{draft.workdir} owned by {draft.user}"))


def _start(ctx: Context, draft: Draft, cid: str) -> tuple[ContainerInfo, str | None]:
    """Starts the container and checks it keeps running; returns its inspect and exec user."""
    name, user, workdir = draft.name, draft.user, draft.workdir
    try:
        ctx.runtime.start_container(cid)
    except EngineError as exc:
        raise start_error(exc, cid, name, user, workdir) from exc
    if draft.args.keep_command:
        running = ensure_running(ctx, cid, name, draft.settle_s)  # its command may exit
        user = user or running.user or None
    info = ctx.runtime.inspect_container(cid)  # cheap; ports are read from it too
    if info.state != "running":
        code, output = exit_details(ctx, cid, info)
        raise ConflictError(
            f"Container {name!r} stopped right after starting (exit {code}); "
            f"its last output: {output}",
            hint="Check the image has sleep (and /bin/sh for exec); try another image.",
            field="image",
        )
    draft.steps.append(
        _step("start", "success", f"running as {user or 'the image user'} in {workdir}")
    )
    return info, user


def _result(
    ctx: Context, draft: Draft, cid: str, info: ContainerInfo | None, user: str | None
) -> dict[str, object]:
    args, name, workdir = draft.args, draft.name, draft.workdir
    result: dict[str, object] = {
        "container": name,
        "id": cid[:12],
        "image": lb.image(draft.spec.labels, draft.spec.image),
        "runtime": ctx.runtime.name,
        "workdir": workdir,
        "user": user,
        "session_id": draft.session,
        "persistent": args.persistent,
        "purpose": draft.purpose.name if draft.purpose else None,
        "cache_used": draft.prov.cache_used,
        "home": draft.prov.home,
        "connect": connect_command(ctx, name, user, workdir),
        "provisioning": draft.steps,
    }
    if draft.spec.ports and info is not None:
        result["ports"] = port_rows(info)
    if args.keep_command:
        result["hint"] = (
            f"The service's command is running (watched {draft.settle_s:g}s); it may not be "
            "ready yet: call wait_healthy with a port, url or health_command before using it."
        )
    return result


def port_rows(info: ContainerInfo) -> list[dict[str, object]]:
    return [
        {
            "container": p.container_port,
            "host": p.host_port,
            "host_ip": p.host_ip,
            "protocol": p.protocol,
        }
        for p in info.ports
    ]
