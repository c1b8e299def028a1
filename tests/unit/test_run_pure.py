"""Pure logic of run and stats: JSON results, stats parsing, sums, uptime, input checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from containers_tool.cli.render import show
from containers_tool.core.run import parse_result
from containers_tool.core.stats import total, uptime_s
from containers_tool.models.run import RunInput
from containers_tool.runtime.stats import docker_cpu_percent, docker_stats, parse_peak


@pytest.mark.parametrize(
    ("stdout", "expected"),
    [
        ('{"a": 1}\n', {"a": 1}),
        ("[1,\n 2]", [1, 2]),
        ("42", 42),
        ('progress 10%\nprogress 100%\n{"done": true}\n\n', {"done": True}),
        ("all good\n1\n", None),  # a bare number ending prose is text
        ("not json", None),
        ("", None),
        ('{"cut": \n… [9 bytes omitted] …\n', None),
    ],
)
def test_parse_result_takes_whole_stdout_or_its_last_line(stdout, expected):
    assert parse_result(stdout) == expected


def test_docker_stats_sums_interfaces_and_block_ops_and_drops_page_cache():
    data = {
        "cpu_stats": {"cpu_usage": {"total_usage": 2_500_000_000}},
        "memory_stats": {
            "usage": 10_000,
            "max_usage": 50_000,
            "limit": 100_000,
            "stats": {"total_inactive_file": 4_000},
        },
        "networks": {"eth0": {"rx_bytes": 10, "tx_bytes": 1}, "eth1": {"rx_bytes": 5}},
        "blkio_stats": {
            "io_service_bytes_recursive": [
                {"op": "Read", "value": 7},
                {"op": "Write", "value": 3},
                {"op": "write", "value": 2},
                {"op": "Total", "value": 12},
            ]
        },
        "pids_stats": {"current": 4},
    }
    s = docker_stats(data)
    assert (s.cpu_ns, s.memory_used_bytes, s.memory_limit_bytes) == (2_500_000_000, 6_000, 100_000)
    assert s.memory_peak_bytes == 50_000
    assert (s.net_rx_bytes, s.net_tx_bytes, s.blk_read_bytes, s.blk_write_bytes) == (15, 1, 7, 5)
    assert s.pids == 4


def test_docker_stats_without_max_usage_has_no_peak():
    assert docker_stats({"memory_stats": {"usage": 1}}).memory_peak_bytes is None


def test_peak_reading_parses_or_says_unknown():
    assert parse_peak("123456\n") == 123456
    assert parse_peak("") is None


def test_docker_cpu_percent_is_of_one_cpu_between_the_two_samples():
    # 0.5 s of the container's CPU in 2 s of the host's two CPUs' time: half of one CPU.
    data = {
        "cpu_stats": {
            "cpu_usage": {"total_usage": 1_500_000_000},
            "system_cpu_usage": 12_000_000_000,
            "online_cpus": 2,
        },
        "precpu_stats": {
            "cpu_usage": {"total_usage": 1_000_000_000},
            "system_cpu_usage": 10_000_000_000,
        },
    }
    assert docker_cpu_percent(data) == pytest.approx(50.0)
    # A one-shot answer has no earlier sample to compare with.
    one_shot = {**data, "precpu_stats": {"cpu_usage": {"total_usage": 0}}}
    assert docker_cpu_percent(one_shot) is None


def test_total_sums_rows_and_takes_memory_percent_of_the_summed_limits():
    rows = [
        {"state": "running", "cpu_percent": 10.5, "memory_used_bytes": 100,
         "memory_limit_bytes": 1000, "net_rx_bytes": 1, "net_tx_bytes": 2,
         "blk_read_bytes": 3, "blk_write_bytes": 4, "pids": 2},
        {"state": "exited", "cpu_percent": 0.0, "memory_used_bytes": 0,
         "memory_limit_bytes": 1000, "net_rx_bytes": 0, "net_tx_bytes": 0,
         "blk_read_bytes": 0, "blk_write_bytes": 0, "pids": 0},
    ]  # fmt: skip
    sums = total(rows)
    assert (sums["cpu_percent"], sums["memory_used_bytes"], sums["memory_limit_bytes"]) == (
        10.5,
        100,
        2000,
    )
    assert (sums["memory_percent"], sums["running"], sums["pids"]) == (5.0, 1, 2)
    assert total([])["memory_percent"] == 0.0


def test_uptime_reads_engine_timestamps_with_nanoseconds():
    started = datetime.now(UTC) - timedelta(seconds=90)
    text = started.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"
    assert 89 <= (uptime_s(text) or 0) <= 95
    assert uptime_s("") is None
    assert uptime_s("garbage") is None


def test_run_input_refuses_bad_env_names_sizes_and_two_image_sources():
    with pytest.raises(ValidationError, match="shell variable"):
        RunInput(command="true", env={"A-B": "x"})
    with pytest.raises(ValidationError, match="not a size"):
        RunInput(command="true", memory_limit="lots")
    with pytest.raises(ValidationError, match="not both"):
        RunInput(command="true", image="busybox", purpose="python")
    defaults = RunInput(command="true")
    assert (defaults.network, defaults.wait, defaults.timeout) == ("none", True, None)


def test_cli_status_of_a_run_is_its_commands_and_a_running_one_succeeds(capsys):
    assert show({"ok": True, "operation": "run", "exit_code": 3, "timed_out": False}, True) == 3
    assert show({"ok": True, "operation": "run", "exit_code": None, "timed_out": True}, True) == 124
    assert show({"ok": True, "operation": "run", "run_id": "r-1", "state": "running"}, True) == 0
    capsys.readouterr()
