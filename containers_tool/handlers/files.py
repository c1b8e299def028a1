"""copy_in and copy_out: tar streams through the engine API, never a shell string."""

from __future__ import annotations

import contextlib
import posixpath
from pathlib import Path

from containers_tool.archive import pack, unpack
from containers_tool.context import Context, Ref
from containers_tool.core.exec import run
from containers_tool.errors import NotFoundError, PolicyDeniedError
from containers_tool.models.files import CopyInInput, CopyOutInput
from containers_tool.policy import host_paths
from containers_tool.registry import operation
from containers_tool.runtime.types import ExecRequest


def _container_path(ref: Ref, path: str) -> str:
    joined = posixpath.normpath(posixpath.join(ref.workdir or "/", path))
    return joined + "/" if path.endswith("/") and joined != "/" else joined


def _owner(user: str) -> tuple[int | None, int | None]:
    uid, _, gid = user.partition(":")
    if not uid.isdigit():
        return None, None
    return int(uid), int(gid) if gid.isdigit() else int(uid)


def _is_dir(ctx: Context, ref: Ref, path: str) -> bool:
    stat = ctx.runtime.stat_path(ref.id, path)
    return stat is not None and stat.is_dir


@operation("copy_in", CopyInInput)
def copy_in(args: CopyInInput, ctx: Context) -> dict[str, object]:
    """Copies a host file or directory into the container, owned by the mapped user."""
    # The real path is what the policy judged, so it is what gets read.
    paths = host_paths.for_settings(ctx.settings)
    source = paths.check(args.source, "source", what="copy_in source")
    if not source.exists():
        raise NotFoundError(
            f"Host path {host_paths.shown(args.source)!r} does not exist.",
            hint="Pass an existing host file or directory.",
            field="source",
        )
    return ctx.using(args.container, lambda ref: _copy_in(ctx, args, ref, source))


def _copy_in(ctx: Context, args: CopyInInput, ref: Ref, source: Path) -> dict[str, object]:
    target = _container_path(ref, args.destination)
    # Like `docker cp`: an existing directory receives the item by its own name. Writing the
    # item over it instead would replace the directory and everything in it.
    into = target.endswith("/") or _is_dir(ctx, ref, target)
    if into:
        parent, name = target.rstrip("/") or "/", source.name
    else:
        parent, name = posixpath.dirname(target) or "/", posixpath.basename(target)
    uid, gid = _owner(ref.user)
    packed = pack(source, name, uid, gid)
    with contextlib.closing(packed.file):
        try:
            ctx.runtime.put_archive(ref.id, parent, packed.chunks())
        except NotFoundError:
            # The parent directory is missing: make it as the mapped user, then retry once.
            made = run(ctx, args.container, ExecRequest(argv=["mkdir", "-p", parent], timeout_s=30))
            if made.exit_code != 0:
                raise NotFoundError(
                    f"Cannot create {parent!r} in the container: {made.stderr.text.strip()}",
                    hint="Pick a destination under the workdir, or use as_root with exec first.",
                    field="destination",
                ) from None
            ctx.runtime.put_archive(ref.id, parent, packed.chunks())
    return {
        "files": packed.files,
        "bytes": packed.size,
        "destination": posixpath.join(parent, name),
    }


@operation("copy_out", CopyOutInput)
def copy_out(args: CopyOutInput, ctx: Context) -> dict[str, object]:
    """Copies a file or directory out of the container; refuses members outside the destination."""
    return ctx.using(args.container, lambda ref: _copy_out(ctx, args, ref))


def _copy_out(ctx: Context, args: CopyOutInput, ref: Ref) -> dict[str, object]:
    source = _container_path(ref, args.source).rstrip("/") or "/"
    paths = host_paths.for_settings(ctx.settings)
    destination = paths.check(args.destination, "destination", what="copy_out destination")
    into_dir = args.destination.endswith("/") or destination.is_dir()
    stat = ctx.runtime.stat_path(ref.id, source)
    if stat is not None and stat.is_link:
        # Docker would send the link and Podman its target: both refuse it alike.
        raise PolicyDeniedError(
            f"Path {host_paths.shown(source)!r} in container {ref.name!r} is a symlink, which "
            "points outside the copied item.",
            hint="Copy the link's target instead (exec `readlink -f` names it).",
            field="source",
        )
    try:
        chunks = ctx.runtime.get_archive(ref.id, source)
    except NotFoundError:
        raise NotFoundError(
            f"Path {source!r} does not exist in container {ref.name!r}.",
            hint="Check the path with exec (ls).",
            field="source",
        ) from None
    files, size = unpack(chunks, destination, into_dir)
    placed = destination / posixpath.basename(source) if into_dir else destination
    return {"files": files, "bytes": size, "destination": str(placed)}
