"""Preflight checks: is an engine installed, running, usable by this user, with room and images.

`report` is the preflight operation; `gate` runs it once per process and engine endpoint before
the first create, so a machine that cannot work fails with the check's own fix, not later with
an engine error half-way through a create.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import cast

from containers_tool.context import Context
from containers_tool.errors import QuotaExceededError, RuntimeUnavailableError, ToolError
from containers_tool.runtime.capabilities import Images, Networks, capabilities_of
from containers_tool.runtime.compose import CANDIDATES as COMPOSE_CANDIDATES
from containers_tool.runtime.compose import detect as detect_compose
from containers_tool.runtime.discovery import INSTALL_HINT, docker_sockets, podman_sockets
from containers_tool.runtime.types import EngineInfo

#: Below this much free space where the engine stores images, builds and pulls start failing.
MIN_FREE_BYTES = 2 * 2**30
_GIB = 2**30
PERMISSION_FIX = (
    "Docker: `sudo usermod -aG docker $USER`, then log in again (or use rootless Docker). "
    "Podman: use your own socket, `systemctl --user enable --now podman.socket` and "
    "CONTAINER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock."
)
START_FIX = (
    "Start the engine: `sudo systemctl start docker` (or dockerd), or "
    "`systemctl --user start podman.socket` / `podman system service --time=0 &`; on Debian "
    "as root scripts/provision-engines.sh does it."
)

_passed: set[str] = set()
_lock = threading.Lock()


def _check(
    name: str, passed: bool, detail: str, fix: str = "", required: bool = True
) -> dict[str, object]:
    """One row of preflight; a failed check that is not `required` leaves `ready` true."""
    return {
        "name": name,
        "passed": passed,
        "required": required,
        "detail": detail,
        "fix": "" if passed else fix,
    }


def _engines(ctx: Context) -> list[str]:
    return ["docker", "podman"] if ctx.settings.runtime == "auto" else [ctx.settings.runtime]


def _sockets(ctx: Context) -> list[Path]:
    found: list[str] = []
    for engine in _engines(ctx):
        explicit = ctx.settings.docker_host if engine == "docker" else ctx.settings.podman_host
        explicit = explicit or os.environ.get(
            "DOCKER_HOST" if engine == "docker" else "CONTAINER_HOST"
        )
        if explicit:
            found += [explicit.removeprefix("unix://")] if explicit.startswith("unix://") else []
        else:
            found += docker_sockets() if engine == "docker" else podman_sockets()
    return [Path(p) for p in dict.fromkeys(found) if Path(p).exists()]


def _host_checks(
    ctx: Context, info: EngineInfo | None, err: ToolError | None
) -> list[dict[str, object]]:
    """runtime_installed, daemon_running and user_permissions, from the host's point of view."""
    engines = _engines(ctx)
    clis = {e: shutil.which(e) for e in engines}
    sockets = _sockets(ctx)
    remote = any(
        (h or "").startswith(("tcp://", "ssh://", "http"))
        for h in (
            ctx.settings.docker_host,
            ctx.settings.podman_host,
            os.environ.get("DOCKER_HOST"),
            os.environ.get("CONTAINER_HOST"),
        )
    )
    seen = [f"{e} CLI at {p}" for e, p in clis.items() if p] + [f"socket {s}" for s in sockets]
    installed = bool(seen) or remote or info is not None
    rows = [
        _check(
            "runtime_installed",
            installed,
            ", ".join(seen) or ("a remote engine endpoint" if remote else "no engine found"),
            INSTALL_HINT,
        )
    ]
    blocked = [s for s in sockets if not os.access(s, os.R_OK | os.W_OK)]
    if info is not None:
        rows.append(_check("daemon_running", True, f"{info.name} answers at {info.endpoint}"))
        rows.append(_check("user_permissions", True, f"uid {os.geteuid()} may use {info.endpoint}"))
        return rows
    detail = err.message if err is not None else "no engine answers"
    if blocked:
        detail = "cannot tell: this user may not open the engine's socket (user_permissions)"
    rows.append(_check("daemon_running", bool(blocked), detail, START_FIX))
    rows.append(
        _check(
            "user_permissions",
            not blocked,
            f"uid {os.geteuid()} may not use {', '.join(map(str, blocked))}"
            if blocked
            else "no engine socket to check",
            PERMISSION_FIX,
        )
    )
    return rows


