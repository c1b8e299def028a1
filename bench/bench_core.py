"""Core benchmark: exec, create+destroy (root and mapped user), first create, crowding.

Usage: .venv/bin/python -m bench.bench_core [--engine docker|podman] [--execs N] [--creates N]
    [--crowd N]
Prints, per engine, medians in ms of the tool and the raw SDK doing the same thing, sampled
alternately in one run, and their ratio:
- exec `true`: tool `exec` vs the SDK's exec_run;
- create + destroy: vs run detached with init and the same memory/CPU/pids limits, then
  remove(force); again with user="1000:1000" (the raw run gets that user);
- first create of a new tool instance: a new ContainersTool's first create vs a new SDK
  client's first run;
- crowding: tool create+destroy with --crowd other sessions' containers on the engine vs none
  (target 1.0: nothing may grow with unrelated containers);
- warm pool: create from a full pool (setting `pool`) vs the raw run (target <= 50 ms).
Where the tool puts a container that asks for no network somewhere else than the engine's
default network (Podman: the isolated `ct-default`, since Podman's own network reaches the
tool's others), the create and crowding figures are given again with the raw run on that same
network: the difference between the two rows is the engine's cost of that network, not the
tool's. A mapped user's create writes HOME, the passwd entry and the workdir's owner in one
archive; the row "raw writes HOME too" adds that same archive PUT to the raw side.
"""

from __future__ import annotations

import argparse
import functools
from typing import Any

from bench.common import (
    HEADER,
    IMAGE,
    load,
    median,
    ms,
    paired,
    raw_client,
    raw_put,
    raw_run,
    row,
    timed,
    tool_network,
)
from containers_tool import ContainersTool
from containers_tool.settings import Settings

__all__ = ["IMAGE", "bench", "raw_client"]


def _cycle(tool: ContainersTool, **fields: Any) -> None:
    made = tool.call("create", image=IMAGE, **fields)
    assert made["ok"], made
    tool.call("destroy", container=made["container"])


def _raw_cycle(raw: Any, **extra: Any) -> None:
    raw_run(raw, **extra).remove(force=True)


#: What a tool create for user 1000:1000 writes in its one archive (busybox has no such user).
_MAPPED_HOME: dict[str, bytes | None] = {
    "/workspace": None,
    "/home/ct": None,
    "/etc/passwd": b"root:x:0:0:root:/root:/bin/sh\nct:x:1000:1000::/home/ct:/bin/sh\n",
}


def _raw_mapped_cycle(raw: Any, **extra: Any) -> None:
    box = raw_run(raw, user="1000:1000", **extra)
    raw_put(box, _MAPPED_HOME, uid=1000)
    box.remove(force=True)


