"""The security policy of plain `create`, applied to every service of a resolved compose file.

A compose file could otherwise ask the engine for everything `create` refuses: privileged mode,
extra capabilities, host namespaces, devices, unconfined profiles, host paths, unlimited
resources. `check` judges the *resolved* document (core.compose_resolve: interpolation,
extends and env_file applied), and the policy is closed: a service key it does not know is
refused rather than passed on. The privileged opt-in (`privileged=true` where the settings
allow it) lifts the confinement rules; host paths follow policy.host_paths whatever the opt-in.
`defaults` gives each service the limits and `no-new-privileges` every container gets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from containers_tool.errors import PolicyDeniedError
from containers_tool.policy.host_paths import HostPaths, shown
from containers_tool.sizes import parse_size

#: Service keys that only configure the container within its own confinement.
_PLAIN = frozenset(
    [
        "image",
        "build",
        "command",
        "entrypoint",
        "environment",
        "labels",
        "annotations",
        "ports",
        "expose",
        "networks",
        "depends_on",
        "healthcheck",
        "working_dir",
        "user",
        "restart",
        "hostname",
        "domainname",
        "container_name",
        "stop_signal",
        "stop_grace_period",
        "tmpfs",
        "init",
        "read_only",
        "mem_reservation",
        "mem_swappiness",
        "cpus",
        "cpu_shares",
        "cpu_quota",
        "cpu_period",
        "cpuset",
        "cpu_count",
        "cpu_percent",
        "ulimits",
        "shm_size",
        "extra_hosts",
        "dns",
        "dns_search",
        "dns_opt",
        "tty",
        "stdin_open",
        "secrets",
        "configs",
        "cap_drop",
        "links",
        "platform",
        "pull_policy",
        "sysctls",
        "group_add",
        "mac_address",
        "scale",
        "attach",
        "blkio_config",
        "storage_opt",
        "profiles",
    ]
)
#: Keys checked one by one below.
_CHECKED = frozenset(
    [
        "privileged",
        "cap_add",
        "devices",
        "device_cgroup_rules",
        "pid",
        "ipc",
        "uts",
        "userns_mode",
        "cgroup",
        "network_mode",
        "security_opt",
        "volumes",
        "volumes_from",
        "mem_limit",
        "memswap_limit",
        "pids_limit",
        "oom_kill_disable",
        "oom_score_adj",
        "deploy",
        "logging",
    ]
)
#: Keys that lift the container's confinement; allowed only with the privileged opt-in.
_ESCALATING = ("privileged", "cap_add", "devices", "device_cgroup_rules")
#: Namespace keys and the values that keep the namespace the container's own (or the stack's).
_NAMESPACES = {
    "pid": {"", "private"},
    "ipc": {"", "private", "shareable", "none"},
    "uts": {"", "private"},
    "cgroup": {"", "private"},
    "userns_mode": {"", "auto", "keep-id", "nomap"},
    "network_mode": {"", "bridge", "none", "default"},
}
_SAFE_SECURITY_OPT = re.compile(r"^no-new-privileges(?:[=:]true)?$", re.IGNORECASE)
_LOG_DRIVERS = {"json-file", "local", "none", "journald", "k8s-file"}
_BUILD_KEYS = {"context", "dockerfile", "args", "target", "labels", "cache_from", "shm_size"}
_OPT_IN = "pass privileged=true (an operator must also set allow_privileged: true in settings)"


@dataclass(frozen=True, slots=True)
class Limits:
    """What the policy allows: the privileged opt-in, host paths, the memory ceiling."""

    privileged: bool
    paths: HostPaths
    max_memory: int


def _denied(field: str, owner: str, key: str, what: str, hint: str) -> PolicyDeniedError:
    return PolicyDeniedError(
        f"Compose {owner} sets {key} ({shown(what)}), which the tool's policy refuses.",
        hint=hint,
        field=field,
    )


def bind_sources(body: Mapping[str, Any]) -> list[str]:
    """Returns the host paths a resolved service's `volumes` bind, in short or long syntax."""
    found: list[str] = []
    for entry in body.get("volumes") or ():
        if isinstance(entry, str):
            source, sep, _ = entry.partition(":")
            if sep and source.startswith(("/", ".", "~")):  # else a named volume or anonymous
                found.append(source)
        elif isinstance(entry, Mapping) and entry.get("type", "volume") == "bind":
            found.append(str(entry.get("source", "")))
    return found


