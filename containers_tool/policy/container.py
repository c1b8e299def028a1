"""Secure defaults and checks: limits on every container, no privileged mode, no engine socket."""

from __future__ import annotations

import os
from pathlib import Path

from containers_tool.errors import InvalidInputError, PolicyDeniedError
from containers_tool.models.lifecycle import CreateInput
from containers_tool.policy import host_paths
from containers_tool.policy.host_paths import shown
from containers_tool.provision.purposes import Resources
from containers_tool.runtime.types import MountSpec, PortSpec
from containers_tool.settings import Settings
from containers_tool.sizes import parse_size


def host_user() -> str:
    """Returns the caller's uid:gid, which commands in containers run as by default."""
    return f"{os.getuid()}:{os.getgid()}"


def resource_limits(
    args: CreateInput, settings: Settings, defaults: Resources | None = None, host_cpus: int = 0
) -> tuple[int, int, int]:
    """Returns (memory bytes, nano CPUs, pids limit); every container gets all three.

    Explicit arguments beat the purpose's defaults, which beat the settings. A default CPU
    limit above the host's CPUs (`host_cpus`, 0 if unknown) is lowered to them.

    Raises:
        InvalidInputError: A limit is malformed, below the engines' minimum, or asks for more
            CPUs than the host has (Docker refuses those; Podman would accept them).
    """
    memory = parse_size(
        args.memory_limit or (defaults.memory if defaults else None) or settings.memory_limit
    )
    if memory < 6 * 1024 * 1024:
        raise InvalidInputError(
            f"memory_limit {args.memory_limit!r} is below the engines' 6 MiB minimum.",
            hint='Use at least "64m".',
            field="memory_limit",
        )
    if args.cpu_limit and host_cpus and args.cpu_limit > host_cpus:
        raise InvalidInputError(
            f"cpu_limit {args.cpu_limit:g} is more than the {host_cpus} CPUs of the engine's host.",
            hint=f"Use at most {host_cpus}, or omit cpu_limit for the default.",
            field="cpu_limit",
        )
    cpus = args.cpu_limit or (defaults.cpus if defaults else None) or settings.cpu_limit
    if host_cpus:
        cpus = min(cpus, host_cpus)
    pids = defaults.pids if defaults else settings.pids_limit
    return memory, int(cpus * 1e9), pids


def mounts(
    args: CreateInput, workdir: str, cwd: Path, settings: Settings, *, remote: bool = False
) -> list[MountSpec]:
    """Validates bind mounts against the host-path policy; returns them with real sources.

    Args:
        args: The create input.
        workdir: Where mount_cwd mounts the working directory.
        cwd: The tool process's working directory.
        settings: The operator's policy.
        remote: The engine runs on another machine, where these paths do not exist.

    Raises:
        InvalidInputError: A source is not an existing absolute host path, two share a target,
            or the engine is remote (a bind would name a path of the engine's machine).
        PolicyDeniedError: The host-path policy refuses a source (see policy.host_paths).
    """
    if remote and (args.mounts or args.mount_cwd):
        raise InvalidInputError(
            "The engine is remote: a bind mount would name a path on the engine's machine, "
            "not on this one.",
            hint="Leave mounts and mount_cwd out; create, then copy_in the files you need "
            "(and copy_out the results).",
            field="mount_cwd" if args.mount_cwd else "mounts",
        )
    specs = [MountSpec(m.source, m.target, m.read_only) for m in args.mounts]
    if args.mount_cwd:
        specs.append(MountSpec(str(cwd), workdir, False))
    paths = host_paths.for_settings(settings, cwd)
    targets: set[str] = set()
    checked = []
    for spec in specs:
        real = paths.check(spec.source, "mounts", what="Mount source")
        if not Path(spec.source).is_absolute() or not real.exists():
            raise InvalidInputError(
                f"Mount source {shown(spec.source)!r} is not an existing absolute host path.",
                hint="Pass an absolute path that exists on the host.",
                field="mounts",
            )
        if spec.target in targets:
            raise InvalidInputError(
                f"Two mounts target {shown(spec.target)!r}.",
                hint="Give each mount its own target.",
                field="mounts",
            )
        targets.add(spec.target)
        # The real path, so what was checked is what the engine mounts.
        checked.append(MountSpec(str(real), spec.target, spec.read_only))
    return checked


def check_privileged(args: CreateInput, settings: Settings) -> None:
    """Refuses privileged mode unless the operator's policy allows it.

    Raises:
        PolicyDeniedError: privileged was asked for and is not allowed.
    """
    if args.privileged and not settings.allow_privileged:
        raise PolicyDeniedError(
            "Privileged containers are disabled by policy.",
            hint="Drop privileged; an operator can set allow_privileged: true in settings.",
            field="privileged",
        )
    if args.network == "host" and not args.privileged:
        # The host's network namespace reaches every host-local service: as much as privileged.
        raise PolicyDeniedError(
            'network "host" shares the host\'s network namespace, which the policy refuses.',
            hint="Drop network (or use a named network); an operator can set "
            "allow_privileged: true and the caller pass privileged=true.",
            field="network",
        )


def ports(args: CreateInput) -> list[PortSpec]:
    """Returns the ports to publish, on the loopback address only."""
    return [PortSpec(p.container, p.host, p.protocol) for p in args.ports]
