"""The installed package, not the checkout: a built wheel carries the built-in purposes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.integration.conftest import DEBIAN, TEST_SESSION

pytestmark = pytest.mark.slow

# Runs inside the fresh venv, far from the checkout: only the installed wheel can answer.
SCRIPT = """
import json, sys
import containers_tool
from containers_tool import ContainersTool
from containers_tool.settings import Settings
engine, image, session = sys.argv[1:4]
settings = Settings(runtime=engine, purpose_images={"clean": image})
with ContainersTool(settings, session_id=session) as tool:
    unknown = tool.call("create", purpose="nonsense")
    made = tool.call("create", purpose="clean")
    probe = tool.call("exec", container=made.get("container", "?"), command="cat /etc/os-release")
print(json.dumps({"file": containers_tool.__file__, "unknown": unknown, "made": made,
                  "probe": probe}))
"""


@pytest.fixture(scope="module")
def wheel_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel built from this checkout installed (dependencies from PyPI)."""
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(root), str(REPO)],
        check=True,
    )
    (wheel,) = root.glob("containers_tool-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True)
    python = root / "venv" / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True)
    return python


def test_installed_wheel_creates_from_a_builtin_purpose(
    wheel_python: Path, engine: str, tmp_path: Path
) -> None:
    # No settings file and no purposes dir of the checkout's: a new user's environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTAINERS_TOOL_")}
    env |= {"XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path)}
    # Its own tenant: the default one's quota is shared by the test files running beside it.
    env["CONTAINERS_TOOL_TENANT"] = f"{TEST_SESSION}-wheel"
    session = f"{TEST_SESSION}-wheel-{engine}"
    out = subprocess.run(
        [str(wheel_python), "-c", SCRIPT, engine, DEBIAN, session],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert str(wheel_python.parent.parent) in result["file"]  # the wheel, not the checkout
    unknown = result["unknown"]
    assert unknown["error"]["field"] == "purpose"
    for name in ("python", "node", "rust", "go", "general", "clean", "try-repo", "amplifier"):
        assert name in unknown["error"]["hint"]
    made = result["made"]
    assert made["ok"], made
    assert made["purpose"] == "clean"
    assert result["probe"]["exit_code"] == 0
    assert "bookworm" in result["probe"]["stdout"]
