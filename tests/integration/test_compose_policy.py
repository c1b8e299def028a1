"""Compose services get the policy of plain create: refusals before `up`, default limits."""

from __future__ import annotations

import pytest

from containers_tool import ContainersTool
from containers_tool.settings import Settings
from containers_tool.sizes import parse_size
from tests.integration.conftest import BUSYBOX, TEST_SESSION, unique
from tests.integration.test_compose import (
    _compose_available,  # noqa: F401 - autouse: skip/fail without a compose
    _leftovers,
    _temp_files,
)

pytestmark = pytest.mark.slow


def _stack(service_extra: str) -> str:
    return (
        "services:\n"
        "  app:\n"
        f"    image: {BUSYBOX}\n"
        '    command: ["sleep", "infinity"]\n'
        f"{service_extra}"
        "  plain:\n"
        f"    image: {BUSYBOX}\n"
        '    command: ["sleep", "infinity"]\n'
    )


def _nothing_made(raw, name):
    assert _leftovers(raw, name) == [], "no container, network or volume of the project"
    assert (
        raw.containers.list(all=True, filters={"label": f"io.containers-tool.attached-to={name}"})
        == []
    )
    assert raw.containers.list(all=True, filters={"name": name}) == []
    assert _temp_files(name) == []


def _services(raw, name):
    found = raw.containers.list(
        all=True, filters={"label": f"io.containers-tool.attached-to={name}"}
    )
    # A listed container's attrs are the list's (Podman has no HostConfig there): inspect each.
    return {c.labels["io.containers-tool.compose-service"]: raw.containers.get(c.id) for c in found}


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ("    privileged: true\n", "privileged"),
        ("    cap_add: [SYS_ADMIN]\n", "cap_add"),
        ("    pid: host\n", "pid"),
        ("    security_opt: ['seccomp=unconfined']\n", "security_opt"),
    ],
)
def test_escalating_service_is_policy_denied_and_nothing_is_created(tool, raw, extra, key):
    name = unique("priv")
    result = tool.call("create", name=name, image=BUSYBOX, compose_content=_stack(extra))
    assert not result["ok"], result
    assert (result["error"]["code"], result["error"]["field"]) == (
        "policy_denied",
        "compose_content",
    )
    assert "'app'" in result["error"]["message"]
    assert key in result["error"]["message"]
    _nothing_made(raw, name)


@pytest.mark.parametrize(
    "volume",
    [
        "      - /var/run/docker.sock:/var/run/docker.sock\n",
        "      - type: bind\n        source: /var/run/docker.sock\n        target: /sock\n",
    ],
)
def test_engine_socket_bind_in_a_compose_file_is_policy_denied(tool, raw, tmp_path, volume):
    compose_file = tmp_path / "compose.yaml"
    compose_file.write_text(_stack("    volumes:\n" + volume), encoding="utf-8")
    name = unique("sock")
    result = tool.call("create", name=name, image=BUSYBOX, compose_file=str(compose_file))
    assert (result["error"]["code"], result["error"]["field"]) == (
        "policy_denied",
        "compose_file",
    ), result
    assert "volumes" in result["error"]["message"]
    _nothing_made(raw, name)


def test_compose_services_get_default_memory_pids_limits_and_no_new_privileges(tool, raw):
    name = unique("limits")
    own = "    mem_limit: 64m\n    pids_limit: 50\n"
    made = tool.call("create", name=name, image=BUSYBOX, compose_content=_stack(own))
    assert made["ok"], made
    settings = Settings()
    services = _services(raw, name)
    plain = services["plain"].attrs["HostConfig"]
    assert plain["Memory"] == parse_size(settings.memory_limit)
    assert plain["PidsLimit"] == settings.pids_limit
    # Docker records the option as given, Podman as "no-new-privileges".
    assert any(o.startswith("no-new-privileges") for o in plain["SecurityOpt"]), plain
    assert not any(o.endswith(("false", "=0")) for o in plain["SecurityOpt"])
    app = services["app"].attrs["HostConfig"]
    assert (app["Memory"], app["PidsLimit"]) == (64 * 1024 * 1024, 50), "its own limits are kept"
    assert any(o.startswith("no-new-privileges") for o in app["SecurityOpt"]), app
    project = next(s for s in made["provisioning"] if s["step"] == "compose")["project"]
    assert tool.call("destroy", container=name)["ok"]
    assert _leftovers(raw, project) == []


def test_privileged_service_runs_only_with_the_callers_opt_in_and_the_operators_policy(
    engine, tool, raw
):
    content = _stack("    privileged: true\n")
    refused = tool.call(
        "create", name=unique("optin"), image=BUSYBOX, compose_content=content, privileged=True
    )
    assert (refused["error"]["code"], refused["error"]["field"]) == ("policy_denied", "privileged")
    settings = Settings(runtime=engine, allow_privileged=True)
    with ContainersTool(settings, session_id=f"{TEST_SESSION}-{unique('optin')}") as allowed:
        name = unique("optin")
        no_opt_in = allowed.call("create", name=name, image=BUSYBOX, compose_content=content)
        assert no_opt_in["error"]["code"] == "policy_denied", "the policy alone is not an opt-in"
        made = allowed.call(
            "create", name=name, image=BUSYBOX, compose_content=content, privileged=True
        )
        project = name
        if not made["ok"]:
            # Docker on this CI host cannot start privileged containers at all (`docker run
            # --privileged` fails the same way): the policy let it through, the engine refused.
            assert made["error"]["code"] != "policy_denied", made
            assert "apply caps" in made["error"]["message"], made
        else:
            assert _services(raw, name)["app"].attrs["HostConfig"]["Privileged"] is True
            project = next(s for s in made["provisioning"] if s["step"] == "compose")["project"]
            assert allowed.call("destroy", container=name)["ok"]
    assert _leftovers(raw, project) == []
