"""Suite-wide rules: markers, local base images, and CI's fail-not-skip rule for engines."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Tests point default images at locally imported bases through the same documented settings file
# that users of mirrors and air-gapped machines use (see config/local-bases.yaml).
os.environ.setdefault("CONTAINERS_TOOL_CONFIG", str(REPO / "config" / "local-bases.yaml"))
# Every helper's run shares the engines' default tenant: its quota must not be what fails a test
# (the quota tests use their own tenants with small limits).
os.environ.setdefault("CONTAINERS_TOOL_MAX_CONTAINERS_PER_TENANT", "10000")
# The suite's own purposes (t-cache, t-pip) live in its config dir, as a user's would.
os.environ.setdefault("CONTAINERS_TOOL_PURPOSES_DIR", str(REPO / "tests" / "data" / "purposes"))
# Activity records (idle expiry) in a temporary directory every process of the run shares, so
# that the suite's subprocesses (CLI, MCP server) see the activity of the suite's own containers.
os.environ.setdefault(
    "CONTAINERS_TOOL_STATE_DIR", str(Path(tempfile.gettempdir()) / "containers-tool-test-state")
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.path) or "/runtime/" in str(item.path):
            item.add_marker(pytest.mark.integration)
