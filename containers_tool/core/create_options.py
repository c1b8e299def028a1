"""create's shorthand fields (as_root, amplifier_*), and where the engine is told to run."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import PurePosixPath

from containers_tool.errors import InvalidInputError
from containers_tool.models.lifecycle import CreateInput
from containers_tool.runtime.types import MountSpec

#: The name the requested bundle is registered under inside the container.
BUNDLE_NAME = "ct-bundle"
ROOT_USERS = (None, "0", "0:0", "root", "root:root")

#: Directories whose ownership the tool never changes, even when one is the workdir.
SYSTEM_DIRS = frozenset(
    {
        "/",
        "/tmp",  # noqa: S108 - a name to protect, not a file to write
        "/root",
        "/home",
        "/usr",
        "/etc",
        "/var",
        "/bin",
        "/sbin",
        "/lib",
        "/opt",
        "/srv",
        "/proc",
        "/sys",
        "/dev",
        "/run",
        "/boot",
        "/mnt",
        "/media",
    }
)


def engine_workdir(
    args: CreateInput,
    workdir: str,
    mounts: Sequence[MountSpec],
    image: str | None,
    purpose: bool,
    *,
    lazy: bool,
) -> str | None:
    """The WorkingDir the engine gets; None leaves the image's, and create makes the workdir.

    Podman makes a missing WorkingDir at every start, which costs ~45 ms of a ~250 ms create,
    while an archive into the started container makes it in ~3 ms (Docker makes it at create,
    cheaply; `lazy` says the engine is Podman-like). So a keep-alive container on the tool's
    default workdir, a new top-level directory, gets it from the archive create writes
    anyway, and every exec names its cwd (the WORKDIR label). These go to the engine: a
    workdir the caller chose, one under a mount, a system directory (it exists, maybe as a
    symlink an archive would replace), a service's (its command runs there from the start)
    and a purpose image's (the image has it).
    """
    if not lazy or args.keep_command or args.workdir or image or purpose:
        return workdir
    top_level = PurePosixPath(workdir).parent == PurePosixPath("/")
    return None if top_level and ownable(workdir, mounts) else workdir


def ownable(workdir: str, mounts: Sequence[MountSpec]) -> bool:
    """Tells whether create may own (or make) the workdir: no system directory, no mount's."""
    path = PurePosixPath(workdir)
    return workdir not in SYSTEM_DIRS and not any(path.is_relative_to(m.target) for m in mounts)


def normalize(args: CreateInput) -> CreateInput:
    """Turns the shorthands into the fields they stand for, refusing ones that cannot apply.

    `as_root` is user "0:0" (execs default to root; `exec(as_root=false)` is not a way back:
    pass `user` for that). `amplifier_bundle` becomes a setup command run after provisioning,
    as the container's user, so its settings land in that user's ~/.amplifier.
    `amplifier_version` is applied where the purpose is resolved (provision.plan): it is a
    build input, part of the image's cache key.

    Raises:
        InvalidInputError: An amplifier_* field without purpose "amplifier", or as_root with a
            non-root user.
    """
    for name in ("amplifier_version", "amplifier_bundle"):
        if getattr(args, name) and args.purpose != "amplifier":
            raise InvalidInputError(
                f"{name} applies to purpose 'amplifier' only, not {args.purpose!r}.",
                hint='Add purpose="amplifier", or drop ' + name + ".",
                field=name,
            )
    update: dict[str, object] = {}
    if args.as_root:
        if args.user not in ROOT_USERS:
            raise InvalidInputError(
                f"as_root asks for root but user is {args.user!r}.",
                hint="Pass as_root or user, not both.",
                field="as_root",
            )
        update["user"] = "0:0"
    if args.amplifier_bundle:
        uri = shlex.quote(args.amplifier_bundle)
        command = (
            f"amplifier bundle add {uri} --name {BUNDLE_NAME} && amplifier bundle use {BUNDLE_NAME}"
        )
        update["setup_commands"] = [*args.setup_commands, command]
    return args.model_copy(update=update) if update else args