def check(doc: Mapping[str, Any], field: str, limits: Limits) -> None:
    """Refuses a resolved compose file whose services ask for more than a plain `create` may.

    Args:
        doc: The resolved compose document (core.compose_resolve).
        field: "compose_content" or "compose_file", for the error.
        limits: The opt-in, the host-path policy and the memory ceiling.

    Raises:
        PolicyDeniedError: A service, volume, network, secret or config sets a refused key;
            the message names which and the key.
    """
    services: Mapping[str, Any] = doc.get("services") or {}
    for name, body in services.items():
        _service(str(name), body, set(map(str, services)), field, limits)
    for name, body in (doc.get("volumes") or {}).items():
        _volume(str(name), body or {}, field, limits)
    for name, body in (doc.get("networks") or {}).items():
        body = body or {}
        owner = f"network {str(name)!r}"
        if body.get("external"):
            raise _denied(field, owner, "external", "a network outside the stack", "Remove it.")
        if body.get("driver", "bridge") != "bridge":
            raise _denied(field, owner, "driver", str(body["driver"]), "Use the bridge driver.")
    for kind in ("secrets", "configs"):
        for name, body in (doc.get(kind) or {}).items():
            if isinstance(body, Mapping) and body.get("file"):
                _path(field, f"{kind[:-1]} {str(name)!r}", "file", str(body["file"]), limits)


def _path(field: str, owner: str, key: str, path: str, limits: Limits) -> None:
    try:
        limits.paths.check(path, field, what=f"{key} of {owner}")
    except PolicyDeniedError as exc:
        raise PolicyDeniedError(
            f"Compose {owner} sets {key} to a host path the policy refuses: {exc.message}",
            hint=exc.hint,
            field=field,
        ) from None


def _service(
    name: str, body: Mapping[str, Any], stack: set[str], field: str, limits: Limits
) -> None:
    owner = f"service {name!r}"
    for key in body:
        if key not in _PLAIN and key not in _CHECKED:
            raise _denied(
                field, owner, str(key), "a key the policy does not know", f"Remove {key}."
            )
    if not limits.privileged:
        _confinement(name, body, field)
    for source in bind_sources(body):
        _path(field, owner, "volumes", source, limits)
    build = body.get("build")
    if build is not None:
        context = build if isinstance(build, str) else str(build.get("context", ""))
        extra = sorted(set(build) - _BUILD_KEYS) if isinstance(build, Mapping) else []
        if extra:
            raise _denied(
                field,
                owner,
                f"build.{extra[0]}",
                "a build key the policy does not know",
                "Remove it.",
            )
        _path(field, owner, "build", context, limits)
    for entry in body.get("volumes_from") or ():
        if str(entry).split(":")[0] not in stack:
            raise _denied(
                field,
                owner,
                "volumes_from",
                str(entry),
                "Share volumes of the stack's own services only.",
            )
    _resources(owner, body, field, limits)
    log = body.get("logging") or {}
    if isinstance(log, Mapping) and log.get("driver", "json-file") not in _LOG_DRIVERS:
        raise _denied(
            field,
            owner,
            "logging.driver",
            str(log.get("driver")),
            f"Use one of {sorted(_LOG_DRIVERS)}.",
        )


