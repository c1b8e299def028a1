"""stats on Docker, read inside each container, checked against Docker's own stats endpoint.

Docker only: Podman's counters still come from its stats endpoint. The endpoint is read here
with the raw SDK while no sampling exec runs, so its processes are the container's own.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
from collections.abc import Iterator
from typing import Any

import docker.errors
import pytest

from containers_tool import ContainersTool
from containers_tool.runtime.cgroup import parse_stats, sections, stats_request
from tests.integration.conftest import BUSYBOX, DEBIAN, raw_client, unique, wait_until

pytestmark = pytest.mark.parametrize("engine", ["docker"], indirect=True)

MB = 1_000_000
#: Holds ~30 MB of anonymous memory: tail keeps the unfinished last line while head's
#: subshell sleeps (busybox and coreutils alike).
ALLOCATE = "(head -c 30000000 /dev/zero; sleep 3600) | tail"
BUSY = "while :; do :; done"


def _row(tool: ContainersTool, name: str) -> dict[str, Any]:
    done: dict[str, Any] = tool.call("stats", container=name)
    assert done["ok"], done
    [row] = done["containers"]
    return dict(row)


def _endpoint(raw: Any, name: str) -> dict[str, Any]:
    """Docker's stats answer as `docker stats --no-stream` gets it (two samples, a tick apart)."""
    return dict(raw.containers.get(name).stats(stream=False))


def _used(data: dict[str, Any]) -> int:
    memory = data["memory_stats"]
    return int(memory["usage"]) - int(memory["stats"].get("total_inactive_file", 0))


def _cpu(data: dict[str, Any]) -> float:
    now, before = data["cpu_stats"], data["precpu_stats"]
    used = now["cpu_usage"]["total_usage"] - before["cpu_usage"]["total_usage"]
    system = now["system_cpu_usage"] - before["system_cpu_usage"]
    return float(used / system * now["online_cpus"] * 100)


def _rx(data: dict[str, Any]) -> int:
    return sum(int(n["rx_bytes"]) for n in (data.get("networks") or {}).values())


@pytest.fixture
def made(tool: ContainersTool) -> Iterator[list[str]]:
    """Names of containers the test creates; destroyed after it."""
    names: list[str] = []
    yield names
    for name in names:
        tool.call("destroy", container=name)


def _create(tool: ContainersTool, made: list[str], prefix: str, **fields: Any) -> str:
    name = unique(f"ct-test-stats-{prefix}")
    done = tool.call("create", name=name, **fields)
    assert done["ok"], done
    made.append(name)
    return name


