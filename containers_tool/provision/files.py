"""Writing files into a running container: through an exec's stdin, or one archive.

Contents never travel in an exec's environment or argv: engines keep both (Podman persists
every exec session's config in its database), so a secret there would outlive the container.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from containers_tool.errors import EngineError, ToolError
from containers_tool.runtime.capabilities import Shell
from containers_tool.runtime.protocol import Runtime
from containers_tool.runtime.types import ExecRequest

#: Writes exactly $2 bytes of stdin to $3 (parents made as the caller), then checks the size.
WRITE_SCRIPT = (
    'umask "$1"; mkdir -p -- "$(dirname -- "$3")" && head -c "$2" > "$3" '
    '&& [ "$(wc -c < "$3")" -eq "$2" ] && chmod "$4" -- "$3"'
)
#: Prints (NUL-separated) which of the given paths exist.
EXISTING_SCRIPT = 'for p in "$@"; do if [ -e "$p" ]; then printf "%s\\0" "$p"; fi; done'
WRITE_TIMEOUT = 120.0


@dataclass
class FileEntry:
    """A file the tool writes, and whether the mapped user owns it."""

    path: str
    content: bytes
    mode: int = 0o644
    owned: bool = True
    #: The report step the file belongs to (git, ssh, dotfiles, config_dirs, config_files).
    step: str = ""


def under(path: str, roots: Iterable[str]) -> bool:
    """Tells whether `path` is one of `roots` or lies below one."""
    return any(PurePosixPath(path).is_relative_to(root) for root in roots)


def write_stdin(
    runtime: Shell,
    cid: str,
    entry: FileEntry,
    *,
    user: str | None,
    umask: str = "022",
) -> str | None:
    """Writes one file as `user` with its bytes sent through the exec's stdin.

    Returns:
        None when the file holds exactly the bytes, else why it does not (one line).
    """
    data = entry.content
    argv = [
        "/bin/sh",
        "-c",
        WRITE_SCRIPT,
        "containers-tool-write",
        umask,
        str(len(data)),
        entry.path,
        format(entry.mode, "o"),
    ]
    channel = runtime.open_shell(cid, argv, env={}, user=user, workdir=None)
    errors = bytearray()
    try:
        try:
            if data:
                channel.send(data)
        except EOFError:
            pass  # the script ended early; its stderr says why
        deadline = time.monotonic() + WRITE_TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            try:
                frame = channel.recv(max(remaining, 0.0))
            except EOFError:
                break
            if frame is None:
                channel.kill()
                return f"writing {entry.path} timed out"
            if frame[0] == 2:
                errors += frame[1]
        code = channel.exit_code()
    finally:
        channel.close()
    if code == 0:
        return None
    text = errors.decode("utf-8", "replace").strip().splitlines()
    return (text[-1][:300] if text else "") or f"writing {entry.path} exited {code}"


def existing(runtime: Runtime, cid: str, paths: Sequence[str]) -> set[str] | None:
    """Returns which of `paths` exist in the running container (None if it cannot tell)."""
    if not paths:
        return set()
    argv = ["/bin/sh", "-c", EXISTING_SCRIPT, "containers-tool-ls", *paths]
    req = ExecRequest(argv=argv, user="0:0", timeout_s=30.0, output_limit=1_000_000)
    result = runtime.exec_command(cid, req)
    if result.exit_code != 0 or result.stdout.truncated:
        return None
    return {p for p in result.stdout.text.split("\0") if p}


def parents(path: str, root: str = "/") -> list[str]:
    """Returns the directories between `root` (excluded) and the file at `path`, outermost first."""
    if not PurePosixPath(path).is_relative_to(root):
        return []
    parts = PurePosixPath(path).relative_to(root).parts[:-1]
    return [posixpath.join(root, *parts[: i + 1]) for i in range(len(parts))]


def archive(
    files: Sequence[FileEntry],
    dirs: Sequence[tuple[str, bool]],
    uid: int,
    gid: int,
) -> bytes:
    """One tar to extract at /: `dirs` (path, owned) first, then `files`.

    Only directories the caller knows to be missing belong in `dirs`: a directory entry sets
    the owner and mode of whatever is already at that path.
    """
    buf = io.BytesIO()
    now = int(time.time())
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, owned in dirs:
            info = tarfile.TarInfo(path.strip("/"))
            info.type, info.mode = tarfile.DIRTYPE, 0o700 if path.endswith("/.ssh") else 0o755
            info.uid, info.gid = (uid, gid) if owned else (0, 0)
            info.mtime = now
            tar.addfile(info)
        for entry in files:
            info = tarfile.TarInfo(entry.path.strip("/"))
            info.size, info.mode, info.mtime = len(entry.content), entry.mode, now
            info.uid, info.gid = (uid, gid) if entry.owned else (0, 0)
            tar.addfile(info, io.BytesIO(entry.content))
    return buf.getvalue()


def write_late(
    runtime: Shell,
    cid: str,
    entries: Sequence[FileEntry],
    *,
    mounts: Sequence[str],
    owned_roots: Sequence[str],
    uid: int,
    gid: int,
) -> dict[str, str]:
    """Writes files into a running container, byte-exact; returns path -> why it failed.

    A file under a bind mount is written by the mapped user itself (the container's user),
    through stdin: the host sees an ordinary write, and nothing on the host changes owner.
    Other files go in one archive, with directory entries only for directories that do not
    exist yet (owned by the mapped user under `owned_roots`, by root elsewhere).
    """
    failures: dict[str, str] = {}
    local: list[FileEntry] = []
    for entry in entries:
        if under(entry.path, mounts):
            why = write_stdin(runtime, cid, entry, user=None)
            if why is not None:
                failures[entry.path] = why
        else:
            local.append(entry)
    if not local:
        return failures
    wanted = sorted({d for e in local for d in parents(e.path)})
    try:
        have = existing(runtime, cid, wanted)
        if have is None:
            raise EngineError("Could not list the container's directories.")
        dirs = [(d, uid != 0 and under(d, owned_roots)) for d in wanted if d not in have]
        runtime.put_archive(cid, "/", archive(local, dirs, uid, gid))
    except ToolError as exc:
        failures.update(dict.fromkeys((e.path for e in local), exc.message))
    return failures
