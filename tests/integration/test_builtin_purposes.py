"""Every built-in purpose builds and passes its probe, on stand-ins of its base image.

The stand-ins (scripts/build-standins.sh, Debian packages on the local Debian base) are what
config/standin-purposes.yaml points the purposes at through purpose_images, as a user of a
mirror would; amplifier installs from a package source set through build_env.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
import yaml

from containers_tool import ContainersTool
from containers_tool.provision.purposes import BUILTIN_DIR
from containers_tool.settings import Settings
from tests.conftest import REPO
from tests.integration.conftest import TEST_SESSION, host_repo

pytestmark = pytest.mark.slow

CONFIG = yaml.safe_load((REPO / "config" / "standin-purposes.yaml").read_text(encoding="utf-8"))
BUILTINS = sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


@pytest.fixture(scope="module")
def standin_tool(engine: str) -> Iterator[ContainersTool]:
    # Built once per machine and engine (cached by tag, like the base images).
    subprocess.run(
        ["bash", str(REPO / "scripts" / "build-standins.sh")],
        env={"STANDIN_ENGINES": engine, "PATH": "/usr/local/bin:/usr/bin:/bin"},
        check=True,
    )
    settings = Settings(runtime=engine, **CONFIG)
    with ContainersTool(settings, session_id=f"{TEST_SESSION}-standin-{engine}") as tool:
        yield tool


def test_the_standin_config_covers_every_builtin_purpose():
    assert set(CONFIG["purpose_images"]) == set(BUILTINS)


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_purpose_builds_and_its_probe_passes_on_its_standin(standin_tool, name, tmp_path):
    extra: dict[str, object] = {}
    if name == "try-repo":
        host_repo(tmp_path / "r", {"go.mod": "module example.com/t\n\ngo 1.19\n"})
        extra = {
            "repo_url": "file:///src",
            "mounts": [{"source": str(tmp_path / "r"), "target": "/src", "read_only": True}],
        }
    made = standin_tool.call("create", purpose=name, **extra)
    assert made["ok"], made
    steps = {s["step"]: s for s in made["provisioning"]}
    assert steps["probe"]["status"] in ("success", "skipped"), steps  # skipped: cached image
    probe = yaml.safe_load((BUILTIN_DIR / f"{name}.yaml").read_text(encoding="utf-8"))["probe"]
    # The probe again, now as the mapped user the agent's execs run as.
    ran = standin_tool.call("exec", container=made["container"], command=probe)
    assert ran["exit_code"] == 0, ran
    if name == "try-repo":
        assert steps["try_repo"]["detail"].startswith("go"), steps["try_repo"]
    standin_tool.call("destroy", container=made["container"])


def test_amplifier_version_pins_the_install_and_the_bundle_is_registered(standin_tool):
    made = standin_tool.call(
        "create",
        purpose="amplifier",
        amplifier_version="0.0.1",
        amplifier_bundle="git+https://example.invalid/bundle",
    )
    assert made["ok"], made
    ran = standin_tool.call(
        "exec",
        container=made["container"],
        command="amplifier --version; cat ~/.amplifier-standin.log",
    )
    assert "amplifier stand-in 0.0.1" in ran["stdout"]
    assert "bundle add git+https://example.invalid/bundle --name ct-bundle" in ran["stdout"]
    assert "bundle use ct-bundle" in ran["stdout"]
    latest = standin_tool.call("create", purpose="amplifier")
    assert latest["image"] != made["image"]  # the pin is part of the cache key
    newest = standin_tool.call("exec", container=latest["container"], command="amplifier --version")
    assert "amplifier stand-in 0.0.2" in newest["stdout"]
    for box in (made, latest):
        standin_tool.call("destroy", container=box["container"])
