"""The mapped user and its HOME, set up in a new container before create returns.

A service's (keep_command) go in before its command starts; a keep-alive container's right
after it started, when nothing runs in it yet.

HOME is always the tool's (`/root` for root, else `/home/ct`), created writable and owned by
the mapped user. When the image already has a passwd entry for that uid (node and ubuntu
images use 1000), the entry keeps its name but its home field becomes the tool's HOME, so
`$HOME`, `~` and getpwuid() agree; the image's old home directory is left as it was.

What an image's /etc/passwd and /etc/group say is read once per image (by id, or by the
content-hashed tag of a cached purpose image) and kept for the process: a fresh container's
files are its image's. Root needs neither file, so a root create reads nothing.
"""

from __future__ import annotations

import io
import tarfile
import threading
from collections.abc import Sequence

from containers_tool.context import Context
from containers_tool.errors import EngineError, InvalidInputError, NotFoundError
from containers_tool.provision.files import FileEntry, archive, parents, under
from containers_tool.provision.plan import ROOT_HOME, Plan

#: (image key, path) -> the file's bytes (None: the image has none); bounded.
_FILES: dict[tuple[str, str], bytes | None] = {}
_FILES_LOCK = threading.Lock()
_FILES_MAX = 256


def needs_passwd(user: str) -> bool:
    """Tells whether setting up `user` reads the image's /etc/passwd (numeric root does not)."""
    name, _, group = user.partition(":")
    root = name.isdigit() and int(name) == 0 and (not group or group.isdigit())
    return bool(user) and not root


def image_file(ctx: Context, cid: str, p: Plan, path: str) -> bytes | None:
    """Returns a file of the new container's image, from the cache when its image is known."""
    key = (p.image_key, path) if p.image_key else None
    if key is not None:
        with _FILES_LOCK:
            if key in _FILES:
                return _FILES[key]
    data = read_file(ctx, cid, path)
    if key is not None:
        with _FILES_LOCK:
            if len(_FILES) >= _FILES_MAX:
                _FILES.pop(next(iter(_FILES)))
            _FILES[key] = data
    return data


def set_up(
    ctx: Context,
    cid: str,
    p: Plan,
    dirs: Sequence[tuple[str, bool]] = (),
    *,
    new_dirs: bool = False,
) -> bytes | None:
    """Resolves a named user, makes HOME and its passwd entry, and writes HOME's files.

    Everything goes in one archive: HOME, its files, the passwd entry, and `dirs` (path,
    owned by the mapped user), e.g. the workdir. `new_dirs`: `dirs` do not exist yet, so they
    are written for root too (else root owns them already). Files under a bind mount are held
    back in `p.deferred`: an archive would write them under the mount (Podman) or change
    owners on the host (Docker).

    Returns:
        The archive written, if any.

    Raises:
        InvalidInputError: `user` names a user or group the image does not define.
    """
    if not p.user:
        # A service running as its image's own user: nothing to resolve, no HOME to make.
        if p.files or new_dirs:
            return _write_home(ctx, cid, p, [], 0, 0, dirs, new_dirs=new_dirs)
        return None
    name, _, group = p.user.partition(":")
    if not needs_passwd(p.user):
        return _write_home(ctx, cid, p, [], 0, 0, dirs, new_dirs=new_dirs)
    try:
        passwd = image_file(ctx, cid, p, "/etc/passwd")
    except EngineError as exc:
        if name.isdigit() and (not group or group.isdigit()):
            raise
        # Podman resolves the container's user (and group) to read its files: an unknown name
        # fails here. Its message quotes the container's id, not a name the caller knows.
        raise InvalidInputError(
            f"User {p.user!r} names a user or group that the image does not define.",
            hint='Pass a numeric uid:gid such as "1000:1000", or a user the image defines.',
            field="user",
        ) from exc
    if not name.isdigit() or (group and not group.isdigit()):
        p.uid, p.gid = resolve_names(ctx, cid, p, passwd, name, group)
    uid, gid = p.uid or 0, p.gid or 0
    extra: list[FileEntry] = []
    if uid != 0 and passwd is not None:
        updated = with_home(passwd, uid, gid, p.home)
        if updated != passwd:
            extra.append(FileEntry("/etc/passwd", updated, 0o644, owned=False))
    return _write_home(ctx, cid, p, extra, uid, gid, dirs, new_dirs=new_dirs)


