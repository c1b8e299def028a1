"""Managed containers after create: the handoff line, removal, reaping."""

from __future__ import annotations

import logging
import shlex
import sqlite3
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from containers_tool import labels as lb
from containers_tool.context import Context
from containers_tool.core import bindings, networks
from containers_tool.errors import (
    InternalError,
    ToolError,
)
from containers_tool.runtime.capabilities import Shell
from containers_tool.runtime.types import ContainerInfo

log = logging.getLogger("containers_tool")


#: What a human's shell runs: bash where the image has it, else sh.
INTERACTIVE_SHELL = (
    "/bin/sh",
    "-c",
    f"[ -r {lb.ENVFILE_PATH} ] && . {lb.ENVFILE_PATH}; "
    "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi",
)


def connect_command(ctx: Context, name: str, user: str | None, workdir: str | None) -> str:
    """Returns the shell line that hands the container to a human."""
    shell = ctx.capability(Shell)
    if shell is None:
        return ""
    argv = shell.shell_command(name, user=user, workdir=workdir, shell=INTERACTIVE_SHELL)
    return shlex.join(argv)


def remove(ctx: Context, name: str, cid: str, labels: Mapping[str, str]) -> None:
    """Removes a managed container, and what is attached to it, and forgets it.

    Raises:
        ToolError: Something could not be removed (when an attached container, the primary stays).
    """
    ctx.sessions.close_container(cid)  # its shells end with it
    try:
        # Port sidecars always; networks and volumes only exist for a compose stack.
        networks.release(ctx, name, primary=cid, stack=lb.COMPOSE_PROJECT in labels)
    finally:
        ctx.forget(name)
    try:  # its bindings go with it; one left behind resolves as missing, so only warn
        bindings.drop_container(ctx, cid)
    except sqlite3.Error as exc:
        log.warning("bindings of %s not removed: %s", name, exc)


def destroy_many(
    ctx: Context, infos: list[ContainerInfo], parallel: bool = True
) -> tuple[list[str], dict[str, ToolError]]:
    """Removes containers (in parallel unless at interpreter exit), each whatever the others do.

    Returns:
        The names removed, and the error of each container that could not be.
    """

    def one(info: ContainerInfo) -> ToolError | None:
        try:
            remove(ctx, info.name, info.id, info.labels)
        except ToolError as exc:
            return exc
        except Exception as exc:  # one container must not stop the others
            log.exception("removing %s failed unexpectedly", info.name)
            return InternalError(f"Removing {info.name!r} failed unexpectedly: {exc!r}")
        return None

    if parallel and len(infos) > 1:
        with ThreadPoolExecutor(max_workers=min(8, len(infos))) as pool:
            outcomes = list(pool.map(one, infos))
    else:
        outcomes = [one(info) for info in infos]
    failed = {i.name: e for i, e in zip(infos, outcomes, strict=True) if e is not None}
    return sorted(i.name for i in infos if i.name not in failed), failed


def reap_session(ctx: Context, parallel: bool = True) -> list[str]:
    """Removes the ephemeral containers of the context's own session (at shutdown).

    One container that cannot be removed does not stop the others; failures are logged.

    Args:
        ctx: The session's context.
        parallel: False at interpreter exit, where no new thread pool may start.

    Returns:
        The names of the containers removed.
    """
    try:
        # Session ids may repeat across tenants (the CLI's is always "cli"): the tenant's only.
        infos = ctx.tenant_containers(ctx.session_id)
    except Exception:  # noqa: BLE001 - at shutdown the engine may be gone; nothing to reap then
        return []
    ephemeral = [i for i in infos if i.labels.get(lb.PERSISTENT) != "true"]
    destroyed, failed = destroy_many(ctx, ephemeral, parallel)
    for name, exc in sorted(failed.items()):
        log.warning("session %s: could not remove %s: %s", ctx.session_id, name, exc.message)
    try:  # leftovers of failed destroys, then the session's networks
        _, errors = networks.sweep_orphans(ctx, ctx.session_id)
        for exc in errors:
            log.warning("session %s: %s", ctx.session_id, exc.message)
        networks.remove_unused_networks(ctx, ctx.session_id)
    except Exception:  # best effort at shutdown, after every container was tried
        log.warning("session %s: networks not cleaned up", ctx.session_id, exc_info=True)
    return destroyed
