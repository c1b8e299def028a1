"""Networks, session networks and ports on both engines, checked with the raw SDK."""

from __future__ import annotations

import urllib.request

from containers_tool import ContainersTool
from containers_tool.settings import Settings
from tests.integration.conftest import BUSYBOX, DEBIAN, TEST_SESSION, unique, wait_until

ATTACHED_TO = "io.containers-tool.attached-to"


def _exists(collection, name):
    try:
        collection.get(name)
    except Exception:  # noqa: BLE001 - NotFound differs per SDK
        return False
    return True


def _serve(tool, container, port=8080, text="ok"):
    """Starts busybox httpd (it daemonizes) serving `text` at /."""
    ran = tool.call(
        "exec",
        container=container,
        command=f"mkdir -p /tmp/www && echo {text} > /tmp/www/index.html && "
        f"httpd -p {port} -h /tmp/www",
    )
    assert ran["exit_code"] == 0, ran


def fetch(tool, container, host, port=8080, wait=3):
    """GETs / from a debian container with bash's /dev/tcp; returns the body or None.

    The clients are debian: busybox's glibc build crashes resolving names without NSS libraries.
    """
    script = f"exec 3<>/dev/tcp/{host}/{port} && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3"
    ran = tool.call(
        "exec",
        container=container,
        command=["timeout", str(wait), "bash", "-c", script],
        env={"RES_OPTIONS": "timeout:2 attempts:2"},  # a missed DNS answer is retried sooner
    )
    if ran["exit_code"] != 0 or " 200 " not in ran["stdout"]:
        return None
    return ran["stdout"].replace("\r", "").split("\n\n", 1)[1].strip()


def _host_get(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=3) as resp:
            return resp.read().decode().strip()
    except OSError:
        return None


def _make(tool, image=BUSYBOX, **fields):
    made = tool.call("create", image=image, name=unique(fields.pop("prefix", "net")), **fields)
    assert made["ok"], made
    return str(made["container"])


def test_containers_on_a_user_network_resolve_each_other_by_name_and_alias(tool, raw):
    net = unique("net")
    made = tool.call("create_network", name=net, labels={"app": "t"})
    assert made["ok"], made
    labels = raw.networks.get(net).attrs.get("Labels") or raw.networks.get(net).attrs["labels"]
    assert labels["io.containers-tool.managed-by"] == "containers-tool"
    assert labels["io.containers-tool.session"] == tool.session_id
    a, b = _make(tool, image=DEBIAN, network=net), _make(tool, network=net)
    c = _make(tool)
    _serve(tool, b, text="from-b")
    _serve(tool, c, text="from-c")
    assert wait_until(lambda: fetch(tool, a, b) == "from-b", timeout=15)
    joined = tool.call("connect_network", container=c, network=net, aliases=["db"])
    assert joined["ok"], joined
    # aardvark-dns (podman) reloads on connect and can miss queries meanwhile: allow retries.
    assert wait_until(lambda: fetch(tool, a, "db", wait=10) == "from-c", timeout=60)
    assert net in tool.call("status", container=c)["networks"]
    listed = {n["name"]: n for n in tool.call("list_networks")["networks"]}
    assert sorted(listed[net]["containers"]) == sorted([a, b, c])
    assert tool.call("disconnect_network", container=c, network=net)["ok"]
    again = tool.call("disconnect_network", container=c, network=net)
    assert (again["error"]["code"], again["error"]["field"]) == ("not_found", "network")
    for name in (a, b, c):
        tool.call("destroy", container=name)
    assert tool.call("destroy_network", name=net)["ok"]
    assert not _exists(raw.networks, net)


def test_network_name_taken_and_network_in_use_are_conflicts(tool, raw):
    net = unique("net")
    assert tool.call("create_network", name=net)["ok"]
    taken = tool.call("create_network", name=net)
    assert (taken["error"]["code"], taken["error"]["field"]) == ("conflict", "name")
    user = _make(tool, network=net)
    busy = tool.call("destroy_network", name=net)
    assert (busy["error"]["code"], busy["error"]["field"]) == ("conflict", "name")
    assert user in busy["error"]["message"], "the error names the containers using it"
    assert _exists(raw.networks, net)
    tool.call("destroy", container=user)
    assert tool.call("destroy_network", name=net)["ok"]
    gone = tool.call("destroy_network", name=net)
    assert (gone["error"]["code"], gone["error"]["field"]) == ("not_found", "name")
    builtin = tool.call("create_network", name="bridge")
    assert (builtin["error"]["code"], builtin["error"]["field"]) == ("invalid_input", "name")


def test_connect_to_unknown_network_is_not_found(tool, box):
    result = tool.call("connect_network", container=box, network=unique("nope"))
    assert (result["error"]["code"], result["error"]["field"]) == ("not_found", "network")


def test_network_none_has_only_loopback(tool):
    name = _make(tool, network="none")
    ran = tool.call("exec", container=name, command="ls /sys/class/net")
    assert ran["stdout"].split() == ["lo"]
    tool.call("destroy", container=name)


