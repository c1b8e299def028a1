"""preflight: is an engine reachable and usable, and what to do if not."""

from __future__ import annotations

from containers_tool.context import Context
from containers_tool.core import preflight as checks
from containers_tool.models.preflight import PreflightInput
from containers_tool.registry import operation


@operation("preflight", PreflightInput)
def preflight(args: PreflightInput, ctx: Context) -> dict[str, object]:
    """Checks the engine, this user's access, disk space and images; never fails, says `ready`."""
    return checks.report(ctx)
