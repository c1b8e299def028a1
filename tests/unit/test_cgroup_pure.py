"""Reading a container's counters from its own cgroup: the script's output, v1 and v2, parsed."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from containers_tool.runtime.cgroup import (
    SCRIPT,
    block_io,
    memory_limit,
    memory_used,
    network_io,
    parse_stats,
    sections,
    stats_request,
)

NETDEV = """\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    5000      50    0    0    0     0          0         0     5000      50    0    0    0     0       0          0
  eth0:   31522     172    0    0    0     0          0         0     2814      31    0    0    0     0       0          0
  eth1:     866      11    0    0    0     0          0         0      100       2    0    0    0     0       0          0
"""  # noqa: E501

# Printed by the script in a debian:12 container (dash) on Docker 20.10, cgroup v1 (cgroupfs),
# with a 256 MiB limit, after a 20 MB file was written to /tmp (page cache). This machine's
# storage reports no block rows ("Total 0"): those were written by hand, in the kernel's format.
V1 = """\
@pids
2
@usage
21807104
@limit
268435456
@peak
23965696
@memstat
cache 20103168
rss 229376
rss_huge 0
shmem 0
mapped_file 36864
dirty 0
writeback 0
workingset_refault_anon 0
workingset_refault_file 46
swap 0
swapcached 0
pgpgin 2546
pgpgout 2427
pgfault 3137
pgmajfault 4
inactive_anon 102400
active_anon 8192
inactive_file 20045824
active_file 57344
unevictable 0
hierarchical_memory_limit 268435456
hierarchical_memsw_limit 536870912
total_cache 20103168
total_rss 229376
total_rss_huge 0
total_shmem 0
total_mapped_file 36864
total_dirty 0
total_writeback 0
total_workingset_refault_anon 0
total_workingset_refault_file 46
total_swap 0
total_swapcached 0
total_pgpgin 2546
total_pgpgout 2427
total_pgfault 3137
total_pgmajfault 4
total_inactive_anon 102400
total_active_anon 8192
total_inactive_file 20045824
total_active_file 57344
total_unevictable 0
@blkio
8:0 Read 4096
8:0 Write 1048576
8:0 Sync 1052672
8:0 Async 0
8:0 Discard 0
8:0 Total 1052672
253:1 Read 4096
253:1 Write 1048576
253:1 Total 1052672
Total 2105344
@netdev
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
  eth0:     796      10    0    0    0     0          0         0        0       0    0    0    0     0       0          0
@meminfo
MemTotal:       24683568 kB
@cpu0
124854408
@uptime0
57997.20 109071.53
@cpu1
127703728
@uptime1
57997.40 109071.91
"""  # noqa: E501

# What the script prints on cgroup v2 (kernel 6.1, a cgroup namespace, no memory limit): the
# files at /sys/fs/cgroup are the container's own; cpu.stat is in microseconds.
V2 = (
    """\
@pids
5
@usage
33554432
@limit
max
@peak
41943040
@memstat
anon 29360128
file 3145728
kernel 589824
kernel_stack 49152
pagetables 131072
sec_pagetables 0
percpu 480
sock 0
vmalloc 8192
shmem 0
file_mapped 0
file_dirty 0
file_writeback 0
swapcached 0
anon_thp 0
inactive_anon 29335552
active_anon 24576
inactive_file 2097152
active_file 1048576
unevictable 0
slab_reclaimable 126000
slab_unreclaimable 145000
slab 271000
pgfault 7890
@iostat
259:0 rbytes=1736704 wbytes=12288 rios=45 wios=3 dbytes=0 dios=0
253:0 rbytes=2000 wbytes=8000 rios=1 wios=2 dbytes=0 dios=0
@netdev
"""
    + NETDEV
    + """\