def _write_home(
    ctx: Context,
    cid: str,
    p: Plan,
    extra: list[FileEntry],
    uid: int,
    gid: int,
    owned: Sequence[tuple[str, bool]] = (),
    home_made: bool = False,
    *,
    new_dirs: bool = False,
) -> bytes | None:
    p.deferred = [f for f in p.files if under(f.path, p.mount_targets)]
    early = [f for f in p.files if not under(f.path, p.mount_targets)] + extra
    dirs: list[tuple[str, bool]] = list(owned) if uid or new_dirs else []  # else root's already
    if p.home != ROOT_HOME and not under(p.home, p.mount_targets):
        if not home_made:
            # Engines create a missing parent with the child's owner: say /home is root's.
            dirs += [(d, False) for d in parents(p.home)]
            dirs.append((p.home, True))
        inside = {d for f in early if f.owned for d in parents(f.path, p.home)}
        dirs += [(d, True) for d in sorted(inside)]
    if not (early or dirs):
        return None
    tar = archive(early, dirs, uid, gid)
    ctx.runtime.put_archive(cid, "/", tar)
    return tar


def write_files(ctx: Context, cid: str, p: Plan) -> None:
    """Writes HOME's files into a running container whose HOME and user are set up (pooled).

    The same archive `set_up` would put, less what the container already has: HOME, its
    parents, the passwd entry and the workdir's owner.
    """
    _write_home(ctx, cid, p, [], p.uid or 0, p.gid or 0, home_made=True)


def resolve_names(
    ctx: Context, cid: str, p: Plan, passwd: bytes | None, name: str, group: str
) -> tuple[int, int]:
    """Returns (uid, gid) of `name[:group]` from the image's /etc/passwd and /etc/group.

    Raises:
        InvalidInputError: The image does not define the user or the group.
    """
    if name.isdigit():
        uid = gid = int(name)
    else:
        row = _row(passwd, name)
        if row is None:
            raise InvalidInputError(
                f"User {name!r} is not defined in the image's /etc/passwd.",
                hint='Pass a numeric uid:gid such as "1000:1000", or a user the image defines.',
                field="user",
            )
        uid, gid = int(row[2]), int(row[3])
    if group.isdigit():
        gid = int(group)
    elif group:
        grow = _row(image_file(ctx, cid, p, "/etc/group"), group)
        if grow is None:
            raise InvalidInputError(
                f"Group {group!r} is not defined in the image's /etc/group.",
                hint='Pass a numeric gid, e.g. "1000:1000".',
                field="user",
            )
        gid = int(grow[2])
    return uid, gid


def _row(table: bytes | None, name: str) -> list[str] | None:
    for line in (table or b"").decode("utf-8", "replace").splitlines():
        fields = line.split(":")
        if len(fields) >= 4 and fields[0] == name and fields[2].isdigit():
            return fields
    return None


def with_home(passwd: bytes, uid: int, gid: int, home: str) -> bytes:
    """Returns /etc/passwd where the entry of `uid` has `home` (an entry is added if none)."""
    lines = passwd.split(b"\n")
    for i, line in enumerate(lines):
        fields = line.split(b":")
        if len(fields) >= 7 and fields[2] == str(uid).encode():
            if fields[5] == home.encode():
                return passwd
            fields[5] = home.encode()
            lines[i] = b":".join(fields)
            return b"\n".join(lines)
    names = {line.split(b":", 1)[0] for line in lines}
    user = "ct" if b"ct" not in names else f"ct{uid}"
    entry = f"{user}:x:{uid}:{gid}:containers-tool user:{home}:/bin/sh\n".encode()
    sep = b"" if not passwd or passwd.endswith(b"\n") else b"\n"
    return passwd + sep + entry


def read_file(ctx: Context, cid: str, path: str) -> bytes | None:
    """Returns a file of the (created, maybe not started) container; None if it has none."""
    try:
        data = b"".join(ctx.runtime.get_archive(cid, path))
    except NotFoundError:
        return None
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = next((m for m in tar.getmembers() if m.isfile()), None)
        handle = tar.extractfile(member) if member else None
        return handle.read() if handle else None
