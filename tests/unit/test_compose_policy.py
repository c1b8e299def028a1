"""Pure compose policy: what a service may ask for, and the default limits it gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from containers_tool.core.compose import _override
from containers_tool.core.compose_resolve import Resolver
from containers_tool.errors import PolicyDeniedError
from containers_tool.policy import compose as compose_policy
from containers_tool.policy.host_paths import HostPaths, socket_keys

HERE = Path("/srv/project")


def _paths(socket: bool = False) -> HostPaths:
    return HostPaths(allowed=(str(HERE), "/tmp"), allow_engine_socket=socket, sockets=socket_keys())


def _check(
    service: str,
    *,
    privileged: bool = False,
    socket: bool = False,
    extra: str = "",
    field: str = "compose_content",
) -> None:
    body = "    image: localhost/base/busybox:latest\n" + service
    doc = yaml.safe_load(f"services:\n  app:\n{body}{extra}")
    paths = _paths(socket)
    resolved = Resolver(HERE, paths, field).resolve(doc)
    limits = compose_policy.Limits(privileged=privileged, paths=paths, max_memory=16 * 1024**3)
    compose_policy.check(resolved, field, limits)


def _denied(service: str, **kwargs: Any) -> PolicyDeniedError:
    with pytest.raises(PolicyDeniedError) as caught:
        _check(service, **kwargs)
    return caught.value


@pytest.mark.parametrize(
    ("service", "key"),
    [
        ("    privileged: true\n", "privileged"),
        ("    cap_add: [NET_ADMIN]\n", "cap_add"),
        ("    devices: ['/dev/fuse:/dev/fuse']\n", "devices"),
        ("    pid: host\n", "pid"),
        ("    ipc: host\n", "ipc"),
        ("    network_mode: host\n", "network_mode"),
        ("    userns_mode: host\n", "userns_mode"),
        ("    security_opt: ['seccomp=unconfined']\n", "security_opt"),
        ("    security_opt: ['seccomp:unconfined']\n", "security_opt"),
        ("    security_opt: ['apparmor=unconfined']\n", "security_opt"),
        ("    security_opt: ['label=disable']\n", "security_opt"),
        ("    security_opt: ['label:disable']\n", "security_opt"),
        ("    security_opt: ['no-new-privileges:false']\n", "security_opt"),
        ("    security_opt: ['systempaths=unconfined']\n", "security_opt"),
        ("    security_opt: ['seccomp=/srv/project/p.json']\n", "security_opt"),
        ("    security_opt: ['label=type:spc_t']\n", "security_opt"),
        ("    pid: 'container:other'\n", "pid"),
        ("    network_mode: 'ns:/proc/1/ns/net'\n", "network_mode"),
        ("    pid: '${UNSET:-host}'\n", "pid"),
        (
            "    deploy: {resources: {reservations: {devices: [{capabilities: [gpu]}]}}}\n",
            "devices",
        ),
    ],
)
def test_escalating_keys_are_refused_naming_service_and_key(service, key):
    error = _denied(service, field="compose_file")
    assert error.code == "policy_denied"
    assert error.field == "compose_file"
    assert "'app'" in error.message
    assert key in error.message
    assert "privileged=true" in error.hint


@pytest.mark.parametrize(
    "service",
    [
        "    privileged: true\n",
        "    cap_add: [SYS_ADMIN]\n",
        "    devices: ['/dev/fuse']\n",
        "    pid: host\n",
        "    security_opt: ['seccomp=unconfined']\n",
    ],
)
def test_privileged_opt_in_allows_escalating_keys(service):
    _check(service, privileged=True)


@pytest.mark.parametrize(
    "service",
    [
        "    network_mode: bridge\n",
        "    pid: 'service:db'\n",
        "    security_opt: ['no-new-privileges:true']\n",
        "    cap_drop: [ALL]\n",
        "    privileged: false\n",
        "    volumes: ['data:/data', './src:/src', '/cache']\n",
        "    volumes: [{type: volume, source: docker.sock, target: /x}]\n",
        "    pid: '${UNSET:-service:db}'\n",
        "    pids_limit: 10\n    mem_limit: 1g\n",
        "    volumes: ['$${NOT_A_VAR}:/x']\n",  # escaped: a named volume called ${NOT_A_VAR}
    ],
)
def test_ordinary_services_pass(service):
    _check(service)


@pytest.mark.parametrize(
    "volumes",
    [
        "['/var/run/docker.sock:/var/run/docker.sock']",
        "['/run/podman/podman.sock:/run/podman/podman.sock:ro']",
        "['/var/run:/host-run']",  # the directory that holds the socket
        "[{type: bind, source: /var/run/docker.sock, target: /var/run/docker.sock}]",
    ],
)
def test_engine_socket_binds_are_refused_in_short_and_long_syntax(volumes):
    service = f"    volumes: {volumes}\n"
    if not Path("/var/run/docker.sock").exists() or not Path("/run/podman/podman.sock").exists():
        pytest.skip("no engine sockets on this machine")
    error = _denied(service)
    assert error.code == "policy_denied"
    assert error.field == "compose_content"
    assert "'app'" in error.message
    assert "volumes" in error.message
    assert "engine" in error.message
    assert "allow_engine_socket" in error.hint
    if "/var/run:" not in volumes:  # a directory is still outside the allowed host paths
        _check(service, socket=True)  # the operator's setting, as for plain create
    assert _denied(service, privileged=True), "privileged does not opt in to the socket"


def test_a_top_level_bind_volume_of_the_socket_is_refused():
    extra = (
        "volumes:\n  sock:\n    driver: local\n"
        "    driver_opts: {type: none, o: bind, device: /var/run/docker.sock}\n"
    )
    error = _denied("    volumes: ['sock:/s']\n", extra=extra)
    assert "'sock'" in error.message


def test_defaults_give_limits_and_no_new_privileges_unless_the_service_sets_its_own():
    assert compose_policy.defaults({"image": "x"}, 2048, 64) == {
        "mem_limit": 2048,
        "pids_limit": 64,
        "security_opt": ["no-new-privileges:true"],
    }
    own = {"mem_limit": "1g", "pids_limit": 10, "security_opt": ["label=disable"]}
    assert compose_policy.defaults(own, 2048, 64) == {}
    deploy = {"deploy": {"resources": {"limits": {"memory": "1g", "pids": 5}}}}
    assert compose_policy.defaults(deploy, 2048, 64) == {"security_opt": ["no-new-privileges:true"]}


def test_override_carries_the_default_limits_per_service():
    doc = {"services": {"web": {"image": "x"}, "db": {"image": "y", "mem_limit": "1g"}}}
    out = _override(doc, {"k": "v"}, {}, (2048, 64))
    assert out["services"]["web"]["mem_limit"] == 2048
    assert out["services"]["web"]["pids_limit"] == 64
    assert out["services"]["web"]["security_opt"] == ["no-new-privileges:true"]
    assert "mem_limit" not in out["services"]["db"]
    assert out["services"]["db"]["pids_limit"] == 64
