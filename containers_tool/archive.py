"""Tar packing and safe unpacking for copy_in / copy_out."""

from __future__ import annotations

import io
import os
import posixpath
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from containers_tool.errors import InvalidInputError, PolicyDeniedError

SPOOL_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Packed:
    """A tar archive ready to stream, and what it holds."""

    file: IO[bytes]
    files: int
    size: int

    def chunks(self, size: int = 256 * 1024) -> Iterator[bytes]:
        """Streams the archive."""
        self.file.seek(0)
        while chunk := self.file.read(size):
            yield chunk


def pack(source: Path, arcname: str, uid: int | None, gid: int | None) -> Packed:
    """Packs a host file or directory as `arcname`, owned by uid:gid inside the archive.

    Symlinks are stored as links, never followed; memory use is bounded (spools to disk).
    """
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    files = total = 0

    def owned(info: tarfile.TarInfo) -> tarfile.TarInfo:
        nonlocal files, total
        if uid is not None:
            info.uid, info.uname = uid, ""
        if gid is not None:
            info.gid, info.gname = gid, ""
        if info.isfile():
            files += 1
            total += info.size
        return info

    with tarfile.open(fileobj=spool, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        tar.add(str(source), arcname=arcname, recursive=True, filter=owned)
    return Packed(spool, files, total)


class ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks (for streaming tar extraction)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._buf:
            nxt = next(self._chunks, None)
            if nxt is None:
                return 0
            self._buf = nxt
        n = min(len(buffer), len(self._buf))
        buffer[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def unpack(chunks: Iterator[bytes], destination: Path, into_dir: bool) -> tuple[int, int]:
    """Extracts a tar stream from the engine to the host, refusing anything unsafe.

    The archive's top-level item lands at `destination` (renamed), or inside it when `into_dir`.
    Extraction goes to a private directory first, so a refused archive leaves nothing behind.
    Ownership on the host is never changed (tarfile's "data" filter drops owners).

    Returns:
        Files and bytes extracted.

    Raises:
        PolicyDeniedError: A member would land outside the destination, or is a device.
        InvalidInputError: The destination's parent does not exist.
    """
    parent = destination if into_dir else destination.parent
    if not parent.is_dir():
        raise InvalidInputError(
            f"Host directory {str(parent)!r} does not exist.",
            hint="Create it first or pick an existing directory.",
            field="destination",
        )
    staging = Path(tempfile.mkdtemp(prefix=".containers-tool-", dir=parent))
    files = total = 0
    top: str | None = None
    try:
        with tarfile.open(fileobj=io.BufferedReader(ChunkReader(chunks)), mode="r|") as tar:
            for member in tar:
                try:
                    safe = tarfile.data_filter(member, str(staging))
                except tarfile.FilterError as exc:
                    raise PolicyDeniedError(
                        f"Archive member {member.name!r} was refused: {exc}.",
                        hint="Copy a path without links or entries that point outside it.",
                        field="source",
                    ) from exc
                parts = PurePosixPath(safe.name).parts
                top = top or parts[0]
                if parts[0] != top:
                    raise PolicyDeniedError(
                        f"Archive member {member.name!r} is outside the copied item.",
                        hint="Copy one file or directory at a time.",
                        field="source",
                    )
                _check_link(safe, top)
                tar.extract(safe, str(staging), filter="data")
                if safe.isfile():
                    files += 1
                    total += safe.size
        if top is None:
            raise InvalidInputError(
                "The archive was empty.", hint="Check the source path.", field="source"
            )
        _check_resolved_links(staging / top)
        target = destination / top if into_dir else destination
        _check_no_links_on_the_way(staging / top, target)
        _place(staging / top, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return files, total


def _link_refused(name: str, target: str) -> PolicyDeniedError:
    return PolicyDeniedError(
        f"Archive member {name!r} links to {target!r}, outside the copied item.",
        hint="Copy a path whose links stay inside it, or copy the link's target instead.",
        field="source",
    )


def _check_link(member: tarfile.TarInfo, top: str) -> None:
    """Refuses a link whose target leaves the copied item.

    tarfile's "data" filter only checks links against the staging directory, but the item is
    then moved to the destination, where `item/up -> ..` would point at the destination's
    parent. The copied item itself is what becomes the destination, so links must stay in it.
    """
    if member.issym():
        target = posixpath.join(posixpath.dirname(member.name), member.linkname)
    elif member.islnk():
        target = member.linkname  # hard links name a member of the archive
    else:
        return
    norm = posixpath.normpath(target)
    if posixpath.isabs(member.linkname) or (norm != top and not norm.startswith(top + "/")):
        raise _link_refused(member.name, member.linkname)


def _check_resolved_links(item: Path) -> None:
    """Refuses symlinks that leave `item` once resolved through the links beside them.

    A name-only check misses chains such as `item/self -> .` plus `item/x -> self/..`.
    """
    if item.is_symlink():  # a lone link: _check_link already refused one that leaves it
        return
    root = os.path.realpath(item)
    for path in item.rglob("*"):  # does not descend into linked directories
        # realpath, not Path.resolve: a link loop must be refused, not raise RuntimeError.
        if path.is_symlink() and not _inside(os.path.realpath(path), root):
            raise _link_refused(str(path.relative_to(item.parent)), str(path.readlink()))


def _check_no_links_on_the_way(staged: Path, target: Path) -> None:
    """Refuses a copy that would write through a symlink already at the destination.

    Copying into an existing directory follows the links it holds: `dest/sub -> /elsewhere`
    would put the archive's `sub/` files in /elsewhere.
    """
    for there in [target, *(target / p.relative_to(staged) for p in staged.rglob("*"))]:
        if there.is_symlink():
            raise PolicyDeniedError(
                f"Host path {str(there)[:200]!r} is a symlink; copying there would write "
                "through it.",
                hint="Copy to a new destination, or remove that link first.",
                field="destination",
            )


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _place(staged: Path, target: Path) -> None:
    if staged.is_dir() and target.is_dir():
        shutil.copytree(staged, target, dirs_exist_ok=True, symlinks=True)
    else:
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        staged.replace(target)
