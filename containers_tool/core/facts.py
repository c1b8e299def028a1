"""Engine facts kept on disk between processes, for engines on this machine.

A process's first create needs the engine's CPU count and memory (limits) and its storage
root (the disk check), and Podman's /info takes ~300 ms to say them: every CLI create would pay
that. They change only when the engine restarts (a new socket: another inode or change time)
or the machine reboots (another boot id), so a local engine's last answer is kept until then.
Engines reached over TCP or SSH have no such identity here, and are always asked.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path

from containers_tool.core.owner import boot_id
from containers_tool.runtime.types import EngineInfo

FILE = "engine-facts.json"
_FIELDS = {f.name for f in dataclasses.fields(EngineInfo)}


def identity(endpoint: str) -> str | None:
    """What changes when a local engine restarts or the machine reboots; None if not local."""
    if not endpoint.startswith("unix://"):
        return None
    try:
        st = Path(endpoint.removeprefix("unix://")).stat()
    except OSError:
        return None
    return f"{boot_id()} {st.st_ino} {st.st_ctime_ns}"


def load(directory: Path, key: str, endpoint: str) -> EngineInfo | None:
    """The facts saved for `key` while the engine at `endpoint` has not restarted, else None."""
    ident = identity(endpoint)
    if ident is None:
        return None
    try:
        entry = json.loads((directory / FILE).read_text(encoding="utf-8")).get(key) or {}
        info = entry.get("info") if entry.get("identity") == ident else None
        if not isinstance(info, dict) or set(info) != _FIELDS:
            return None  # another version of the tool wrote other fields
        return EngineInfo(**info)
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def save(directory: Path, key: str, info: EngineInfo) -> None:
    """Keeps `info` for `key` (a local engine only); never raises: it is only a cache."""
    ident = identity(info.endpoint)
    if ident is None:
        return
    path = directory / FILE
    try:
        try:
            known = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            known = {}
        if not isinstance(known, dict):
            known = {}
        known[key] = {"identity": ident, "info": dataclasses.asdict(info)}
        directory.mkdir(parents=True, exist_ok=True)
        # Written whole then renamed: a process reading meanwhile sees the old file or the new.
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".engine-facts-")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(known, out)
        Path(tmp).replace(path)
    except OSError:
        return
