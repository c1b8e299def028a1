"""The warm pool's matching rules: which creates may take a pooled container."""

from __future__ import annotations

import pytest

from containers_tool import labels as lb
from containers_tool.core.pool import eligible, signature
from containers_tool.models.lifecycle import CreateInput
from containers_tool.runtime.types import ContainerSpec


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"image": "busybox"}, True),
        ({"purpose": "python", "config_files": {"~/a": "b"}}, True),
        ({"image": "busybox", "user": "1000:1000"}, True),
        ({"image": "busybox", "name": "api"}, False),  # its hostname is drawn with the pooled one
        ({"image": "busybox", "user": "nobody"}, False),  # a name is resolved at create
        ({"image": "busybox", "network": "net"}, False),
        ({"image": "busybox", "session_network": True}, False),
        ({"image": "busybox", "keep_command": True}, False),
        ({"image": "busybox", "cache_bust": True}, False),
        ({"image": "busybox", "compose_content": "services: {}"}, False),
    ],
)
def test_only_creates_a_pooled_container_can_serve_are_eligible(fields, expected):
    assert eligible(CreateInput(**fields)) is expected


def test_two_creates_differing_only_in_name_hostname_and_created_match():
    base = ContainerSpec(
        name="ct-aaaa",
        image="busybox",
        command=None,
        labels={lb.SESSION: "s", lb.CREATED: "2026-01-01T00:00:00+00:00"},
        hostname="ct-aaaa",
        env={"HOME": "/root"},
    )
    later = ContainerSpec(
        name="ct-bbbb",
        image="busybox",
        command=None,
        labels={lb.SESSION: "s", lb.CREATED: "2026-01-02T00:00:00+00:00"},
        hostname="ct-bbbb",
        env={"HOME": "/root"},
    )
    assert signature(base) == signature(later)
    other_session = ContainerSpec(
        name="ct-aaaa",
        image="busybox",
        command=None,
        labels={lb.SESSION: "t"},
        env={"HOME": "/root"},
    )
    assert signature(base) != signature(other_session)
    assert signature(base) != signature(
        ContainerSpec(name="x", image="busybox", command=None, labels={}, env={"A": "1"})
    )


def test_a_name_under_the_pool_prefix_is_refused():
    with pytest.raises(ValueError, match="warm pool"):
        CreateInput(name=f"{lb.POOL_PREFIX}mine")
