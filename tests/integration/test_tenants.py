"""Tenants and sessions as boundaries, quotas and memory tiers, on both engines."""

from __future__ import annotations

import math
import threading
from typing import Any

from containers_tool import ContainersTool
from tests.integration.conftest import BUSYBOX, unique

TENANT_LABEL = "io.containers-tool.tenant"

#: Every operation on a container, with the other fields it needs.
CONTAINER_OPERATIONS: list[tuple[str, dict[str, object]]] = [
    ("exec", {"command": "true"}),
    ("exec_interactive_hint", {}),
    # A host file the host-path policy allows (the suite runs from the checkout).
    ("copy_in", {"source": __file__, "destination": "/tmp/"}),
    ("copy_out", {"source": "/etc/hostname", "destination": "/tmp/h13-x/"}),
    ("logs", {}),
    ("wait_healthy", {"health_command": "true", "timeout": 1}),
    ("exec_background", {"command": "true"}),
    ("exec_poll", {"job_id": "j-1"}),
    ("exec_cancel", {"job_id": "j-1"}),
    ("list_jobs", {}),
    ("close_session", {"session": "main"}),
    ("status", {}),
    ("snapshot", {"name": unique("snap")}),
    ("connect_network", {"network": "bridge"}),
    ("disconnect_network", {"network": "bridge"}),
    ("expose_port", {"port": 80}),
    ("bind_agent", {"agent": "analyst"}),
    ("resolve_agent", {"agent": "analyst"}),
    ("destroy", {}),
]


def _names(tool: ContainersTool) -> list[str]:
    rows: Any = tool.call("list")["containers"]
    return [row["name"] for row in rows]


def _not_found_everywhere(tool: ContainersTool, name: str) -> None:
    for op, fields in CONTAINER_OPERATIONS:
        result: Any = tool.call(op, container=name, **fields)
        assert (result["ok"], result["error"]["code"]) == (False, "not_found"), (op, result)
        assert result["error"]["field"] == "container", (op, result)
        assert name not in result["error"]["hint"], (op, result)  # no "did you mean" leak


def test_another_tenants_container_is_not_found_everywhere_and_absent_from_list(tenants, raw):
    a, b = tenants("a"), tenants("b")
    name = a.call("create", image=BUSYBOX, name=unique("ten"), persistent=True)["container"]
    assert name in _names(a)
    assert name not in _names(b)
    _not_found_everywhere(b, name)
    # Still there, untouched, and labelled with its tenant.
    container = raw.containers.get(name)
    assert container.labels[TENANT_LABEL] == a.settings.tenant
    assert a.call("exec", container=name, command="echo still")["stdout"] == "still\n"


def test_another_sessions_ephemeral_container_is_hidden_and_a_persistent_one_shared(tenants):
    one, two = tenants("a"), tenants("a")
    eph = one.call("create", image=BUSYBOX, name=unique("eph"))["container"]
    keep = one.call("create", image=BUSYBOX, name=unique("keep"), persistent=True)["container"]
    rows = {r["name"]: r for r in two.call("list")["containers"]}
    assert eph not in rows
    assert (rows[keep]["session_id"], rows[keep]["own_session"]) == (one.session_id, False)
    mine = {r["name"]: r for r in one.call("list")["containers"]}
    assert mine[eph]["own_session"] is True
    _not_found_everywhere(two, eph)
    assert two.call("exec", container=keep, command="echo shared")["stdout"] == "shared\n"
    assert one.call("exec", container=eph, command="true")["exit_code"] == 0


def test_networks_and_snapshots_of_another_tenant_are_not_found(tenants, raw):
    a, b = tenants("a"), tenants("b")
    net = unique("net")
    assert a.call("create_network", name=net)["ok"]
    attrs = raw.networks.get(net).attrs
    assert (attrs.get("Labels") or attrs["labels"])[TENANT_LABEL] == a.settings.tenant
    assert net not in [n["name"] for n in b.call("list_networks")["networks"]]
    gone = b.call("destroy_network", name=net)
    assert (gone["error"]["code"], gone["error"]["field"]) == ("not_found", "name")
    mine = b.call("create", image=BUSYBOX, name=unique("mine"))["container"]
    joined = b.call("connect_network", container=mine, network=net)
    assert (joined["error"]["code"], joined["error"]["field"]) == ("not_found", "network")
    made = b.call("create", image=BUSYBOX, name=unique("join"), network=net)
    assert (made["error"]["code"], made["error"]["field"]) == ("not_found", "network")

    src = a.call("create", image=BUSYBOX, name=unique("src"))["container"]
    snap = unique("snap")
    assert a.call("snapshot", container=src, name=snap)["ok"]
    try:
        assert snap not in [s["snapshot"] for s in b.call("list_snapshots")["snapshots"]]
        assert snap in [s["snapshot"] for s in a.call("list_snapshots")["snapshots"]]
        for op in ("restore", "delete_snapshot"):
            result = b.call(op, snapshot=snap)
            assert (result["error"]["code"], result["error"]["field"]) == ("not_found", "snapshot")
    finally:
        assert a.call("delete_snapshot", snapshot=snap)["ok"]
        a.call("destroy_network", name=net)