@pytest.fixture(scope="module")
def shell_less(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An image with busybox at /busybox and no /bin/sh, whose command is a busy loop.

    The stats exec cannot start in it, though busybox's own sh applet runs the loop.
    """
    raw = raw_client(engine)
    tag = f"localhost/containers-tool-test/noshell:{secrets.token_hex(4)}"
    context = tmp_path_factory.mktemp("noshell")
    (context / "Dockerfile").write_text(
        f"FROM {BUSYBOX} AS busybox\nFROM scratch\n"
        "COPY --from=busybox /bin/busybox /busybox\n"
        f'ENTRYPOINT ["/busybox"]\nCMD ["sh", "-c", "{BUSY}"]\n',
        encoding="utf-8",
    )
    raw.images.build(path=str(context), tag=tag, rm=True, forcerm=True)
    yield tag
    with contextlib.suppress(docker.errors.NotFound):
        raw.images.remove(tag, force=True)
    raw.close()


@pytest.mark.parametrize("image", [BUSYBOX, DEBIAN])
def test_the_script_runs_in_busybox_ash_and_dash_and_parses(tool, raw, made, image):
    # What stats relies on: were this to fail, every figure would come from the endpoint.
    name = _create(tool, made, "script", image=image)
    req = stats_request(0.2)
    done = raw.containers.get(name).exec_run(list(req.argv), user=req.user)
    assert done.exit_code == 0, done.output
    text = done.output.decode("utf-8")
    found = parse_stats(text, 0.2)
    assert found is not None, text
    assert found.cpu_percent is not None
    assert found.pids >= 1
    assert found.memory_limit_bytes == 2 * 2**30  # the default tier
    assert {"pids", "usage", "limit", "memstat", "netdev", "cpu0", "cpu1"} <= set(sections(text))


@pytest.mark.parametrize("image", [BUSYBOX, DEBIAN])
def test_busy_loop_shows_cpu_over_the_window_and_idle_hardly_any(tool, raw, made, image):
    busy = _create(tool, made, "busy", image=image)
    idle = _create(tool, made, "idle", image=image)
    assert tool.call("exec_background", container=busy, command=BUSY)["ok"]
    assert wait_until(lambda: _row(tool, busy)["cpu_percent"] > 20, timeout=10)
    assert _cpu(_endpoint(raw, busy)) > 20  # the endpoint agrees
    assert _row(tool, idle)["cpu_percent"] < 10


@pytest.mark.parametrize("image", [BUSYBOX, DEBIAN])
def test_memory_and_pids_match_the_endpoint_for_a_30mb_allocation(tool, raw, made, image):
    name = _create(tool, made, "mem", image=image, memory_limit="1g")
    assert tool.call("exec_background", container=name, command=ALLOCATE)["ok"]
    assert wait_until(lambda: _row(tool, name)["memory_used_bytes"] > 28 * MB, timeout=15)

    def agrees() -> bool:
        row, data = _row(tool, name), _endpoint(raw, name)
        # The sampling shell's own memory (a few hundred KiB) is in the first figure only.
        near = abs(row["memory_used_bytes"] - _used(data)) < 4 * MB
        return near and bool(row["pids"] == data["pids_stats"]["current"])

    assert wait_until(agrees, timeout=15)
    row = _row(tool, name)
    assert 28 * MB < row["memory_used_bytes"] < 45 * MB
    assert row["memory_limit_bytes"] == 2**30
    assert row["pids"] >= 3  # the keep-alive, the job's tail and its sleeping subshell


def test_bytes_sent_to_a_container_show_as_received_like_the_endpoint(tool, raw, made):
    name = _create(tool, made, "net", image=BUSYBOX)
    attrs = raw.containers.get(name).attrs
    [ip] = [n["IPAddress"] for n in attrs["NetworkSettings"]["Networks"].values()][:1]
    before = _row(tool, name)["net_rx_bytes"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for _ in range(20):
            udp.sendto(b"x" * 1000, (ip, 9))  # discard: nobody listens, the bytes still arrive
    assert wait_until(lambda: _row(tool, name)["net_rx_bytes"] >= before + 20_000, timeout=10)
    # Multicast chatter may arrive between the two readings, no more.
    assert abs(_row(tool, name)["net_rx_bytes"] - _rx(_endpoint(raw, name))) < 5_000


def test_a_container_without_network_reports_no_traffic(tool, raw, made):
    name = _create(tool, made, "nonet", image=BUSYBOX, network="none")
    row = _row(tool, name)
    assert (row["net_rx_bytes"], row["net_tx_bytes"]) == (0, 0)
    assert _endpoint(raw, name).get("networks") is None  # Docker reports none either


def test_shell_less_image_falls_back_to_the_endpoint_with_a_measured_cpu(
    tool, raw, made, shell_less
):
    name = _create(tool, made, "noshell", image=shell_less, keep_command=True, memory_limit="1g")
    row = _row(tool, name)
    data = _endpoint(raw, name)
    assert row["state"] == "running"
    assert row["cpu_percent"] > 20
    assert row["memory_limit_bytes"] == 2**30
    assert 0 < row["memory_used_bytes"] < 20 * MB
    assert abs(row["memory_used_bytes"] - _used(data)) < 2 * MB
    assert row["pids"] == data["pids_stats"]["current"] >= 1


def test_paused_container_keeps_its_memory_and_processes_and_uses_no_cpu(tool, raw, made):
    name = _create(tool, made, "paused", image=BUSYBOX, memory_limit="1g")
    assert tool.call("exec_background", container=name, command=ALLOCATE)["ok"]
    assert tool.call("exec_background", container=name, command=BUSY)["ok"]
    assert wait_until(lambda: _row(tool, name)["memory_used_bytes"] > 28 * MB, timeout=15)
    container = raw.containers.get(name)
    container.pause()
    try:
        container.reload()
        assert container.attrs["State"]["Running"]  # Docker still calls it running
        row = _row(tool, name)
        data = _endpoint(raw, name)
        assert row["state"] == "paused"
        assert row["cpu_percent"] == 0
        assert row["uptime_s"] is not None
        assert abs(row["memory_used_bytes"] - _used(data)) < 2 * MB
        assert row["memory_used_bytes"] > 28 * MB
        assert row["memory_limit_bytes"] == 2**30
        assert row["pids"] == data["pids_stats"]["current"] >= 4
    finally:
        container.unpause()