def bench(
    engine: str, execs: int, creates: int, crowd: int
) -> list[tuple[str, float | None, float]]:
    """Runs every figure on one engine; returns (figure, raw median, tool median) rows."""
    raw = raw_client(engine)
    tool = ContainersTool(runtime=engine)
    rows: list[tuple[str, float | None, float]] = []
    raw_box = raw_run(raw)
    box = str(tool.call("create", image=IMAGE)["container"])
    net = tool_network(raw, box)
    try:
        argv = ["/bin/sh", "-c", "true"]
        raw_box.exec_run(argv)  # first connections cost extra: warm both sides
        tool.call("exec", container=box, command="true")
        r, t = paired(
            lambda: raw_box.exec_run(argv),
            lambda: tool.call("exec", container=box, command="true"),
            execs,
        )
        rows.append(("exec `true`", median(r), median(t)))
        _cycle(tool)
        _raw_cycle(raw)
        r, t = paired(lambda: _raw_cycle(raw), lambda: _cycle(tool), creates)
        rows.append(("create + destroy", median(r), median(t)))
        r, t = paired(
            lambda: _raw_cycle(raw, user="1000:1000"),
            lambda: _cycle(tool, user="1000:1000"),
            creates,
        )
        rows.append(("create + destroy, user 1000:1000", median(r), median(t)))
        if net:
            r, t = paired(lambda: _raw_cycle(raw, network=net), lambda: _cycle(tool), creates)
            rows.append((f"create + destroy, raw on {net}", median(r), median(t)))
            r, t = paired(
                lambda: _raw_cycle(raw, user="1000:1000", network=net),
                lambda: _cycle(tool, user="1000:1000"),
                creates,
            )
            rows.append((f"same, user 1000:1000, raw on {net}", median(r), median(t)))
        on_net = {"network": net} if net else {}
        r, t = paired(
            lambda: _raw_mapped_cycle(raw, **on_net),
            lambda: _cycle(tool, user="1000:1000"),
            creates,
        )
        rows.append(("same, user 1000:1000, raw writes HOME too", median(r), median(t)))
        r, t = _first_create_pairs(engine, max(creates // 2, 3))
        rows.append(("first create of a new tool instance", median(r), median(t)))
        if net:
            r, t = _first_create_pairs(engine, max(creates // 2, 3), network=net)
            rows.append((f"first create, raw on {net}", median(r), median(t)))
        if crowd:
            rows += _crowding(engine, raw, tool, creates, crowd, net)
        pooled = _pool(engine, raw, creates)
        if pooled is not None:
            rows.append(pooled)
    finally:
        raw_box.remove(force=True)
        tool.close()
        raw.close()
    return rows


def _first_create_pairs(engine: str, n: int, **extra: Any) -> tuple[list[float], list[float]]:
    """A new SDK client's first run vs a new tool instance's first create (connect included)."""
    raws: list[float] = []
    tools: list[float] = []
    for _ in range(n):
        took, (client, box) = timed(lambda: _fresh_raw(engine, **extra))
        raws.append(took)
        box.remove(force=True)
        client.close()
        fresh = ContainersTool(runtime=engine)
        tools.append(ms(functools.partial(fresh.call, "create", image=IMAGE)))
        fresh.close()  # removes the session's container
    return raws, tools


def _fresh_raw(engine: str, **extra: Any) -> tuple[Any, Any]:
    client = raw_client(engine)
    return client, raw_run(client, **extra)


def _crowding(
    engine: str, raw: Any, tool: ContainersTool, n: int, crowd: int, net: str | None
) -> list[tuple[str, float | None, float]]:
    """Tool and raw create+destroy without and with `crowd` other sessions' containers.

    The raw side runs alongside (on the tool's network too, when that is not the engine's
    default: the others sit there), so a growth the engine itself shows (which the tool cannot
    avoid) is told apart from one the tool adds.
    """
    other = ContainersTool(runtime=engine, session_id="h15-bench-crowd")
    extra = {"network": net} if net else {}
    try:
        raw_alone, alone = paired(lambda: _raw_cycle(raw, **extra), lambda: _cycle(tool), n)
        for _ in range(crowd):
            assert other.call("create", image=IMAGE)["ok"]
        raw_crowded, crowded = paired(lambda: _raw_cycle(raw, **extra), lambda: _cycle(tool), n)
    finally:
        other.call("destroy_all", confirm=True, session_id="h15-bench-crowd")
        other.close()
    where = f" on {net}" if net else ""
    return [
        (f"tool create+destroy, none vs {crowd} others", median(alone), median(crowded)),
        (
            f"raw create+destroy{where}, none vs {crowd} others",
            median(raw_alone),
            median(raw_crowded),
        ),
    ]


def _pool(engine: str, raw: Any, n: int) -> tuple[str, float, float] | None:
    if "pool" not in Settings.model_fields:
        return None
    pooled = ContainersTool(Settings(runtime=engine, pool={IMAGE: 2}))
    try:
        samples_raw: list[float] = []
        samples_tool: list[float] = []
        for _ in range(n):
            assert pooled.context.pool is not None
            pooled.context.pool.wait_full()  # untimed: the pool refills between creates
            took, made = timed(functools.partial(pooled.call, "create", image=IMAGE))
            samples_tool.append(took)
            assert made["ok"], made
            pooled.call("destroy", container=made["container"])
            took, box = timed(functools.partial(raw_run, raw))
            samples_raw.append(took)
            box.remove(force=True)
    finally:
        pooled.close()
    return ("create from a warm pool (raw: run only)", median(samples_raw), median(samples_tool))


def main() -> None:
    """Prints the figures for each engine asked for (default both)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=["docker", "podman"], action="append")
    parser.add_argument("--execs", type=int, default=40)
    parser.add_argument("--creates", type=int, default=8)
    parser.add_argument("--crowd", type=int, default=50)
    args = parser.parse_args()
    print(HEADER)
    for engine in args.engine or ["docker", "podman"]:
        print(f"# {engine}: {load()} before the run")
        for figure, raw, tool in bench(engine, args.execs, args.creates, args.crowd):
            print(row(engine, figure, raw, tool))
        print(f"# {engine}: {load()} after the run")


if __name__ == "__main__":
    main()
