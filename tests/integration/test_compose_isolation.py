"""Compose is judged as it will run: interpolated, extended, env_file read, on both engines.

Each refusal here was an escape through a stack: a default value that interpolates to `host`
or to the engine socket, a service extended from another file, a secret file that is the
socket, a seccomp profile file, unlimited pids or memory, another container's namespace.
"""

from __future__ import annotations

import pytest

from tests.integration.conftest import BUSYBOX, unique
from tests.integration.test_compose import (
    _compose_available,  # noqa: F401 - autouse: skip/fail without a compose
)
from tests.integration.test_compose_policy import _nothing_made, _services

pytestmark = pytest.mark.slow

APP = f"services:\n  app:\n    image: {BUSYBOX}\n    command: [sleep, infinity]\n"


def _refused(tool, raw, name, result, key, service="app"):
    assert not result["ok"], result
    error = result["error"]
    assert error["code"] == "policy_denied", result
    assert f"'{service}'" in error["message"], error
    assert key in error["message"], error
    assert len(error["message"]) < 1000
    _nothing_made(raw, name)


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ('    pid: "${H12_UNSET:-host}"\n', "pid"),
        ('    volumes: ["${H12_UNSET:-/var/run/docker.sock}:/s"]\n', "volumes"),
        ('    security_opt: ["${H12_UNSET:-seccomp=unconfined}"]\n', "security_opt"),
        ('    network_mode: "${H12_UNSET:-host}"\n', "network_mode"),
        ("    security_opt: ['seccomp=/tmp/profile.json']\n", "security_opt"),
        ("    pids_limit: -1\n", "pids_limit"),
        ("    oom_kill_disable: true\n", "oom_kill_disable"),
        ("    mem_limit: 100g\n", "mem_limit"),
        ("    env_file: [/etc/shadow]\n", "env_file"),
        ("    volumes: ['/etc:/h']\n", "volumes"),
        ("    cgroup_parent: /\n", "cgroup_parent"),
    ],
)
def test_resolved_values_are_checked_not_the_text(tool, raw, extra, key):
    name = unique("interp")
    result = tool.call("create", name=name, image=BUSYBOX, compose_content=APP + extra)
    _refused(tool, raw, name, result, key)


@pytest.mark.parametrize("key", ["pid", "network_mode"])
def test_joining_a_container_outside_the_stack_is_refused(tool, raw, box, key):
    name = unique("join")
    content = APP + f"    {key}: 'container:{box}'\n"
    result = tool.call("create", name=name, image=BUSYBOX, compose_content=content)
    _refused(tool, raw, name, result, key)


def test_a_service_extended_from_another_file_is_checked(tool, raw, tmp_path):
    (tmp_path / "other.yml").write_text(
        "services:\n"
        "  evil:\n"
        f"    image: {BUSYBOX}\n"
        "    privileged: true\n"
        "    network_mode: host\n"
        "    pid: host\n"
        "    volumes: ['/var/run/docker.sock:/s']\n",
        encoding="utf-8",
    )
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n  app:\n    command: [sleep, infinity]\n"
        "    extends: {file: other.yml, service: evil}\n",
        encoding="utf-8",
    )
    name = unique("ext")
    result = tool.call("create", name=name, image=BUSYBOX, compose_file=str(compose))
    _refused(tool, raw, name, result, "privileged")


def test_a_secret_file_that_is_the_engine_socket_is_refused(tool, raw):
    content = APP + "    secrets: [s]\nsecrets:\n  s:\n    file: /var/run/docker.sock\n"
    name = unique("secret")
    result = tool.call("create", name=name, image=BUSYBOX, compose_content=content)
    _refused(tool, raw, name, result, "file", service="s")


def test_what_was_checked_is_what_runs(tool, raw, tmp_path):
    """extends, env_file and defaults resolve as compose would; a literal `$` stays literal."""
    (tmp_path / "base.yml").write_text(
        f"services:\n  base:\n    image: {BUSYBOX}\n    environment: {{FROM_BASE: b}}\n",
        encoding="utf-8",
    )
    (tmp_path / "app.env").write_text("FROM_FILE=f\nDOLLAR=a$$b\n", encoding="utf-8")
    (tmp_path / ".env").write_text("H12_CMD=infinity\n", encoding="utf-8")
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n  app:\n    extends: {file: base.yml, service: base}\n"
        '    command: [sleep, "${H12_CMD}"]\n    env_file: [app.env]\n'
        "    environment: {LITERAL: 'x$$y', DEFAULTED: '${H12_UNSET:-d}'}\n",
        encoding="utf-8",
    )
    name = unique("same")
    made = tool.call("create", name=name, image=BUSYBOX, compose_file=str(compose))
    assert made["ok"], made
    app = _services(raw, name)["app"]
    env = dict(e.split("=", 1) for e in app.attrs["Config"]["Env"])
    assert env["FROM_BASE"] == "b"
    assert env["FROM_FILE"] == "f"
    assert env["LITERAL"] == "x$y"
    assert env["DEFAULTED"] == "d"
    assert env["DOLLAR"] == "a$$b", "an env_file value is taken as written"
    assert app.attrs["Config"]["Cmd"] == ["sleep", "infinity"]
    assert app.attrs["HostConfig"]["PidsLimit"] > 0
    assert tool.call("destroy", container=name)["ok"]


def test_published_ports_stay_on_the_loopback_address(tool, raw):
    name = unique("ports")
    wide = APP + "    ports: ['0.0.0.0:18081:80']\n"
    refused = tool.call("create", name=name, image=BUSYBOX, compose_content=wide)
    _refused(tool, raw, name, refused, "ports")
    made = tool.call(
        "create", name=name, image=BUSYBOX, compose_content=APP + "    ports: ['80']\n"
    )
    assert made["ok"], made
    bindings = _services(raw, name)["app"].attrs["HostConfig"]["PortBindings"]
    assert {b["HostIp"] for rows in bindings.values() for b in rows} == {"127.0.0.1"}, bindings
    assert tool.call("destroy", container=name)["ok"]
