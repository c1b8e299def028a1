"""The warm pool on both engines: a pooled create is indistinguishable from a plain one.

Compared through the tool (create payload, status, exec) and the raw SDK (inspect), between a
create taken from the pool and a plain create of the same session by a tool without a pool.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from containers_tool import ContainersTool
from containers_tool import labels as lb
from containers_tool.settings import Settings
from tests.integration.conftest import BUSYBOX, TEST_SESSION

pytestmark = pytest.mark.slow

FILES = {"dotfiles_inline": {".ct-rc": "rc"}, "config_files": {"~/app.toml": "a = 1\n"}}
PROBE = (
    'id; echo "$HOME"; hostname; stat -c %u:%g:%a "$HOME" "$PWD" "$HOME/.ct-rc" "$HOME/app.toml"; '
    'cat "$HOME/.ct-rc" "$HOME/app.toml"; ls -A "$HOME"; ls -A /tmp; cat /etc/passwd'
)


@pytest.fixture
def pooled(engine):
    session = f"{TEST_SESSION}-{engine}-pool"
    tool = ContainersTool(Settings(runtime=engine, pool={BUSYBOX: 2}), session_id=session)
    plain = ContainersTool(Settings(runtime=engine), session_id=session, reap_on_exit=False)
    assert tool.context.pool is not None
    assert tool.context.pool.wait_full(180), "the pool did not fill"
    yield tool, plain
    plain.close()
    tool.close()


def _waiting(raw, session):
    return {
        c.id
        for c in raw.containers.list(all=True, filters={"label": f"{lb.SESSION}={session}"})
        if c.name.startswith(lb.POOL_PREFIX)
    }


def _seen(tool, raw, made):
    """What anyone can see of a container, minus what must differ (name, id, created)."""
    name = made["container"]
    status = tool.call("status", container=name)
    attrs = raw.containers.get(name).attrs
    config, host = attrs["Config"], attrs["HostConfig"]
    ran = tool.call("exec", container=name, command=PROBE)
    assert ran["exit_code"] == 0, ran
    # The owner labels name the process that reaps the container (the pooled tool; `plain`
    # reaps nothing), and the activity times are each container's own.
    owner = (lb.OWNER_HOST, lb.OWNER_BOOT, lb.OWNER_PID, lb.OWNER_START)
    labels = {k: v for k, v in config["Labels"].items() if k != lb.CREATED and k not in owner}
    drop = ("container", "id", "created", "started_at", "connect", "last_active_at", "expires_at")
    return {
        "payload": {k: v for k, v in made.items() if k not in ("container", "id", "provisioning")}
        | {"connect": made["connect"].replace(name, "<name>")},
        "steps": [(s["step"], s["status"]) for s in made["provisioning"]],
        "status": {k: v for k, v in status.items() if k not in drop and k != "labels"},
        "status_labels": {k: v for k, v in status["labels"].items() if k != lb.CREATED},
        "labels": labels,
        "env": sorted(e.replace(name, "<name>") for e in config["Env"]),
        "user": config["User"],
        "workdir": config["WorkingDir"],
        "hostname_is_name": config["Hostname"] == name,
        "limits": (host["Memory"], host.get("NanoCpus"), host.get("CpuQuota"), host["PidsLimit"]),
        "init": host.get("Init"),
        "security": sorted(host.get("SecurityOpt") or []),
        "mounts": sorted((m.get("Type"), m.get("Destination")) for m in attrs["Mounts"]),
        "networks": sorted(attrs["NetworkSettings"]["Networks"]),
        "inside": ran["stdout"].replace(name, "<name>"),
    }


def test_a_pooled_create_is_indistinguishable_from_a_plain_one(pooled, raw):
    tool, plain = pooled
    waiting = _waiting(raw, tool.session_id)
    assert len(waiting) == 2
    taken = tool.call("create", image=BUSYBOX, **FILES)
    assert taken["ok"], taken
    assert raw.containers.get(taken["container"]).id in waiting, "it came from the pool"
    made = plain.call("create", image=BUSYBOX, **FILES)
    assert made["ok"], made
    assert _seen(tool, raw, taken) == _seen(tool, raw, made)
    for box in (taken, made):
        tool.call("destroy", container=box["container"])


def test_a_mapped_user_create_does_not_take_a_root_container(pooled, raw):
    tool, _ = pooled
    waiting = _waiting(raw, tool.session_id)
    made = tool.call("create", image=BUSYBOX, user="1000:1000", env={"A": "1"})
    assert made["ok"], made
    assert raw.containers.get(made["container"]).id not in waiting
    ran = tool.call("exec", container=made["container"], command='id -u; echo "$HOME $A"')
    assert ran["stdout"] == "1000\n/home/ct 1\n"
    tool.call("destroy", container=made["container"])


def test_pooled_containers_are_handed_out_once_and_carry_nothing_of_an_earlier_caller(pooled):
    tool, _ = pooled
    first = tool.call("create", image=BUSYBOX)
    assert first["ok"], first
    tool.call("exec", container=first["container"], command="echo left > /tmp/left-behind")
    tool.call("destroy", container=first["container"])
    with ThreadPoolExecutor(4) as workers:
        made = list(workers.map(lambda _: tool.call("create", image=BUSYBOX), range(4)))
    assert all(m["ok"] for m in made), made
    names = [m["container"] for m in made]
    ids = [m["id"] for m in made]
    assert len(set(names)) == len(set(ids)) == 4
    for name in names:
        ran = tool.call("exec", container=name, command="test ! -e /tmp/left-behind && echo clean")
        assert ran["stdout"] == "clean\n", ran
        tool.call("destroy", container=name)


def test_waiting_containers_are_hidden_refused_and_removed_with_the_tool(engine, raw):
    session = f"{TEST_SESSION}-{engine}-pool-end"
    tool = ContainersTool(Settings(runtime=engine, pool={BUSYBOX: 1}), session_id=session)
    assert tool.context.pool is not None
    assert tool.context.pool.wait_full(180)
    (waiting,) = _waiting(raw, session)
    name = raw.containers.get(waiting).name
    listed = tool.call("list", session_id=session)
    assert listed["count"] == 0, listed
    assert tool.call("status", container=name)["error"]["code"] == "not_found"
    assert tool.call("exec", container=name, command="true")["error"]["code"] == "not_found"
    taken = tool.call("create", image=BUSYBOX, name="ct-pool-mine")
    assert (taken["error"]["code"], taken["error"]["field"]) == ("invalid_input", "name")
    tool.close()
    assert _waiting(raw, session) == set()
