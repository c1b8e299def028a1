"""Tenant labels, memory tiers and the bindings store: pure logic and real SQLite, no engine."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from containers_tool import labels as lb
from containers_tool.context import Context
from containers_tool.core import bindings
from containers_tool.errors import PolicyDeniedError
from containers_tool.policy import tiers
from containers_tool.settings import Settings

BIND_LOOP = """
import sys
from containers_tool.context import Context
from containers_tool.core import bindings
from containers_tool.settings import Settings
ctx = Context(Settings(tenant="t-race", state_dir=sys.argv[1]), "s-" + sys.argv[2])
for i in range(40):
    bindings.bind(ctx, "analyst", f"box-{sys.argv[2]}", f"id-{sys.argv[2]}-{i}")
"""


def test_tenant_names_are_validated():
    assert Settings(tenant="acme-1").tenant == "acme-1"
    for bad in ("Acme", "a/b", "", "-x", "x" * 33):
        with pytest.raises(ValidationError):
            Settings(tenant=bad)


def test_the_defaults_are_always_allowed_tiers():
    settings = Settings(memory_limit="3g", default_auto_memory="512m", allowed_memory_tiers=["1g"])
    assert settings.memory_tiers() == [2**29, 2**30, 3 * 2**30]
    with pytest.raises(ValidationError):
        Settings(allowed_memory_tiers=["lots"])


def test_a_limit_outside_the_tiers_or_above_the_host_is_policy_denied():
    settings = Settings(allowed_memory_tiers=["1g", "4g"])
    tiers.check_memory(None, settings, 2**30)  # not asked for: the default applies
    tiers.check_memory("1024m", settings, 8 * 2**30)
    with pytest.raises(PolicyDeniedError) as denied:
        tiers.check_memory("3g", settings, 8 * 2**30)
    assert (denied.value.field, "1g, 2g, 4g" in denied.value.hint) == ("memory_limit", True)
    with pytest.raises(PolicyDeniedError):
        tiers.check_memory("4g", settings, 2 * 2**30)


def test_compose_services_obey_the_largest_tier_and_the_host():
    settings = Settings(allowed_memory_tiers=["1g", "4g"])
    ok = {"services": {"a": {"mem_limit": "512m"}, "b": {}, "c": {"mem_limit": 2**31}}}
    tiers.check_compose_memory(ok, "compose_content", settings, 0)
    deploy = {"services": {"big": {"deploy": {"resources": {"limits": {"memory": "5g"}}}}}}
    with pytest.raises(PolicyDeniedError) as denied:
        tiers.check_compose_memory(deploy, "compose_file", settings, 0)
    assert denied.value.field == "compose_file"
    with pytest.raises(PolicyDeniedError):
        tiers.check_compose_memory({"services": {"a": {"mem_limit": "3g"}}}, "x", settings, 2**31)


def test_visibility_is_the_tenant_and_the_session_or_persistent():
    mine = {lb.MANAGED_BY: lb.MANAGER, lb.TENANT: "a", lb.SESSION: "s1"}
    assert lb.visible(mine, "a", "s1")
    assert not lb.visible(mine, "a", "s2")
    assert lb.visible({**mine, lb.PERSISTENT: "true"}, "a", "s2")
    assert not lb.visible({**mine, lb.PERSISTENT: "true"}, "b", "s1")
    legacy = {lb.MANAGED_BY: lb.MANAGER, lb.SESSION: "s1"}  # made before tenants
    assert lb.visible(legacy, lb.DEFAULT_TENANT, "s1")
    assert not lb.visible(legacy, "a", "s1")
    assert lb.managed_filter("s1", lb.DEFAULT_TENANT) == {
        lb.MANAGED_BY: lb.MANAGER,
        lb.SESSION: "s1",
    }
    assert lb.managed_filter(tenant="a")[lb.TENANT] == "a"


def test_bindings_are_per_tenant_and_replaced_not_duplicated(tmp_path):
    a = Context(Settings(tenant="a", state_dir=str(tmp_path)), "s-1")
    b = Context(Settings(tenant="b", state_dir=str(tmp_path)), "s-2")
    assert bindings.bind(a, "analyst", "box", "id1") is None
    old = bindings.bind(a, "analyst", "box2", "id2")
    assert old is not None
    assert old.container == "box"
    assert bindings.get(b, "analyst") is None
    rows, total = bindings.all_of_tenant(a)
    assert ([r.container for r in rows], total) == (["box2"], 1)
    assert bindings.drop_container(b, "id2") == []  # another tenant's binding stays
    assert bindings.drop_container(a, "id2") == ["analyst"]
    assert bindings.unbind(a, "analyst") is None


def test_concurrent_processes_binding_one_agent_leave_one_binding(tmp_path):
    procs = [
        subprocess.Popen([sys.executable, "-c", BIND_LOOP, str(tmp_path), str(n)]) for n in range(4)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    ctx = Context(Settings(tenant="t-race", state_dir=str(tmp_path)), "s-check")
    rows, total = bindings.all_of_tenant(ctx)
    assert total == 1
    assert rows[0].container in {f"box-{n}" for n in range(4)}
    assert rows[0].container_id.startswith(f"id-{rows[0].container.removeprefix('box-')}-")
