"""Agent bindings and resolve_agent's order, on both engines."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import Any

from containers_tool import ContainersTool
from tests.integration.conftest import BUSYBOX, unique

READ_BACK = """
import json, sys
from containers_tool import ContainersTool
tool = ContainersTool(runtime=sys.argv[1], tenant=sys.argv[2], state_dir=sys.argv[3])
print(json.dumps([tool.call("list_bindings"), tool.call("resolve_agent", agent="analyst",
                  mode="explicit")]))
tool.close()
"""


def _running(tool: ContainersTool, **fields: Any) -> str:
    made = tool.call("create", image=BUSYBOX, name=unique("ag"), **fields)
    assert made["ok"], made
    return str(made["container"])


def test_a_binding_is_read_back_by_a_fresh_process_of_the_tenant(tenants, engine):
    tool = tenants("a")
    box = _running(tool, persistent=True)
    bound = tool.call("bind_agent", agent="analyst", container=box)
    assert (bound["container"], bound["replaced"]) == (box, None)
    state = tool.settings.state_dir
    assert state is not None
    out = subprocess.run(
        [sys.executable, "-c", READ_BACK, engine, tool.settings.tenant, state],
        capture_output=True,
        text=True,
        check=True,
    )
    listed, resolved = json.loads(out.stdout)
    assert [(b["agent"], b["container"], b["usable"]) for b in listed["bindings"]] == [
        ("analyst", box, True)
    ]
    assert (resolved["container"], resolved["mode"]) == (box, "bound")
    assert (resolved["created"], resolved["fallback"]) == (False, False)


def test_explicit_container_wins_then_the_binding_then_the_auto_container(tenants, raw):
    tool = tenants("a")
    bound, other = _running(tool), _running(tool)
    assert tool.call("bind_agent", agent="analyst", container=bound)["ok"]
    explicit = tool.call("resolve_agent", agent="analyst", container=other)
    assert (explicit["container"], explicit["mode"], explicit["created"]) == (
        other,
        "explicit",
        False,
    )
    by_binding = tool.call("resolve_agent", agent="analyst")
    assert (by_binding["container"], by_binding["mode"]) == (bound, "bound")
    auto = tool.call("resolve_agent", agent="writer")
    assert (auto["mode"], auto["created"], auto["fallback"]) == ("auto", True, False), auto
    container = raw.containers.get(auto["container"])
    assert container.labels["io.containers-tool.agent"] == "writer"
    assert container.labels["io.containers-tool.tenant"] == tool.settings.tenant
    assert container.attrs["HostConfig"]["Memory"] == 2**30  # default_auto_memory
    # Reused, by another session of the tenant too.
    again = tenants("a").call("resolve_agent", agent="writer")
    assert (again["container"], again["mode"], again["created"]) == (
        auto["container"],
        "auto",
        False,
    )


def test_explicit_mode_without_a_binding_is_not_found_naming_bind_agent(tenants):
    tool = tenants("a")
    missing = tool.call("resolve_agent", agent="analyst", mode="explicit")
    assert (missing["error"]["code"], missing["error"]["field"]) == ("not_found", "agent")
    assert "bind_agent" in missing["error"]["hint"]
    assert tool.call("list")["count"] == 0  # nothing was created


def test_explicit_mode_falls_back_to_the_auto_container_when_allowed(tenants):
    tool = tenants("a", fallback_to_auto_on_missing_binding=True)
    box = _running(tool)
    assert tool.call("bind_agent", agent="analyst", container=box)["ok"]
    assert tool.call("destroy", container=box)["ok"]  # the bound container is gone
    first = tool.call("resolve_agent", agent="analyst", mode="explicit", memory_limit="4g")
    assert (first["mode"], first["created"], first["fallback"]) == ("auto", True, True), first
    second = tool.call("resolve_agent", agent="analyst", mode="explicit")
    assert (second["container"], second["created"], second["fallback"]) == (
        first["container"],
        False,
        True,
    )


def test_destroying_a_container_removes_its_bindings(tenants):
    tool = tenants("a")
    box = _running(tool)
    for agent in ("analyst", "writer"):
        assert tool.call("bind_agent", agent=agent, container=box)["ok"]
    assert tool.call("list_bindings")["count"] == 2
    assert tool.call("destroy", container=box)["ok"]
    assert tool.call("list_bindings")["bindings"] == []
    missing = tool.call("unbind_agent", agent="analyst")
    assert (missing["error"]["code"], missing["error"]["field"]) == ("not_found", "agent")


def test_unbind_keeps_the_container(tenants):
    tool = tenants("a")
    box = _running(tool)
    assert tool.call("bind_agent", agent="analyst", container=box)["ok"]
    assert tool.call("unbind_agent", agent="analyst")["unbound"] == box
    assert tool.call("list_bindings")["count"] == 0
    assert tool.call("exec", container=box, command="true")["exit_code"] == 0


def test_bindings_are_the_tenants_and_another_tenants_container_cannot_be_bound(tenants):
    a, b = tenants("a"), tenants("b")
    theirs = _running(a, persistent=True)
    assert a.call("bind_agent", agent="analyst", container=theirs)["ok"]
    refused = b.call("bind_agent", agent="analyst", container=theirs)
    assert (refused["error"]["code"], refused["error"]["field"]) == ("not_found", "container")
    assert b.call("list_bindings")["bindings"] == []
    assert b.call("resolve_agent", agent="analyst", mode="explicit")["error"]["code"] == "not_found"


def test_concurrent_binds_of_one_agent_leave_exactly_one_binding(tenants):
    tools = [tenants("a") for _ in range(4)]
    boxes = [_running(t, persistent=True) for t in tools[:2]]
    barrier = threading.Barrier(len(tools))
    results: list[dict[str, object]] = []

    def bind(i: int) -> None:
        barrier.wait()
        results.append(tools[i].call("bind_agent", agent="analyst", container=boxes[i % 2]))

    threads = [threading.Thread(target=bind, args=(i,)) for i in range(len(tools))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r["ok"] for r in results), results
    rows = tools[0].call("list_bindings")["bindings"]
    assert len(rows) == 1
    assert rows[0]["container"] in boxes
    assert tools[3].call("resolve_agent", agent="analyst")["container"] == rows[0]["container"]


def test_concurrent_resolves_make_one_auto_container(tenants, raw):
    tools = [tenants("a") for _ in range(3)]
    barrier = threading.Barrier(len(tools))
    results: list[dict[str, object]] = []

    def resolve(tool: ContainersTool) -> None:
        barrier.wait()
        results.append(tool.call("resolve_agent", agent="racer"))

    threads = [threading.Thread(target=resolve, args=(t,)) for t in tools]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r["ok"] for r in results), results
    assert len({r["container"] for r in results}) == 1
    assert sorted(bool(r["created"]) for r in results) == [False, False, True]
    tenant = tools[0].settings.tenant
    made = raw.containers.list(all=True, filters={"label": f"io.containers-tool.tenant={tenant}"})
    assert [c.labels.get("io.containers-tool.agent") for c in made] == ["racer"]