def _confinement(name: str, body: Mapping[str, Any], field: str) -> None:
    owner = f"service {name!r}"
    for key in _ESCALATING:
        if body.get(key):
            raise _denied(
                field, owner, key, repr(body[key]), f"Remove {key} from {name!r}, or {_OPT_IN}."
            )
    for key, allowed in _NAMESPACES.items():
        value = str(body.get(key, "") or "").strip()
        if value.lower() not in allowed and not value.startswith("service:"):
            what = "host" if value.lower() == "host" else value
            hint = f"Remove {key}: {shown(value, 60)} from {name!r}"
            if value.startswith("container:"):
                # Another container's namespace: one this caller may not own.
                raise _denied(
                    field,
                    owner,
                    key,
                    f"{value}, a container outside the stack",
                    f"{hint}; use service:<name> for one of the stack's services, or {_OPT_IN}.",
                )
            raise _denied(field, owner, key, what, f"{hint}, or {_OPT_IN}.")
    for opt in body.get("security_opt") or ():
        if not _SAFE_SECURITY_OPT.match(str(opt).strip()):
            raise _denied(
                field,
                owner,
                "security_opt",
                repr(opt),
                f"Remove {shown(str(opt), 60)!r} from {name!r}'s security_opt (only "
                f"no-new-privileges is allowed), or {_OPT_IN}.",
            )
    reservations = ((body.get("deploy") or {}).get("resources") or {}).get("reservations") or {}
    if reservations.get("devices"):
        raise _denied(
            field,
            owner,
            "deploy.resources.reservations.devices",
            "devices",
            f"Remove them, or {_OPT_IN}.",
        )


def _resources(owner: str, body: Mapping[str, Any], field: str, limits: Limits) -> None:
    resources = (body.get("deploy") or {}).get("resources") or {}
    ceiling = limits.max_memory
    for key, value in (
        ("mem_limit", body.get("mem_limit")),
        ("deploy.resources.limits.memory", (resources.get("limits") or {}).get("memory")),
        ("memswap_limit", body.get("memswap_limit")),
    ):
        if value is None:
            continue
        try:
            size = parse_size(str(value))
        except ValueError:
            size = -1
        if size < 0 or size > (2 * ceiling if key == "memswap_limit" else ceiling):
            raise _denied(
                field,
                owner,
                key,
                str(value),
                f"Ask for at most {ceiling} bytes (allowed_memory_tiers).",
            )
    for key, value in (
        ("pids_limit", body.get("pids_limit")),
        ("deploy.resources.limits.pids", (resources.get("limits") or {}).get("pids")),
    ):
        if value is not None and (not str(value).isdigit() or int(str(value)) < 1):
            raise _denied(
                field,
                owner,
                key,
                str(value),
                "Give a positive pids limit, or leave it out for the default.",
            )
    if body.get("oom_kill_disable"):
        raise _denied(
            field,
            owner,
            "oom_kill_disable",
            "true",
            "Remove it: a container over its memory limit must be killable.",
        )
    score = body.get("oom_score_adj")
    if score is not None and (not str(score).lstrip("-").isdigit() or int(str(score)) < 0):
        raise _denied(
            field,
            owner,
            "oom_score_adj",
            str(score),
            "Use 0 or more: a negative score shields it from the OOM killer.",
        )


def _volume(name: str, body: Mapping[str, Any], field: str, limits: Limits) -> None:
    owner = f"volume {name!r}"
    if body.get("external"):
        raise _denied(
            field,
            owner,
            "external",
            "a volume outside the stack",
            "Remove it; use the stack's own volumes.",
        )
    if body.get("driver", "local") != "local":
        raise _denied(field, owner, "driver", str(body["driver"]), "Use the local driver.")
    opts = body.get("driver_opts") or {}
    if not opts:
        return
    # A local volume with `o: bind` is a bind mount by another name; other options (nfs, cifs)
    # would make the engine's host mount what the caller names.
    if "bind" not in str(opts.get("o", "")).split(",") or not str(
        opts.get("device", "")
    ).startswith("/"):
        raise _denied(
            field,
            owner,
            "driver_opts",
            str(dict(opts)),
            "Use a plain named volume, or a bind mount.",
        )
    _path(field, owner, "driver_opts.device", str(opts["device"]), limits)


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
