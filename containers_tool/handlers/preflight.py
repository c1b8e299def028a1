"""preflight: is an engine reachable and usable, and what to do if not."""

from __future__ import annotations

from containers_tool.context import Context
from containers_tool.errors import ToolError
from containers_tool.models.preflight import PreflightInput
from containers_tool.registry import operation
from containers_tool.runtime.compose import CANDIDATES as COMPOSE_CANDIDATES
from containers_tool.runtime.compose import detect as detect_compose


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


@operation("preflight", PreflightInput)
def preflight(args: PreflightInput, ctx: Context) -> dict[str, object]:
    """Checks the engine, its version and the default image; never fails, reports `ready`."""
    checks: list[dict[str, object]] = []
    try:
        info = ctx.runtime.info()
    except ToolError as exc:
        checks.append(_check("engine", False, exc.message, exc.hint))
        return {"ready": False, "runtime": None, "version": None, "checks": checks}
    checks.append(_check("engine", True, f"{info.name} {info.version} at {info.endpoint}"))
    image = ctx.settings.resolve_image(ctx.settings.default_image)
    present = ctx.runtime.image_exists(image)
    checks.append(
        _check(
            "default_image",
            present or ctx.settings.pull == "missing",
            f"{image} is {'present' if present else 'not present; create will pull it'}",
            f"Make {image} available or set default_image / image_overrides in settings.",
        )
    )
    checks.append(
        _check(
            "rootless",
            True,
            "rootless engine"
            if info.rootless
            else "rootful engine; containers are still unprivileged and limited by default",
        )
    )
    # Optional features, so they never block `ready`.
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
    iso = ctx.runtime.network_isolation()
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
        "session_id": ctx.session_id,
        "compose": compose.description if compose else None,
        "checks": checks,
    }