def test_destroy_all_removes_only_the_tenants_containers(tenants, raw):
    a, a2, b = tenants("a"), tenants("a"), tenants("b")
    mine = a.call("create", image=BUSYBOX, name=unique("mine"))["container"]
    sibling = a2.call("create", image=BUSYBOX, name=unique("sib"))["container"]
    theirs = b.call("create", image=BUSYBOX, name=unique("theirs"))["container"]
    # Another tenant's session id names nothing here.
    assert b.call("destroy_all", confirm=True, session_id=a.session_id)["destroyed"] == []
    gone = a.call("destroy_all", confirm=True)
    assert sorted(gone["destroyed"]) == sorted([mine, sibling])
    assert raw.containers.get(theirs).status == "running"


def test_a_name_taken_in_the_tenant_or_on_the_engine_is_a_conflict(tenants, raw):
    a, a2, b = tenants("a"), tenants("a"), tenants("b")
    name = a.call("create", image=BUSYBOX, name=unique("dup"))["container"]
    for tool in (a, a2, b):
        clash = tool.call("create", image=BUSYBOX, name=name)
        assert (clash["error"]["code"], clash["error"]["field"]) == ("conflict", "name")
        assert "tenant" not in clash["error"]["message"]  # never says whose it is
    assert raw.containers.get(name).labels[TENANT_LABEL] == a.settings.tenant


def _tenant_count(raw: Any, tenant: str) -> int:
    filters = {"label": f"{TENANT_LABEL}={tenant}"}
    return len(raw.containers.list(all=True, filters=filters))


def test_a_create_past_the_quota_is_refused_and_makes_nothing(tenants, raw):
    one = tenants("q", max_containers_per_tenant=2)
    two = tenants("q", max_containers_per_tenant=2)
    assert one.call("create", image=BUSYBOX)["ok"]
    assert two.call("create", image=BUSYBOX)["ok"]  # the quota is the tenant's, not a session's
    name = unique("over")
    refused = one.call("create", image=BUSYBOX, name=name)
    assert refused["error"]["code"] == "quota_exceeded", refused
    assert "has 2 containers" in refused["error"]["message"]
    assert "is 2" in refused["error"]["message"]
    assert _tenant_count(raw, one.settings.tenant) == 2
    assert not raw.containers.list(all=True, filters={"name": name})
    other = tenants("other", max_containers_per_tenant=2)
    assert other.call("create", image=BUSYBOX)["ok"]  # another tenant has its own quota


def test_a_destroyed_container_frees_its_slot_for_the_next_create(tenants):
    tool = tenants("free", max_containers_per_tenant=2)
    for _ in range(5):  # the bound only grows: at the limit the engine is counted again
        made = tool.call("create", image=BUSYBOX)
        assert made["ok"], made
        assert tool.call("destroy", container=made["container"])["ok"]


def test_two_concurrent_creates_for_the_last_slot_make_one_container(tenants, raw):
    tools = [tenants("race", max_containers_per_tenant=1) for _ in range(2)]
    results: list[dict[str, object]] = []
    barrier = threading.Barrier(2)

    def make(tool: ContainersTool) -> None:
        barrier.wait()
        results.append(tool.call("create", image=BUSYBOX))

    threads = [threading.Thread(target=make, args=(t,)) for t in tools]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(bool(r["ok"]) for r in results) == [False, True], results
    refused = next(r for r in results if not r["ok"])
    assert refused["error"]["code"] == "quota_exceeded"
    assert _tenant_count(raw, tools[0].settings.tenant) == 1


def test_a_memory_limit_outside_the_tiers_is_refused_naming_them(tenants, raw):
    tool = tenants("tiers")
    name = unique("tier")
    refused = tool.call("create", image=BUSYBOX, name=name, memory_limit="3g")
    assert (refused["error"]["code"], refused["error"]["field"]) == (
        "policy_denied",
        "memory_limit",
    )
    assert "1g, 2g, 4g, 16g, 64g" in refused["error"]["hint"]
    assert not raw.containers.list(all=True, filters={"name": name})
    made = tool.call("create", image=BUSYBOX, name=name, memory_limit="1024m")  # the 1g tier
    assert made["ok"], made
    assert raw.containers.get(name).attrs["HostConfig"]["Memory"] == 2**30


def test_a_tier_above_the_hosts_memory_is_refused(tenants, raw):
    probe = tenants("probe")
    host = probe.context.engine_info().memory_bytes
    assert host > 0
    huge = f"{math.ceil(host / 2**30) * 2}g"
    tool = tenants("big", allowed_memory_tiers=["1g", huge])
    name = unique("huge")
    refused = tool.call("create", image=BUSYBOX, name=name, memory_limit=huge)
    assert (refused["error"]["code"], refused["error"]["field"]) == (
        "policy_denied",
        "memory_limit",
    )
    assert not raw.containers.list(all=True, filters={"name": name})


def test_a_compose_service_above_the_memory_ceiling_is_refused(tenants, raw):
    tool = tenants("ceiling", allowed_memory_tiers=["1g", "4g"])
    name = unique("cmp")
    stack = "services:\n  big:\n    image: localhost/base/busybox:latest\n    mem_limit: 8g\n"
    refused = tool.call("create", image=BUSYBOX, name=name, compose_content=stack)
    assert (refused["error"]["code"], refused["error"]["field"]) == (
        "policy_denied",
        "compose_content",
    )
    assert "'big'" in refused["error"]["message"]
    assert not raw.containers.list(
        all=True, filters={"label": f"{TENANT_LABEL}={tool.settings.tenant}"}
    )