def _image_check(ctx: Context) -> dict[str, object]:
    image = ctx.settings.resolve_image(ctx.settings.default_image)
    fix = f"Make {image} available (load it, or a mirror), or set default_image / image_overrides."
    images = ctx.capability(Images)
    if images is None:
        return _check("default_image", True, f"{image}: the backend fetches images itself")
    if images.image_exists(image):
        return _check("default_image", True, f"{image} is present")
    if ctx.settings.pull == "never":
        return _check("default_image", False, f"{image} is absent and pull is never", fix)
    reason = images.pull_check(image)
    if reason is None:
        detail = f"{image} is absent; its registry answers, so create pulls it"
        return _check("default_image", True, detail)
    return _check("default_image", False, f"{image} is absent and cannot be pulled: {reason}", fix)


def _disk_check(info: EngineInfo) -> dict[str, object]:
    root = info.storage_root
    local = info.endpoint.startswith("unix://") and root and Path(root).is_dir()
    if not local:
        where = root or "the engine's storage"
        detail = f"{where} is not on this host; not measured"
        return _check("disk_space", True, detail, required=False)
    free = shutil.disk_usage(root).free
    return _check(
        "disk_space",
        free >= MIN_FREE_BYTES,
        f"{free / _GIB:.1f} GiB free in {root} (images, containers, builds)",
        f"Free at least {MIN_FREE_BYTES // _GIB} GiB there: call cache_clear for cached purpose "
        f"images, `{info.name} image prune` / `{info.name} system df` for the rest.",
    )


def report(ctx: Context, *, full: bool = True) -> dict[str, object]:
    """Runs the checks; never raises. `ready` is true when every required check passed.

    Args:
        ctx: The tool's context.
        full: False for create's gate: only what every create needs (no registry round trip
            for default_image, no compose probe, no network isolation probe).
    """
    try:
        # create's gate shares the context's engine facts, so a process's first create asks
        # the engine once (Podman's /info takes ~300 ms); preflight itself asks afresh.
        info: EngineInfo | None = ctx.runtime.info() if full else ctx.engine_info()
        err: ToolError | None = None
    except ToolError as exc:
        info, err = None, exc
    checks = _host_checks(ctx, info, err)
    if info is None:
        checks.append(_check("engine", False, err.message if err else "", err.hint if err else ""))
        return {"ready": False, "runtime": None, "version": None, "checks": checks}
    checks.append(_check("engine", True, f"{info.name} {info.version} at {info.endpoint}"))
    if full:
        checks.append(_image_check(ctx))
    checks.append(_disk_check(info))
    checks.append(
        _check(
            "rootless",
            True,
            "rootless engine"
            if info.rootless
            else "rootful engine; containers are still unprivileged and limited by default",
        )
    )
    if not full:
        return {"ready": all(bool(c["passed"]) for c in checks if c["required"]), "checks": checks}
    compose = detect_compose(info.name, info.endpoint)
    checks.append(
        _check(
            "compose",
            compose is not None,
            f"create(compose_*) runs {compose.description} for {info.name}; "
            "compose_project names the stack"
            if compose
            else "none found: compose_content/compose_file are unavailable",
            "Install one of (in the order tried): "
            + ", ".join(c.label for c in COMPOSE_CANDIDATES.get(info.name, ())),
            required=False,
        )
    )
    if networks := ctx.capability(Networks):
        iso = networks.network_isolation()
        checks.append(
            _check(
                "network_isolation",
                not iso.gap,
                iso.gap
                or "session networks and the tool's other networks are isolated from each other "
                "and from the engine's default network; internal networks reach neither the "
                "outside nor the host",
                iso.fix,
                required=False,
            )
        )
    ready = all(bool(c["passed"]) for c in checks if c["required"])
    return {
        "ready": ready,
        "runtime": info.name,
        "version": info.version,
        "api_version": info.api_version,
        "endpoint": info.endpoint,
        "remote": ctx.runtime.remote,
        "capabilities": capabilities_of(ctx.runtime),
        "session_id": ctx.session_id,
        "compose": compose.description if compose else None,
        "checks": checks,
    }


def gate(ctx: Context) -> None:
    """Before a create: runs preflight once per process and engine, failing as its first failure.

    The default_image check binds only creates that use the default image, so it is left out
    here (create reports a missing image of its own), as are the optional checks.

    Raises:
        RuntimeUnavailableError: A required check failed (its detail and fix are the error's).
    """
    key = f"{ctx.settings.runtime}|{ctx.settings.docker_host}|{ctx.settings.podman_host}"
    with _lock:
        if key in _passed:
            return
    result = report(ctx, full=False)
    checks = cast(list[dict[str, object]], result["checks"])
    failed = [c for c in checks if c["required"] and not c["passed"]]
    if not failed:
        with _lock:
            _passed.add(key)
        return
    first = failed[0]
    error = QuotaExceededError if first["name"] == "disk_space" else RuntimeUnavailableError
    raise error(
        f"Preflight check {first['name']!r} failed before create: {first['detail']}",
        hint=str(first["fix"]) or "Call preflight for every check and its fix.",
        field=None,
    )
