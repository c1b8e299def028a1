"""Compose stacks and the networks a new container joins, for create, status and destroy.

The stack is brought up before the primary container, which then joins the stack's networks and
reaches services by their names. Every object of the stack carries labels tying it to the primary
container and the session (added through an override file, whatever compose runs), so
`networks.release` tears it down by label, and status reads it back from the engine.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from containers_tool import labels as lb
from containers_tool.context import Context
from containers_tool.core import networks, quota
from containers_tool.core.compose_resolve import Resolver, escape
from containers_tool.errors import (
    BuildFailedError,
    ConflictError,
    InvalidInputError,
    RuntimeUnavailableError,
    ToolError,
)
from containers_tool.models.lifecycle import CreateInput
from containers_tool.policy import compose as compose_policy
from containers_tool.policy import host_paths, tiers
from containers_tool.policy.host_paths import shown
from containers_tool.policy.ports import compose_ports
from containers_tool.runtime.capabilities import Networks
from containers_tool.runtime.compose import ComposeDriver, ComposeResult, detect
from containers_tool.sizes import parse_size

#: Compose's own project label, set by every implementation.
FOREIGN_PROJECT = "com.docker.compose.project"
UP_TIMEOUT_S = 600.0
#: Compose error text beyond this is cut (its tail says what failed).
ERROR_TEXT_LIMIT = 1500
#: Words in a failed `up`'s output meaning the file is at fault rather than an image or command.
_INVALID = re.compile(
    r"is invalid|unsupported config|additional propert|does not match|yaml|validating|"
    r"missing networks|undefined (?:network|volume|service)|must be a mapping|"
    r"not a valid(?! container)",  # podman's "not a valid container" means it was not created
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Joins:
    """What create adds to the primary container: networks to join (first at create) and labels."""

    networks: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    steps: list[dict[str, object]] = field(default_factory=list)


def driver(ctx: Context) -> ComposeDriver | None:
    """Returns the compose implementation for the context's engine, or None (cached)."""
    return detect(ctx.runtime.name, ctx.runtime.info().endpoint)


def project_name(args: CreateInput, container: str) -> str:
    """Returns the stack's project name: given, or derived from the container's name."""
    if args.compose_project:
        return args.compose_project
    derived = re.sub(r"[^a-z0-9_-]", "-", container.lower()).lstrip("-_")
    return (derived or "stack")[:63]


def prepare(ctx: Context, args: CreateInput, name: str, session: str, undo: ExitStack) -> Joins:
    """Brings up the compose stack and the session network the container is to join.

    Args:
        ctx: The tool's context.
        args: The create call.
        name: The primary container's name.
        session: Its session.
        undo: create's undo stack; gets the stack's teardown.

    Raises:
        InvalidInputError: Conflicting fields or a bad compose file.
        BuildFailedError: `compose up` failed (its text is in the message).
        ConflictError: The project name is taken.
    """
    joins = Joins()
    wants_compose = args.compose_content is not None or args.compose_file is not None
    use_session_network = (
        ctx.settings.session_network if args.session_network is None else args.session_network
    )
    if args.network in ("none", "host") and (wants_compose or args.session_network):
        raise InvalidInputError(
            f"network {args.network!r} cannot be combined with compose or session_network.",
            hint="Drop network, or drop compose_*/session_network.",
            field="network",
        )
    if args.network:
        networks.foreign_network(ctx, args.network)
        joins.networks.append(args.network)
    makes_network = use_session_network and args.network not in ("none", "host")
    if wants_compose or makes_network:
        quota.precheck(ctx)  # before a stack or network is made for nothing
    if wants_compose:
        project = project_name(args, name)
        joins.steps.append(_up(ctx, args, name, session, project, undo))
        joins.labels[lb.COMPOSE_PROJECT] = project
        joins.networks.extend(_stack_networks(ctx, name))
    if makes_network:
        net, made = networks.session_network(ctx, session)
        if made:  # a create that fails later leaves no network behind
            undo.callback(networks.drop_network, ctx, net)
        joins.networks.append(net)
    engine_nets = ctx.capability(Networks)
    leaky = engine_nets is not None and not engine_nets.network_isolation().default_isolated
    if leaky and args.network in (None, "bridge"):
        # The engine's default network reaches other sessions' networks: use the tool's own.
        joins.networks[:] = [n for n in joins.networks if n != "bridge"]
        if not joins.networks:
            joins.networks.append(networks.default_network(ctx))
    return joins


