"""Input model of preflight."""

from __future__ import annotations

from containers_tool.models.common import Input


class PreflightInput(Input):
    """Checks that an engine is reachable and usable; call first, or after runtime_unavailable."""