@meminfo
MemTotal:        8039424 kB
@cpu0
usage_usec 2458901
user_usec 2100000
system_usec 358901
core_sched.force_idle_usec 0
nr_periods 0
nr_throttled 0
throttled_usec 0
nr_bursts 0
burst_usec 0
@uptime0
1200.50 2300.10
@cpu1
usage_usec 2558901
user_usec 2190000
system_usec 368901
nr_periods 0
nr_throttled 0
throttled_usec 0
@uptime1
1200.70 2300.40
"""
)


def test_v1_sample_reads_every_counter_as_the_endpoint_would():
    s = parse_stats(V1, 0.2)
    assert s is not None
    assert s.cpu_ns == 127_703_728  # the later reading
    # 2.85 ms of CPU in 0.2 s of uptime.
    assert s.cpu_percent == pytest.approx((127_703_728 - 124_854_408) / 0.2e9 * 100)
    # Hierarchical inactive file cache (the 20 MB file) is left out, as `docker stats` does.
    assert s.memory_used_bytes == 21_807_104 - 20_045_824
    assert s.memory_limit_bytes == 256 * 2**20
    assert s.memory_peak_bytes == 23_965_696
    assert s.pids == 1  # sleep, less the script's own shell
    assert (s.blk_read_bytes, s.blk_write_bytes) == (8192, 2 * 1_048_576)
    assert (s.net_rx_bytes, s.net_tx_bytes) == (796, 0)


def test_v2_sample_reads_microseconds_io_stat_and_an_unlimited_memory_max():
    s = parse_stats(V2, 0.2)
    assert s is not None
    assert s.cpu_ns == 2_558_901_000
    assert s.cpu_percent == pytest.approx(50.0)  # 0.1 s of CPU in 0.2 s of uptime
    assert s.memory_used_bytes == 33_554_432 - 2_097_152
    assert s.memory_limit_bytes == 8_039_424 * 1024  # "max": the host's memory
    assert s.memory_peak_bytes == 41_943_040
    assert s.pids == 4
    assert (s.blk_read_bytes, s.blk_write_bytes) == (1_738_704, 20_288)
    assert (s.net_rx_bytes, s.net_tx_bytes) == (32_388, 2914)


def test_v2_without_memory_peak_says_the_peak_is_unknown():
    text = V2.replace("@peak\n41943040\n", "")
    s = parse_stats(text, 0.2)
    assert s is not None
    assert s.memory_peak_bytes is None


def test_one_reading_without_a_window_has_cpu_time_and_no_percent():
    head = V1.split("@cpu1")[0]
    s = parse_stats(head, 0.0)
    assert s is not None
    assert (s.cpu_ns, s.cpu_percent) == (124_854_408, None)
    # A window was asked but the second reading is missing (no `sleep`): no percent either.
    s = parse_stats(head, 0.2)
    assert s is not None
    assert s.cpu_percent is None


def test_a_zero_uptime_gap_counts_as_the_window():
    # /proc/uptime ticks in 10 ms: both readings may fall in one tick.
    text = V2.replace("1200.70 2300.40", "1200.50 2300.40")
    s = parse_stats(text, 0.2)
    assert s is not None
    assert s.cpu_percent == pytest.approx(50.0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        'OCI runtime exec failed: exec failed: unable to start container process: exec: "/bin/sh":'
        " stat /bin/sh: no such file or directory: unknown\r\n",
        "@pids\n1\n@netdev\n" + NETDEV,  # no cgroup files readable: no memory or CPU
        V1.replace("@usage\n21807104", "@usage\n… [12 bytes omitted] …"),
    ],
)
def test_output_without_memory_or_cpu_is_none_so_the_caller_falls_back(text):
    assert parse_stats(text, 0.2) is None


@pytest.mark.parametrize(
    ("limit", "host", "configured", "expected"),
    [
        ("536870912", 24 * 2**30, 0, 512 * 2**20),
        ("9223372036854771712", 24 * 2**30, 0, 24 * 2**30),  # v1's "none", 4 KiB pages
        ("9223372036854710272", 24 * 2**30, 0, 24 * 2**30),  # 64 KiB pages
        ("max", 8 * 2**30, 0, 8 * 2**30),
        ("max", 0, 2**30, 2**30),  # host unknown: the limit it was created with
        ("max", 0, 0, 0),
        ("68719476736", 8 * 2**30, 0, 8 * 2**30),  # capped at the host, as Docker does
    ],
)
def test_memory_limit_is_the_cgroup_limit_else_the_host_memory(limit, host, configured, expected):
    assert memory_limit(limit, host, configured) == expected


def test_memory_used_drops_inactive_file_cache_only_when_smaller_than_usage():
    assert memory_used(10_000, {"total_inactive_file": 4_000, "inactive_file": 1}) == 6_000
    assert memory_used(10_000, {"inactive_file": 4_000}) == 6_000
    assert memory_used(10_000, {"total_inactive_file": 20_000}) == 10_000
    assert memory_used(10_000, {}) == 10_000


def test_network_io_leaves_out_loopback_and_reads_names_run_into_numbers():
    assert network_io(NETDEV.splitlines()) == (32_388, 2914)
    squeezed = ["  eth0:3518784996   74642 0 0 0 0 0 0 4271936 44207 0 0 0 0 0 0"]
    assert network_io(squeezed) == (3_518_784_996, 4_271_936)
    assert network_io(None) == (0, 0)
    # --network none: only lo, as the engine reports no networks at all.
    assert network_io(NETDEV.splitlines()[:3]) == (0, 0)


def test_block_io_sums_read_and_write_rows_over_devices():
    rows = ["8:0 Read 10", "8:0 Write 20", "8:0 Total 30", "8:16 Read 1", "Total 31"]
    assert block_io(rows, None) == (11, 20)
    assert block_io(None, ["8:0 rbytes=5 wbytes=6 rios=1 wios=1", "8:16 rbytes=1"]) == (6, 6)
    assert block_io(["Total 0"], None) == (0, 0)


def test_sections_split_on_headings_and_ignore_text_before_the_first():
    assert sections("noise\n@a\n1\n2\n@b\n@c\nx\n") == {"a": ["1", "2"], "b": [], "c": ["x"]}


def test_request_runs_the_script_as_root_with_the_window_as_its_argument():
    req = stats_request(0.2)
    assert list(req.argv[:3]) == ["/bin/sh", "-c", SCRIPT]
    assert req.argv[-1] == "0.200"
    assert req.user == "0:0"
    assert stats_request(0).argv[-1] == "0"
    # The output is small, but a cut would lose sections: the limit is far above it.
    assert req.output_limit >= 2**20


def test_script_forks_no_reader_before_its_counters_are_read():
    # A forked cat or command substitution would be counted in the pids and memory.
    assert "$(" not in SCRIPT
    assert "`" not in SCRIPT
    assert "cat " not in SCRIPT


@pytest.mark.parametrize("shell", [["dash"], ["busybox", "sh"]])
def test_script_is_posix_sh_that_dash_and_busybox_parse(shell):
    if shutil.which(shell[0]) is None:
        pytest.skip(f"{shell[0]} is not installed here")
    done = subprocess.run([*shell, "-n", "-c", SCRIPT], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