def _load(args: CreateInput, paths: host_paths.HostPaths) -> tuple[dict[str, Any], str]:
    if args.compose_content is not None and args.compose_file is not None:
        raise InvalidInputError(
            "compose_content and compose_file cannot both be given.",
            hint="Pass one of them.",
            field="compose_file",
        )
    where = "compose_content" if args.compose_content is not None else "compose_file"
    text = args.compose_content
    if text is None:
        # Checked before it is read: a parse error would quote the file.
        path = paths.check(str(args.compose_file), where, what="compose_file")
        if not path.is_file():
            raise InvalidInputError(
                f"compose_file {shown(str(args.compose_file))!r} is not a file.",
                hint="Pass the absolute path of an existing compose file.",
                field=where,
            )
        text = path.read_text(encoding="utf-8")
    try:
        doc = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as exc:
        raise InvalidInputError(
            f"The compose YAML does not parse: {shown(' '.join(str(exc).split()), 500)}",
            hint="Fix the YAML and call create again.",
            field=where,
        ) from None
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, dict) or not services:
        raise InvalidInputError(
            "The compose file has no services mapping.",
            hint="Add `services:` with at least one service that has an `image`.",
            field=where,
        )
    return doc, where


def _resolve(
    ctx: Context, args: CreateInput, paths: host_paths.HostPaths, project_dir: Path
) -> dict[str, Any]:
    """Resolves the compose file and applies create's policy to the result (see the modules)."""
    doc, where = _load(args, paths)
    resolved = Resolver(project_dir, paths, where).resolve(doc)
    for svc, body in resolved["services"].items():
        if not (body.get("image") or body.get("build")):
            raise InvalidInputError(
                f"Compose service {shown(svc)!r} has neither image nor build.",
                hint="Give every service an image, e.g. localhost/base/busybox:latest.",
                field=where,
            )
    limits = compose_policy.Limits(
        privileged=args.privileged and ctx.settings.allow_privileged,
        paths=paths,
        max_memory=max(ctx.settings.memory_tiers()),
    )
    compose_policy.check(resolved, where, limits)
    for svc, body in resolved["services"].items():
        if body.get("ports"):
            body["ports"] = compose_ports(svc, body["ports"], where)
    return resolved


def _override(
    doc: dict[str, Any],
    tags: dict[str, str],
    options: Mapping[str, str],
    limits: tuple[int, int] = (0, 0),
) -> dict[str, Any]:
    """Returns an override file that labels every service, network and volume of `doc`.

    Bridge networks also get `options`, the driver options that isolate the tool's own networks
    (Networks.network_isolation), so a stack is as cut off from other sessions as they are.
    Services get the default `limits` (memory bytes, pids) and no-new-privileges unless they set
    their own (compose_policy.defaults); (0, 0) leaves them out.
    """
    services: dict[str, Any] = doc["services"]
    out: dict[str, Any] = {
        "services": {
            s: {
                "labels": {**tags, lb.COMPOSE_SERVICE: str(s)},
                **(compose_policy.defaults(b, *limits) if all(limits) else {}),
            }
            for s, b in services.items()
        }
    }
    if "version" in doc:  # compose v1 refuses override files of another version
        out["version"] = doc["version"]
    declared: dict[str, Any] = {str(k): v or {} for k, v in (doc.get("networks") or {}).items()}
    if any("networks" not in b and "network_mode" not in b for b in services.values()):
        declared.setdefault("default", {})
    nets: dict[str, Any] = {}
    for key, body in declared.items():
        if not isinstance(body, dict) or body.get("external"):
            continue
        nets[key] = {"labels": {**tags, lb.COMPOSE_NETWORK: key}}
        if options and body.get("driver", "bridge") == "bridge":
            nets[key]["driver_opts"] = dict(options)
    if nets:
        out["networks"] = nets
    vols = {
        str(k): {"labels": dict(tags)}
        for k, v in (doc.get("volumes") or {}).items()
        if not (isinstance(v, dict) and v.get("external"))
    }
    if vols:
        out["volumes"] = vols
    return out


def _up(
    ctx: Context, args: CreateInput, name: str, session: str, project: str, undo: ExitStack
) -> dict[str, object]:
    where = "compose_content" if args.compose_file is None else "compose_file"
    paths = host_paths.for_settings(ctx.settings)
    # Relative paths mean the file's directory (as compose does), or the caller's for content.
    given = Path(str(args.compose_file)) if args.compose_file else None
    project_dir = Path(os.path.realpath(given)).parent if given else Path.cwd()
    # Before anything is made: the services, as compose would resolve them, get no more than a
    # plain create would; what was checked is what compose then brings up.
    doc = _resolve(ctx, args, paths, project_dir)
    tiers.check_compose_memory(doc, where, ctx.settings, ctx.engine_info().memory_bytes)
    _check_free(ctx, name, project)
    compose = driver(ctx)
    if compose is None:
        raise RuntimeUnavailableError(
            f"No compose implementation works with {ctx.runtime.name}.",
            hint="Install docker compose (v2), docker-compose or podman-compose; see preflight.",
            field=where,
        )
    tags = {
        lb.ATTACHED_TO: name,
        lb.MEMBER: "true",
        lb.SESSION: session,
        lb.TENANT: ctx.tenant,
        lb.COMPOSE_PROJECT: project,
    }
    # Never raises: a failed teardown must not replace the error that caused it.
    undo.callback(networks.discard, ctx, name)
    result = _bring_up(ctx, compose, doc, tags, project, project_dir)
    expected = {str(s) for s, b in doc["services"].items() if not b.get("profiles")}
    services = stack_services(ctx, name)
    missing = sorted(expected - {str(s["service"]) for s in services})
    if result.exit_code != 0 or missing:
        raise _up_failed(ctx, name, result, missing, where)
    return {
        "step": "compose",
        "status": "success",
        "detail": f"{compose.description}: project {project}, {len(services)} service(s) up",
        "project": project,
        "implementation": compose.description,
        "services": services,
    }


