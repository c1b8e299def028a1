"""Writing files into a running container: through an exec's stdin, or one archive.

Contents never travel in an exec's environment or argv: engines keep both (Podman persists
every exec session's config in its database), so a secret there would outlive the container.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from containers_tool.runtime.base import Runtime

#: Writes exactly $2 bytes of stdin to $3 (parents made as the caller), then checks the size.
WRITE_SCRIPT = (
    'umask "$1"; mkdir -p -- "$(dirname -- "$3")" && head -c "$2" > "$3" '
    '&& [ "$(wc -c < "$3")" -eq "$2" ] && chmod "$4" -- "$3"'
)
WRITE_TIMEOUT = 120.0


@dataclass
class FileEntry:
    """A file the tool writes, and whether the mapped user owns it."""

    path: str
    content: bytes
    mode: int = 0o644
    owned: bool = True


def write_stdin(
    runtime: Runtime,
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
