"""create with a compose stack on both engines, whichever compose implementation is installed."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from containers_tool import ContainersTool
from containers_tool.runtime.compose import CANDIDATES
from containers_tool.settings import Settings
from tests.integration.conftest import BUSYBOX, DEBIAN, TEST_SESSION, unique, wait_until
from tests.integration.test_networks import fetch

pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parent.parent / "data"
STACK = (DATA / "compose-stack.yaml").read_text(encoding="utf-8")
DEPENDS = (DATA / "compose-depends.yaml").read_text(encoding="utf-8")
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
def _compose_available(tool, engine):
    if tool.call("preflight").get("compose") is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"no compose implementation for {engine} under CI=true; see preflight")
        pytest.skip("no compose implementation installed")


def test_preflight_names_the_compose_implementation_it_uses(tool, engine):
    result = tool.call("preflight")
    check = next(c for c in result["checks"] if c["name"] == "compose")
    assert check["passed"], check
    labels = {c.label for c in CANDIDATES[engine]}
    named = next(label for label in labels if result["compose"].startswith(label + " "))
    assert named in check["detail"]
    assert result["compose"][len(named) + 1 :][:1].isdigit(), "the version follows the name"
    if os.environ.get("CI") == "true":
        # CI installs each engine's own: docker-compose (v1) or v2 for Docker, podman-compose.
        assert named.startswith(engine), result["compose"]


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


def test_stack_with_depends_on_is_torn_down_completely(tool, raw):
    name = unique("deps")
    made = tool.call("create", name=name, image=BUSYBOX, compose_content=DEPENDS)
    assert made["ok"], made
    project = next(s for s in made["provisioning"] if s["step"] == "compose")["project"]
    assert sorted(s["service"] for s in tool.call("status", container=name)["compose"]["services"])
    assert len(_leftovers(raw, project)) >= 4, "three services, a network and a volume"
    gone = tool.call("destroy", container=name)
    assert gone["ok"], gone
    assert _leftovers(raw, project) == []
    assert raw.containers.list(all=True, filters={"name": name}) == []


@pytest.mark.parametrize(
    "broken",
    [
        "edge",  # db and app come up (app requires db): the cleanup removes app before db
        "db",  # what the others need is missing: podman-compose would wait for it forever
    ],
)
def test_failed_up_of_a_stack_with_depends_on_reports_compose_error_and_leaves_nothing(
    tool, raw, broken
):
    name = unique("badeps")
    service = f"  {broken}:\n    image: localhost/base/busybox:latest"
    bad = DEPENDS.replace(service, f"  {broken}:\n    image: localhost/base/nope:0")
    assert bad != DEPENDS
    result = tool.call("create", name=name, image=BUSYBOX, compose_content=bad)
    assert (result["error"]["code"], result["error"]["field"]) == (
        "build_failed",
        "compose_content",
    ), result
    assert "compose up failed" in result["error"]["message"], "compose's error, not the cleanup's"
    assert "nothing of the stack was left behind" in result["error"]["hint"]
    assert _leftovers(raw, name) == []
    assert raw.containers.list(all=True, filters={"name": name}) == []


def _foreign(engine, network):
    """A container the tool did not make, holding a stack network (as a user's own might)."""
    name = unique("foreign")
    argv = [engine, "run", "-d", "--name", name, "--network", network, BUSYBOX, "sleep", "600"]
    subprocess.run(argv, check=True, capture_output=True)
    return name


def test_stack_leftovers_are_reported_and_found_later_by_destroy_all(engine, raw):
    session = f"{TEST_SESSION}-{engine}-{unique('orph')}"
    with ContainersTool(Settings(runtime=engine), session_id=session) as tool:
        name, other = unique("orph"), unique("plain")
        made = tool.call("create", name=name, image=BUSYBOX, compose_content=DEPENDS)
        assert made["ok"], made
        project = next(s for s in made["provisioning"] if s["step"] == "compose")["project"]
        assert tool.call("create", name=other, image=BUSYBOX)["ok"]
        (network,) = raw.networks.list(filters={"label": f"{PROJECT_LABEL}={project}"})
        holder = _foreign(engine, network.name)
        try:
            failed = tool.call("destroy", container=name)
            assert failed["error"]["code"] in ("conflict", "engine_error"), failed
            assert network.name in failed["error"]["message"]
            assert _leftovers(raw, project) == [network.name], "only the held network is left"
            removed = tool.close()
            assert removed == [other], "closing the session still removed the others"
        finally:
            subprocess.run([engine, "rm", "-f", holder], check=True, capture_output=True)
    with ContainersTool(Settings(runtime=engine), session_id=session) as again:
        swept = again.call("destroy_all", confirm=True, session_id=session)
        assert swept["ok"], swept
        assert swept["orphans_removed"] == [name]
    assert _leftovers(raw, project) == []


@pytest.mark.serial
def test_compose_primary_and_services_cannot_reach_another_sessions_network(engine, tool, raw):
    other = ContainersTool(Settings(runtime=engine), session_id=f"{TEST_SESSION}-{unique('iso')}")
    try:
        target = other.call("create", image=BUSYBOX, name=unique("tgt"), session_network=True)
        assert target["ok"], target
        served = other.call(
            "exec",
            container=target["container"],
            command="mkdir -p /tmp/w && echo secret > /tmp/w/index.html && httpd -p 8080 -h /tmp/w",
        )
        assert served["exit_code"] == 0, served
        addresses = other.context.runtime.container_addresses(target["container"])
        target_ip = addresses[f"ct-session-{other.session_id}"]
        name = unique("isostack")
        made = tool.call("create", name=name, image=DEBIAN, compose_content=STACK)
        assert made["ok"], made
        # aardvark-dns (Podman) reloads while networks come up and may miss a query: retry.
        assert wait_until(lambda: fetch(tool, name, "web", wait=10) == "web-ok", timeout=40)
        assert fetch(tool, name, target_ip) is None, "the primary does not reach session A"
        worker = next(
            c.name for c in raw.containers.list(filters={"name": f"{name}"}) if "worker" in c.name
        )
        reached = raw.containers.get(worker).exec_run(
            ["timeout", "3", "bash", "-c", f"exec 3<>/dev/tcp/{target_ip}/8080"]
        )
        assert reached[0] != 0, "nor does a service of the stack"
        assert tool.call("destroy", container=name)["ok"]
    finally:
        other.close()


def test_relative_paths_in_compose_content_resolve_against_the_callers_directory(
    tool, raw, tmp_path, monkeypatch
):
    (tmp_path / "app.env").write_text("GREETING=from-env-file\n", encoding="utf-8")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "hello.txt").write_text("from-bind-mount\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    content = (
        "services:\n"
        "  app:\n"
        "    image: localhost/base/busybox:latest\n"
        '    command: ["sleep", "infinity"]\n'
        "    env_file: app.env\n"
        "    volumes:\n"
        "      - ./data:/data:ro\n"
    )
    name = unique("reldir")
    made = tool.call("create", name=name, image=BUSYBOX, compose_content=content)
    assert made["ok"], made
    (app,) = raw.containers.list(filters={"label": f"io.containers-tool.attached-to={name}"})
    code, (out, _) = app.exec_run(["sh", "-c", "echo $GREETING; cat /data/hello.txt"], demux=True)
    assert code == 0
    assert out.decode().split() == ["from-env-file", "from-bind-mount"]
    project = next(s for s in made["provisioning"] if s["step"] == "compose")["project"]
    assert tool.call("destroy", container=name)["ok"]
    assert _leftovers(raw, project) == []
