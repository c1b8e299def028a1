"""Pure compose logic: version parsing across implementations, the labelling override, names."""

from __future__ import annotations

import pytest

from containers_tool import labels as lb
from containers_tool.core.compose import _override, project_name
from containers_tool.models.lifecycle import CreateInput
from containers_tool.runtime import isolation
from containers_tool.runtime.compose import _VERSION


@pytest.mark.parametrize(
    ("output", "version"),
    [
        ("Docker Compose version v2.24.5\n", "2.24.5"),
        ("docker-compose version 1.29.2, build unknown\ndocker-py version: 5.0.3\n", "1.29.2"),
        ("podman-compose version 1.6.0\npodman version 4.3.1\n", "1.6.0"),
    ],
)
def test_version_is_read_from_each_implementations_output(output, version):
    match = _VERSION.search(output)
    assert match is not None
    assert match.group(1) == version


def test_override_labels_services_networks_and_volumes_but_not_external_ones():
    doc = {
        "version": "3.8",
        "services": {"web": {"image": "x"}, "db": {"image": "y", "networks": ["back"]}},
        "networks": {"back": None, "outside": {"external": True}},
        "volumes": {"data": None, "shared": {"external": True}},
    }
    out = _override(doc, {"k": "v"}, {})
    assert out["version"] == "3.8"
    assert out["services"]["web"]["labels"] == {"k": "v", lb.COMPOSE_SERVICE: "web"}
    assert set(out["networks"]) == {"back", "default"}
    assert "driver_opts" not in out["networks"]["back"]
    assert set(out["volumes"]) == {"data"}


def test_override_gives_bridge_networks_the_isolating_driver_options():
    doc = {
        "services": {"web": {"image": "x"}, "db": {"image": "y", "networks": ["back", "mac"]}},
        "networks": {"back": {"driver": "bridge"}, "mac": {"driver": "macvlan"}},
    }
    out = _override(doc, {"k": "v"}, {"isolate": "true"})
    assert out["networks"]["back"]["driver_opts"] == {"isolate": "true"}
    assert out["networks"]["default"]["driver_opts"] == {"isolate": "true"}
    assert "driver_opts" not in out["networks"]["mac"], "only bridges know the option"


def test_project_name_is_given_or_derived_from_the_container_name():
    assert project_name(CreateInput(compose_project="p1"), "Box.One") == "p1"
    assert project_name(CreateInput(), "Box.One") == "box-one"


@pytest.mark.parametrize(
    ("version", "backend", "backend_version", "option"),
    [
        ("4.3.1", "netavark", "", "true"),  # this machine: no networkBackendInfo before 4.5
        ("4.5.0", "netavark", "netavark 1.6.0", "true"),
        ("4.6.1", "netavark", "netavark 1.7.0", "strict"),
        ("5.2.0", "netavark", "1.12.2", "strict"),
        ("4.6.1", "cni", "", "true"),
    ],
)
def test_podman_isolation_is_strict_only_where_podman_and_netavark_support_it(
    version, backend, backend_version, option
):
    found = isolation.podman(version, backend, backend_version)
    assert found.options == {"isolate": option}
    assert not found.default_isolated
    assert ("isolate=true" in found.gap) == found.others_reach_in == (option == "true")
    assert found.internal_reaches_host, "aardvark-dns keeps the gateway address on the host"
    assert found.fix
    assert found.default_shared
    assert "ct-default" in found.gap
    assert isolation.DOCKER.default_isolated
    assert not isolation.DOCKER.internal_reaches_host
    assert not isolation.DOCKER.others_reach_in
    # Docker's one gap: the default bridge its no-network containers share.
    assert isolation.DOCKER.default_shared
    assert "Docker's bridge" in isolation.DOCKER.gap
    assert "icc" in isolation.DOCKER.fix
