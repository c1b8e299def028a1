"""Pure compose logic: version parsing across implementations, the labelling override, names."""

from __future__ import annotations

import pytest

from containers_tool.handlers.compose import COMPOSE_SERVICE, _override, project_name
from containers_tool.models import CreateInput
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
    out = _override(doc, {"k": "v"})
    assert out["version"] == "3.8"
    assert out["services"]["web"]["labels"] == {"k": "v", COMPOSE_SERVICE: "web"}
    assert set(out["networks"]) == {"back", "default"}
    assert set(out["volumes"]) == {"data"}


def test_project_name_is_given_or_derived_from_the_container_name():
    assert project_name(CreateInput(compose_project="p1"), "Box.One") == "p1"
    assert project_name(CreateInput(), "Box.One") == "box-one"