def _check_free(ctx: Context, name: str, project: str) -> None:
    """Refuses a taken container name or a running project, before `up` makes anything."""
    if name in {c.name for c in ctx.runtime.list_containers({})} or ctx.runtime.list_containers(
        {lb.ATTACHED_TO: name}
    ):
        # Checked before `up`: the undo removes whatever is attached to this name.
        raise ConflictError(
            f"A container named {name!r} already exists.",
            hint="Pick another name, or call destroy on the old one if it is yours.",
            field="name",
        )
    if ctx.runtime.list_containers({FOREIGN_PROJECT: project}):
        raise ConflictError(
            f"A compose project named {project!r} is already running.",
            hint="Pass another compose_project, or another container name.",
            field="compose_project",
        )


def _bring_up(
    ctx: Context,
    compose: ComposeDriver,
    doc: dict[str, Any],
    tags: dict[str, str],
    project: str,
    project_dir: Path,
) -> ComposeResult:
    """Runs `up` on the checked document plus the tool's override (labels, isolation, limits)."""
    # Private (0700) and removed whatever happens: the content may hold secrets.
    tmp = Path(tempfile.mkdtemp(prefix=f"containers-tool-compose-{project}-"))
    try:
        checked = tmp / "compose.yaml"
        checked.write_text(yaml.safe_dump(escape(doc), sort_keys=False), encoding="utf-8")
        override = tmp / "containers-tool.override.yaml"
        isolate = ctx.require(Networks, "create with compose").network_isolation().options
        limits = (parse_size(ctx.settings.memory_limit), ctx.settings.pids_limit)
        override.write_text(yaml.safe_dump(_override(doc, tags, isolate, limits)), encoding="utf-8")
        files: list[Path | str] = [checked, override]
        return compose.up(project, files, UP_TIMEOUT_S, project_dir=project_dir, scratch=tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _up_failed(
    ctx: Context, name: str, result: ComposeResult, missing: list[str], where: str
) -> ToolError:
    """The error of a failed `up`, after removing what it left (or saying what it could not)."""
    text = result.output.strip()
    if len(text) > ERROR_TEXT_LIMIT:
        text = "…" + text[-ERROR_TEXT_LIMIT:]
    why = f"exit {result.exit_code}" + (f", services not created: {missing}" if missing else "")
    error = InvalidInputError if _INVALID.search(text) else BuildFailedError
    left = networks.discard(ctx, name)
    return error(
        f"compose up failed ({why}): {text}",
        hint="Fix the compose file (images must exist locally or be pullable); "
        + (
            "nothing of the stack was left behind."
            if left is None
            else f"part of the stack could not be removed ({left}): call destroy_all with "
            "confirm and session_id to retry."
        ),
        field=where,
    )


def _stack_networks(ctx: Context, name: str) -> list[str]:
    nets = ctx.require(Networks, "create with compose").list_networks({lb.ATTACHED_TO: name})
    nets.sort(key=lambda n: (n.labels.get(lb.COMPOSE_NETWORK) != "default", n.name))
    return [n.name for n in nets]


def stack_services(ctx: Context, name: str) -> list[dict[str, object]]:
    """Lists the compose services of the primary container `name`, with their state."""
    rows: list[dict[str, object]] = [
        {"service": c.labels[lb.COMPOSE_SERVICE], "container": c.name, "state": c.state}
        for c in ctx.runtime.list_containers({lb.ATTACHED_TO: name})
        if lb.COMPOSE_SERVICE in c.labels
    ]
    return sorted(rows, key=lambda r: (str(r["service"]), str(r["container"])))


def describe(ctx: Context, name: str, labels: dict[str, str]) -> dict[str, object] | None:
    """Returns status's `compose` entry for a primary container, or None without a stack."""
    project = labels.get(lb.COMPOSE_PROJECT)
    if project is None:
        return None
    return {"project": project, "services": stack_services(ctx, name)}
