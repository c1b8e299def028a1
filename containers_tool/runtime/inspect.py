"""Parses the engines' inspect and list JSON (Docker's and Podman's share these keys)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from containers_tool import labels as lb
from containers_tool.runtime.types import (
    ContainerInfo,
    ImageInfo,
    MountSpec,
    PathStat,
    PortBinding,
)

#: Go's os.FileMode bits, as both engines encode them in the archive stat header.
_MODE_DIR = 1 << 31
_MODE_SYMLINK = 1 << 27


def _timestamp(value: Any) -> str:
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds")
    text = str(value or "")
    return "" if text.startswith("0001-01-01") else text


def _ports(raw: Any) -> list[PortBinding]:
    bindings: list[PortBinding] = []
    for key, hosts in (raw or {}).items():
        port, _, proto = str(key).partition("/")
        bindings.extend(
            PortBinding(int(port), proto or "tcp", h.get("HostIp") or "", int(h["HostPort"]))
            for h in hosts or []
            if h.get("HostPort")
        )
    return bindings


def container_info(data: dict[str, Any]) -> ContainerInfo:
    """Builds a ContainerInfo from an engine's container inspect JSON."""
    config = data.get("Config") or {}
    state = data.get("State") or {}
    host = data.get("HostConfig") or {}
    net = data.get("NetworkSettings") or {}
    env = config.get("Env") or []
    return ContainerInfo(
        id=str(data.get("Id", "")),
        name=str(data.get("Name", "")).lstrip("/"),
        image=str(config.get("Image") or data.get("ImageName") or ""),
        state=str(state.get("Status", "unknown")),
        labels=dict(config.get("Labels") or {}),
        created=_timestamp(data.get("Created")),
        started_at=_timestamp(state.get("StartedAt")),
        exit_code=state.get("ExitCode") if state.get("Status") == "exited" else None,
        user=str((config.get("Labels") or {}).get(lb.EXEC_USER_LABEL) or config.get("User") or ""),
        workdir=lb.workdir(config.get("Labels") or {}, str(config.get("WorkingDir") or "")),
        ports=_ports(net.get("Ports")),
        mounts=[
            MountSpec(
                str(m.get("Source", "")), str(m.get("Destination", "")), not m.get("RW", True)
            )
            for m in data.get("Mounts") or []
        ],
        networks=sorted((net.get("Networks") or {}).keys()),
        memory_bytes=host.get("Memory") or None,
        nano_cpus=host.get("NanoCpus") or None,
        pids_limit=host.get("PidsLimit") or None,
        privileged=bool(host.get("Privileged")),
        env_names=[str(e).partition("=")[0] for e in env],
    )


def image_info(data: dict[str, Any]) -> ImageInfo:
    """An image inspect (both engines answer with these keys) as an ImageInfo."""
    config = data.get("Config") or {}
    env = dict(str(e).partition("=")[::2] for e in config.get("Env") or [])
    return ImageInfo(
        id=str(data.get("Id", "")),
        tags=list(data.get("RepoTags") or []),
        labels=dict(config.get("Labels") or data.get("Labels") or {}),
        env=env,
        size=int(data.get("Size") or 0),
        created=str(data.get("Created") or ""),
        workdir=str(config.get("WorkingDir") or ""),
    )


def summary_info(row: dict[str, Any]) -> ContainerInfo:
    """Builds a (partial) ContainerInfo from one row of an engine's container list."""
    names = row.get("Names") or [""]
    return ContainerInfo(
        id=str(row.get("Id", "")),
        name=str(names[0]).lstrip("/"),
        image=str(row.get("Image", "")),
        state=str(row.get("State", "unknown")),
        labels=dict(row.get("Labels") or {}),
        created=_timestamp(row.get("Created")),
        started_at=_timestamp(row.get("StartedAt")),
    )


def path_stat(header: str | None) -> tuple[PathStat, str] | None:
    """Decodes the `X-Docker-Container-Path-Stat` header of an archive HEAD/GET.

    Returns:
        The stat and, for a symlink the engine did not follow, its resolved target ("" if
        none); None when the header is missing or unreadable.
    """
    if not header:
        return None
    try:
        data = json.loads(base64.b64decode(header))
    except (binascii.Error, ValueError):
        return None
    mode = int(data.get("mode") or 0)
    is_dir = bool(data.get("isDir")) or bool(mode & _MODE_DIR)
    target = str(data.get("linkTarget") or "") if mode & _MODE_SYMLINK and not is_dir else ""
    link = bool(mode & _MODE_SYMLINK)
    stat = PathStat(str(data.get("name") or ""), is_dir, int(data.get("size") or 0), link)
    return stat, target
