"""The security policy of plain `create`, applied to every service of a compose file.

A compose file could otherwise ask the engine for everything `create` refuses: privileged mode,
extra capabilities, host namespaces, devices, the engine's socket. `check` refuses those before
`up`, with the same opt-in (`privileged=true` where the settings allow it) and the same socket
rule; `defaults` gives each service the limits and `no-new-privileges` every container gets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from containers_tool.errors import PolicyDeniedError
from containers_tool.policy.container import is_engine_socket

#: Keys that lift the container's confinement; allowed only with the privileged opt-in.
_ESCALATING = ("privileged", "cap_add", "devices", "device_cgroup_rules")
#: Namespace keys whose value `host` shares the host's namespace.
_HOST_NAMESPACES = ("pid", "ipc", "uts", "userns_mode", "cgroup", "network_mode")
#: security_opt entries ("key=value" or "key:value") that switch a confinement off.
_UNCONFINED = re.compile(
    r"^(?:(?:seccomp|apparmor|systempaths)[=:]unconfined|label[=:]disable|unmask[=:].*|"
    r"no-new-privileges[=:]false)$",
    re.IGNORECASE,
)
_OPT_IN = "pass privileged=true (an operator must also set allow_privileged: true in settings)"


def _bind_sources(body: Mapping[str, Any]) -> list[str]:
    """Returns the host paths a service's `volumes` bind, in short or long syntax."""
    found: list[str] = []
    for entry in body.get("volumes") or ():
        if isinstance(entry, str):
            source, sep, _ = entry.partition(":")
            if sep and source.startswith(("/", ".", "~")):  # else a named volume or anonymous
                found.append(source)
        elif isinstance(entry, Mapping) and entry.get("type", "volume") == "bind":
            found.append(str(entry.get("source", "")))
    return found


def _is_socket_path(source: str, project_dir: Path) -> bool:
    if not source or "$" in source:  # interpolated by compose from its environment: unknown
        return False
    path = Path(source).expanduser()
    if not path.is_absolute():
        path = project_dir / path
    return is_engine_socket(path.resolve())


def _denied(owner: str, key: str, what: str, hint: str, field: str) -> PolicyDeniedError:
    return PolicyDeniedError(
        f"Compose {owner} sets {key} ({what}), which the tool's policy refuses.",
        hint=hint,
        field=field,
    )


def check(
    doc: Mapping[str, Any],
    field: str,
    *,
    privileged: bool,
    allow_engine_socket: bool,
    project_dir: Path,
) -> None:
    """Refuses a compose file whose services ask for more than a plain `create` may.

    Args:
        doc: The parsed compose file (with a `services` mapping).
        field: "compose_content" or "compose_file", for the error.
        privileged: The caller asked for privileged mode and the settings allow it; this opts
            in to privileged, capabilities, devices, host namespaces and unconfined profiles.
        allow_engine_socket: The settings allow mounting the engine's socket.
        project_dir: What relative bind-mount sources are relative to.

    Raises:
        PolicyDeniedError: A service sets a refused key; the message names the service and key.
    """
    services: Mapping[str, Any] = doc.get("services") or {}
    for name, body in services.items():
        service = str(name)
        owner = f"service {service!r}"
        if not privileged:
            for key in _ESCALATING:
                value = body.get(key)
                if value:
                    raise _denied(
                        owner,
                        key,
                        f"{value!r}",
                        f"Remove {key} from {service!r}, or {_OPT_IN}.",
                        field,
                    )
            for key in _HOST_NAMESPACES:
                if str(body.get(key, "")).lower() == "host":
                    raise _denied(
                        owner,
                        key,
                        "host",
                        f"Remove {key}: host from {service!r}, or {_OPT_IN}.",
                        field,
                    )
            for opt in body.get("security_opt") or ():
                if _UNCONFINED.match(str(opt).strip()):
                    raise _denied(
                        owner,
                        "security_opt",
                        f"{opt!r}",
                        f"Remove {opt!r} from {service!r}'s security_opt, or {_OPT_IN}.",
                        field,
                    )
        if allow_engine_socket:
            continue
        for source in _bind_sources(body):
            if _is_socket_path(source, project_dir):
                raise _denied(
                    owner,
                    "volumes",
                    f"a bind of {source!r}, the engine's socket",
                    f"Remove that volume from {service!r}; an operator can set "
                    "allow_engine_socket: true in settings.",
                    field,
                )
    if allow_engine_socket:
        return
    # A local volume with `o: bind` is a bind mount by another name.
    for name, body in (doc.get("volumes") or {}).items():
        device = (
            ((body or {}).get("driver_opts") or {}).get("device")
            if isinstance(body, Mapping)
            else None
        )
        if device and _is_socket_path(str(device), project_dir):
            raise _denied(
                f"volume {str(name)!r}",
                "driver_opts.device",
                f"{device!r}, the engine's socket",
                f"Remove volume {str(name)!r}; an operator can set allow_engine_socket: true.",
                field,
            )


def defaults(body: Mapping[str, Any], memory_bytes: int, pids: int) -> dict[str, Any]:
    """Returns the override keys that give one service the tool's default limits.

    A service keeps the limits and security options it sets itself; the others get `mem_limit`,
    `pids_limit` and `security_opt: [no-new-privileges:true]`, which docker-compose (v1, files
    2.x, 3.x and unversioned) and podman-compose 1.6 both pass on to the engine.
    """
    limits = ((body.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    out: dict[str, Any] = {}
    if not body.get("mem_limit") and not limits.get("memory"):
        out["mem_limit"] = memory_bytes
    if not body.get("pids_limit") and not limits.get("pids"):
        out["pids_limit"] = pids
    if not body.get("security_opt"):
        out["security_opt"] = ["no-new-privileges:true"]
    return out
