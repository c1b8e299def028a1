"""stats on both engines: one container, a session with totals, and unknown names."""

from __future__ import annotations

from tests.integration.conftest import BUSYBOX, unique

FIELDS = {
    "container",
    "state",
    "uptime_s",
    "cpu_percent",
    "memory_used_bytes",
    "memory_limit_bytes",
    "memory_percent",
    "net_rx_bytes",
    "net_tx_bytes",
    "blk_read_bytes",
    "blk_write_bytes",
    "pids",
    "session_id",
}


def test_stats_of_one_container_reports_its_limit_and_processes(tool, raw):
    name = unique("st")
    made = tool.call("create", image=BUSYBOX, name=name, memory_limit="1g")  # a default tier
    assert made["ok"], made
    try:
        done = tool.call("stats", container=name)
        assert done["ok"], done
        [row] = done["containers"]
        assert set(row) == FIELDS
        assert (row["container"], row["state"]) == (name, "running")
        assert row["memory_limit_bytes"] == 2**30
        assert 0 < row["memory_used_bytes"] < row["memory_limit_bytes"]
        assert 0 < row["memory_percent"] < 100
        assert row["pids"] >= 1  # init and the keep-alive
        assert row["uptime_s"] >= 0
        assert done["count"] == 1
        assert done["total"]["memory_used_bytes"] == row["memory_used_bytes"]
    finally:
        tool.call("destroy", container=name)


def test_stats_of_a_session_samples_each_container_and_sums_them(tool):
    session = unique("s-stats")
    names = [unique("st") for _ in range(2)]
    for name in names:
        # Persistent: another session's ephemeral containers are not this tool's to see.
        made = tool.call("create", image=BUSYBOX, name=name, session_id=session, persistent=True)
        assert made["ok"], made
    try:
        busy = tool.call("exec_background", container=names[0], command="while :; do :; done")
        assert busy["ok"], busy
        done = tool.call("stats", session_id=session)
        assert done["ok"], done
        rows = {r["container"]: r for r in done["containers"]}
        assert set(rows) == set(names)
        assert {r["session_id"] for r in rows.values()} == {session}
        # A busy loop shows CPU use within the sample; an idle keep-alive hardly any.
        assert rows[names[0]]["cpu_percent"] > 5
        assert rows[names[0]]["cpu_percent"] > rows[names[1]]["cpu_percent"]
        total = done["total"]
        assert (done["count"], total["running"]) == (2, 2)
        for key in ("memory_used_bytes", "memory_limit_bytes", "pids"):
            assert total[key] == sum(r[key] for r in rows.values())
    finally:
        tool.call("destroy_all", confirm=True, session_id=session)


def test_stats_of_an_unknown_container_is_not_found(tool):
    done = tool.call("stats", container=unique("nope"))
    assert (done["error"]["code"], done["error"]["field"]) == ("not_found", "container")


def test_stats_of_an_empty_session_is_zero(tool):
    done = tool.call("stats", session_id=unique("s-empty"))
    assert (done["count"], done["containers"], done["total"]["cpu_percent"]) == (0, [], 0)