def test_internal_network_has_no_route_out(tool):
    net = unique("int")
    assert tool.call("create_network", name=net, internal=True)["ok"]
    inside, peer = _make(tool, image=DEBIAN, network=net), _make(tool, network=net)
    outside = _make(tool)
    _serve(tool, peer, text="peer")
    _serve(tool, outside, text="outside")
    outside_ip = next(iter(tool.context.runtime.container_addresses(outside).values()))
    # Name resolution, not TCP: with Docker's FORWARD DROP policy on the host, netavark's internal
    # bridges drop even their own containers' traffic (a host setting, not the tool's).
    resolved = tool.call("exec", container=inside, command=["getent", "hosts", peer])
    assert resolved["exit_code"] == 0, resolved
    assert fetch(tool, inside, outside_ip) is None, "nothing beyond the network answers"
    assert fetch(tool, outside, peer) is None
    for name in (inside, peer, outside):
        tool.call("destroy", container=name)
    assert tool.call("destroy_network", name=net)["ok"]


def test_session_networks_are_private_and_removed_with_the_session(engine, raw):
    sessions = [f"{TEST_SESSION}-{engine}-{unique('s')}" for _ in range(2)]
    tools = [ContainersTool(Settings(runtime=engine), session_id=s) for s in sessions]
    try:
        first, second = tools
        a1 = _make(first, image=DEBIAN, session_network=True)
        a2 = _make(first, session_network=True)
        b1 = _make(second, image=DEBIAN, session_network=True)
        _serve(first, a2, text="a2")
        assert wait_until(lambda: fetch(first, a1, a2) == "a2", timeout=15)
        a2_ip = first.context.runtime.container_addresses(a2)[f"ct-session-{sessions[0]}"]
        assert fetch(second, b1, a2) is None, "names do not cross sessions"
        assert fetch(second, b1, a2_ip) is None, "nor do packets"
        rows = first.call("list_networks", session_id=sessions[0])["networks"]
        assert [r["session_network"] for r in rows] == [True]
        gone = first.call("destroy_all", confirm=True, session_id=sessions[0])
        assert gone["networks"] == [f"ct-session-{sessions[0]}"]
        assert not _exists(raw.networks, f"ct-session-{sessions[0]}")
        assert _exists(raw.networks, f"ct-session-{sessions[1]}")
    finally:
        for t in tools:
            t.close()
    assert not _exists(raw.networks, f"ct-session-{sessions[1]}"), "close() ends the session"


def test_published_port_is_answered_from_the_host(tool):
    made = tool.call("create", image=BUSYBOX, name=unique("pub"), ports=[{"container": 8080}])
    assert made["ok"], made
    (port,) = made["ports"]
    assert port["container"] == 8080
    _serve(tool, made["container"], text="published")
    assert wait_until(lambda: _host_get(port["host"]) == "published", timeout=15)
    tool.call("destroy", container=made["container"])


def test_expose_port_on_a_running_container_is_answered_and_removed_with_it(tool, raw):
    name = _make(tool, prefix="exp")
    _serve(tool, name, text="exposed")
    exposed = tool.call("expose_port", container=name, port=8080)
    assert exposed["ok"], exposed
    assert exposed["address"] == f"127.0.0.1:{exposed['host_port']}"
    assert wait_until(lambda: _host_get(exposed["host_port"]) == "exposed", timeout=15)
    again = tool.call("expose_port", container=name, port=8080)
    assert again["host_port"] == exposed["host_port"], "exposing twice reuses the forwarder"
    sidecars = raw.containers.list(all=True, filters={"label": f"{ATTACHED_TO}={name}"})
    assert len(sidecars) == 1
    listed = [r["name"] for r in tool.call("list")["containers"]]
    assert sidecars[0].name not in listed, "the forwarder is not one of the agent's containers"
    tool.call("destroy", container=name)
    assert raw.containers.list(all=True, filters={"label": f"{ATTACHED_TO}={name}"}) == []
    assert _host_get(exposed["host_port"]) is None


def test_expose_port_without_network_is_conflict(tool):
    name = _make(tool, network="none")
    result = tool.call("expose_port", container=name, port=8080)
    assert (result["error"]["code"], result["error"]["field"]) == ("conflict", "container")
    tool.call("destroy", container=name)


def test_session_network_setting_applies_without_the_field(engine):
    from containers_tool import ContainersTool
    from containers_tool.settings import Settings

    with ContainersTool(Settings(runtime=engine, session_network=True)) as tool:
        made = tool.call("create", image="localhost/base/busybox:latest")
        assert made["ok"], made
        nets = tool.call("status", container=made["container"])["networks"]
        assert f"ct-session-{tool.session_id}" in nets
        opted_out = tool.call(
            "create", image="localhost/base/busybox:latest", session_network=False
        )
        assert (
            f"ct-session-{tool.session_id}"
            not in tool.call("status", container=opted_out["container"])["networks"]
        )
