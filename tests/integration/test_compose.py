"""create with a compose stack on both engines, whichever compose implementation is installed."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.integration.conftest import DEBIAN, unique
from tests.integration.test_networks import fetch

pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parent.parent / "data"
STACK = (DATA / "compose-stack.yaml").read_text(encoding="utf-8")
PROJECT_LABEL = "com.docker.compose.project"  # compose's own label, whatever implementation


def _leftovers(raw, project):
    """Everything of the project the engine still holds, found by compose's own label."""
    label = f"{PROJECT_LABEL}={project}"
    found = [c.name for c in raw.containers.list(all=True, filters={"label": label})]
    found += [n.name for n in raw.networks.list(filters={"label": label})]
    found += [v.name for v in raw.volumes.list(filters={"label": label})]
    return found


def _temp_files(project):
    return list(Path(tempfile.gettempdir()).glob(f"containers-tool-compose-{project}-*"))


@pytest.fixture(autouse=True)
def _compose_available(tool):
    if tool.call("preflight").get("compose") is None:
        pytest.skip("no compose implementation installed")


def test_compose_stack_is_reachable_by_service_name_and_destroy_leaves_nothing(tool, raw):
    name = unique("stack")
    made = tool.call("create", name=name, image=DEBIAN, compose_content=STACK)
    assert made["ok"], made
    step = next(s for s in made["provisioning"] if s["step"] == "compose")
    project = step["project"]
    assert step["status"] == "success"
    assert {(s["service"], s["state"]) for s in step["services"]} == {
        ("web", "running"),
        ("worker", "running"),
    }
    assert _temp_files(project) == [], "the compose content is not left on disk"
    assert fetch(tool, name, "web", wait=10) == "web-ok"
    resolved = tool.call("exec", container=name, command=["getent", "hosts", "worker"])
    assert resolved["exit_code"] == 0, resolved
    status = tool.call("status", container=name)
    assert status["compose"]["project"] == project
    assert [s["service"] for s in status["compose"]["services"]] == ["web", "worker"]
    assert _leftovers(raw, project), "the stack is there before destroy"
    assert tool.call("destroy", container=name)["ok"]
    assert _leftovers(raw, project) == []


def test_compose_file_with_project_name(tool, raw, tmp_path):
    compose_file = tmp_path / "compose.yaml"
    compose_file.write_text(STACK, encoding="utf-8")
    project = unique("proj")
    made = tool.call(
        "create",
        name=unique("stackf"),
        image=DEBIAN,
        compose_file=str(compose_file),
        compose_project=project,
    )
    assert made["ok"], made
    containers = raw.containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={project}"})
    labels = containers[0].labels
    assert labels["io.containers-tool.attached-to"] == made["container"]
    assert labels["io.containers-tool.session"] == tool.session_id
    assert tool.call("destroy", container=made["container"])["ok"]
    assert _leftovers(raw, project) == []


def test_failed_compose_up_is_build_failed_and_leaves_nothing(tool, raw):
    name = unique("badstack")
    bad = STACK.replace("image: localhost/base/debian:12", "image: localhost/base/nope:0")
    result = tool.call("create", name=name, image=DEBIAN, compose_content=bad)
    assert (result["error"]["code"], result["error"]["field"]) == (
        "build_failed",
        "compose_content",
    )
    assert _leftovers(raw, name) == []
    assert _temp_files(name) == []
    assert raw.containers.list(all=True, filters={"name": name}) == []


def test_bad_compose_input_is_invalid_input(tool, tmp_path):
    for fields, field in [
        ({"compose_content": "services: [unclosed"}, "compose_content"),
        ({"compose_content": "services:\n  web: {command: true}\n"}, "compose_content"),
        ({"compose_content": STACK, "compose_file": str(tmp_path / "x.yaml")}, "compose_file"),
        ({"compose_file": str(tmp_path / "missing.yaml")}, "compose_file"),
    ]:
        result = tool.call("create", name=unique("inv"), image=DEBIAN, **fields)
        assert (result["error"]["code"], result["error"]["field"]) == ("invalid_input", field)
