"""create's convenience fields that are shorthands for others: as_root and amplifier_*."""

from __future__ import annotations

import shlex

from containers_tool.errors import InvalidInputError
from containers_tool.models.lifecycle import CreateInput

#: The name the requested bundle is registered under inside the container.
BUNDLE_NAME = "ct-bundle"
ROOT_USERS = (None, "0", "0:0", "root", "root:root")


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
