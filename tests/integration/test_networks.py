"""Networks, session networks and ports on both engines, checked with the raw SDK."""

from __future__ import annotations

import contextlib
import socket
import threading
import urllib.request

import pytest

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


@contextlib.contextmanager
def _host_listener():
    """A TCP server on every address of the host, answering "host-ok"; yields its port."""
    server = socket.create_server(("0.0.0.0", 0))  # noqa: S104 - the test asks who reaches it
    server.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:  # the accept timed out: look at stop again
                continue
            with conn:
                conn.sendall(b"host-ok\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        server.close()


def _gateway(raw, network):
    attrs = raw.networks.get(network).attrs
    if "IPAM" in attrs:  # Docker
        return attrs["IPAM"]["Config"][0]["Gateway"]
    return attrs["subnets"][0]["gateway"]  # Podman


def _connect(tool, container, host, port):
    """Opens a TCP connection from a debian container; returns the first line read, or None."""
    script = f"exec 3<>/dev/tcp/{host}/{port} && head -1 <&3"
    ran = tool.call("exec", container=container, command=["timeout", "3", "bash", "-c", script])
    return ran["stdout"].strip() if ran["exit_code"] == 0 else None


@pytest.mark.serial
def test_internal_network_has_no_route_out(tool, raw):
    internal, normal = unique("int"), unique("out")
    assert tool.call("create_network", name=internal, internal=True)["ok"]
    assert tool.call("create_network", name=normal)["ok"]
    inside, peer = _make(tool, image=DEBIAN, network=internal), _make(tool, network=internal)
    outside = _make(tool, image=DEBIAN, network=normal)
    iso = tool.context.runtime.network_isolation()
    with _host_listener() as port:
        beyond = _gateway(raw, normal)  # a host address outside the internal network
        assert _connect(tool, outside, beyond, port) == "host-ok", "a normal network gets out"
        assert _connect(tool, inside, beyond, port) is None, "an internal one does not"
        # Its own gateway: Docker's internal bridge has no host address (the tool inhibits it);
        # Podman keeps one for aardvark-dns, which preflight and the README report.
        own = _connect(tool, inside, _gateway(raw, internal), port)
        assert (own == "host-ok") is iso.internal_reaches_host
    # Name resolution, not TCP: with Docker's FORWARD DROP policy on the host, netavark's internal
    # bridges drop even their own containers' traffic (a host setting, not the tool's).
    resolved = tool.call("exec", container=inside, command=["getent", "hosts", peer])
    assert resolved["exit_code"] == 0, resolved
    for name in (inside, peer, outside):
        tool.call("destroy", container=name)
    assert tool.call("destroy_network", name=internal)["ok"]
    assert tool.call("destroy_network", name=normal)["ok"]


@pytest.mark.serial
def test_session_networks_are_private_and_removed_with_the_session(engine, raw):
    sessions = [f"{TEST_SESSION}-{engine}-{unique('s')}" for _ in range(2)]
    tools = [ContainersTool(Settings(runtime=engine), session_id=s) for s in sessions]
    try:
        first, second = tools
        a1 = _make(first, image=DEBIAN, session_network=True)
        a2 = _make(first, session_network=True)
        b1 = _make(second, image=DEBIAN, session_network=True)
        # Session B's containers on the default network (no network asked for).
        b_default, b_peer = _make(second, image=DEBIAN), _make(second)
        _serve(first, a2, text="a2")
        _serve(second, b_peer, text="b-peer")
        assert wait_until(lambda: fetch(first, a1, a2) == "a2", timeout=15)
        a2_ip = first.context.runtime.container_addresses(a2)[f"ct-session-{sessions[0]}"]
        assert fetch(second, b1, a2) is None, "names do not cross sessions"
        assert fetch(second, b1, a2_ip) is None, "nor do packets"
        (peer_ip,) = second.context.runtime.container_addresses(b_peer).values()
        assert fetch(second, b_default, peer_ip) == "b-peer", "the default network works"
        assert fetch(second, b_default, a2_ip) is None, "and does not reach a session network"
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


def test_preflight_says_whether_other_sessions_reach_a_container_made_without_a_network(
    engine, raw
):
    # The attack: another session's container, also made without a network, connects to one
    # of this session's. Whether it gets through must be what preflight says.
    sessions = [f"{TEST_SESSION}-{engine}-{unique('d')}" for _ in range(2)]
    tools = [ContainersTool(Settings(runtime=engine), session_id=s) for s in sessions]
    try:
        mine, theirs = tools
        target = _make(mine)
        _serve(mine, target, text="mine")
        (target_ip,) = mine.context.runtime.container_addresses(target).values()
        intruder = _make(theirs, image=DEBIAN)
        reached = wait_until(lambda: fetch(theirs, intruder, target_ip) == "mine", timeout=5)
        iso = mine.context.runtime.network_isolation()
        assert reached is iso.default_shared
        check = next(
            c for c in mine.call("preflight")["checks"] if c["name"] == "network_isolation"
        )
        assert ("share one default network" in check["detail"]) is reached, check
        assert ("session_network=true" in check["fix"]) is reached, check
    finally:
        for t in tools:
            t.close()


#: The engine's own default network, as the engine names it (the tool maps "bridge" on Podman
#: to its isolated ct-default, so Podman's is asked for by its own name).
ENGINE_DEFAULT = {"docker": "bridge", "podman": "podman"}


@pytest.mark.serial
def test_preflight_isolation_check_says_whether_the_engine_default_network_reaches_in(engine, tool):
    check = next(c for c in tool.call("preflight")["checks"] if c["name"] == "network_isolation")
    assert check["required"] is False
    assert bool(check["fix"]) == (not check["passed"])
    target = _make(tool, session_network=True)
    _serve(tool, target, text="target")
    target_ip = tool.context.runtime.container_addresses(target)[f"ct-session-{tool.session_id}"]
    client = _make(tool, image=DEBIAN, network=ENGINE_DEFAULT[engine])
    local = _make(tool, network=ENGINE_DEFAULT[engine])
    _serve(tool, local, text="local")
    (local_ip,) = tool.context.runtime.container_addresses(local).values()
    assert fetch(tool, client, local_ip) == "local", "the client's own network works"
    reached = fetch(tool, client, target_ip) == "target"
    # Docker: isolated. Podman 4.3: reachable, and preflight says why.
    iso = tool.context.runtime.network_isolation()
    assert reached is iso.others_reach_in, check
    assert ("isolate=true" in check["detail"]) is reached
    assert check["passed"] is not (
        iso.others_reach_in or iso.internal_reaches_host or iso.default_shared
    )
    for name in (target, client, local):
        tool.call("destroy", container=name)


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


def test_list_volumes_matches_volumes_carrying_all_the_labels(engine, raw):
    key = unique("vol")
    made = [f"{key}-both", f"{key}-one"]
    raw.volumes.create(made[0], labels={f"{key}.a": "1", f"{key}.b": "1"})
    raw.volumes.create(made[1], labels={f"{key}.a": "1", f"{key}.b": "2"})
    try:
        with ContainersTool(Settings(runtime=engine)) as tool:
            both = tool.context.runtime.list_volumes({f"{key}.a": "1", f"{key}.b": "1"})
        assert [v.name for v in both] == [made[0]], "a sweep by session must not see others'"
    finally:
        for name in made:
            raw.volumes.get(name).remove()


def test_expose_port_never_pulls_the_forwarder_image_when_pulling_is_disabled(engine):
    absent = "localhost/containers-tool-test/absent:0"
    settings = Settings(runtime=engine, pull="never", image_overrides={"busybox:latest": absent})
    with ContainersTool(settings) as tool:
        pulls = []
        runtime = tool.context.runtime
        real_pull = runtime.pull_image

        def pull_image(ref):  # records, then does the real thing
            pulls.append(ref)
            return real_pull(ref)

        runtime.pull_image = pull_image
        name = _make(tool, prefix="nopull")
        result = tool.call("expose_port", container=name, port=8080)
        assert (result["error"]["code"], result["error"]["field"]) == ("not_found", None)
        assert pulls == []


def test_a_failed_create_removes_the_session_network_it_made(engine, raw, tool):
    taken = _make(tool)
    session = f"{TEST_SESSION}-{engine}-{unique('undo')}"
    with ContainersTool(Settings(runtime=engine), session_id=session) as other:
        clash = other.call("create", image=BUSYBOX, name=taken, session_network=True)
        assert (clash["error"]["code"], clash["error"]["field"]) == ("conflict", "name")
        assert not _exists(raw.networks, f"ct-session-{session}")
    tool.call("destroy", container=taken)
