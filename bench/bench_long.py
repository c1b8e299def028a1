"""Long-running work benchmark: plain exec and job-end detection, next to the raw SDK, same run.

Usage: .venv/bin/python -m bench.bench_long [--engine docker|podman] [--n N]
Prints, per engine, medians in ms, the tool/raw ratio, and the p10-p90 spread of each side:
- exec round trip: tool `exec` of `true` vs the SDK's exec_run of it;
- job end seen: from before `exec_background` of `sleep 0.2` until the `exec_poll(wait=10)`
  that reports its exit, vs the SDK's exec_run of the same `sleep 0.2` (create, start, read
  the stream to its end, inspect the exit code); the "after exit" line is both minus the sleep.
Samples of the two sides alternate, so a load change on the machine hits both. The load
average before each engine's run is printed to judge the noise.
Session exec (exec with session=) is measured by bench/bench_sessions.py.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from bench.common import IMAGE, load, raw_client, raw_run
from containers_tool import ContainersTool

SLEEP_S = 0.2


def _ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _paired(raw: Callable[[], object], tool: Callable[[], object], n: int) -> dict[str, float]:
    """Times `raw` and `tool` alternately n times each; returns medians and p10/p90."""
    raws: list[float] = []
    tools: list[float] = []
    for _ in range(n):
        raws.append(_ms(raw))
        tools.append(_ms(tool))
    out: dict[str, float] = {}
    for side, samples in (("raw", raws), ("tool", tools)):
        deciles = statistics.quantiles(samples, n=10)
        out |= {side: statistics.median(samples), f"{side}_p10": deciles[0]}
        out[f"{side}_p90"] = deciles[-1]
    return out


def bench(engine: str, n: int) -> dict[str, dict[str, float]]:
    """Runs both comparisons on one engine."""
    raw = raw_client(engine)
    tool = ContainersTool(runtime=engine)
    raw_box = raw_run(raw)
    box = str(tool.call("create", image=IMAGE)["container"])
    sleep_argv = ["sleep", str(SLEEP_S)]

    def tool_job() -> None:
        job = tool.call("exec_background", container=box, command=sleep_argv)
        while tool.call("exec_poll", container=box, job_id=job["job_id"], wait=10)["running"]:
            pass

    def raw_job() -> None:
        assert raw_box.exec_run(sleep_argv)[0] == 0

    try:
        raw_box.exec_run(["true"])  # warm both sides: first connections cost extra
        tool.call("exec", container=box, command="true")
        tool_job()
        exec_rt = _paired(
            lambda: raw_box.exec_run(["/bin/sh", "-c", "true"]),
            lambda: tool.call("exec", container=box, command="true"),
            n,
        )
        job_end = _paired(raw_job, tool_job, max(n // 2, 10))
    finally:
        raw_box.remove(force=True)
        tool.close()
        raw.close()
    return {"exec round trip": exec_rt, "job end seen": job_end}


def _row(engine: str, metric: str, r: dict[str, float], minus: float = 0.0) -> str:
    raw, tool = r["raw"] - minus, r["tool"] - minus
    spread = (
        f"{r['raw_p10'] - minus:6.1f}-{r['raw_p90'] - minus:<6.1f} "
        f"{r['tool_p10'] - minus:6.1f}-{r['tool_p90'] - minus:<6.1f}"
    )
    ratio = f"{tool / raw:6.2f}x" if raw > 0 else "     -"
    return f"{engine:8} {metric:22} {raw:8.1f} {tool:8.1f} {ratio} {spread}"


def main() -> None:
    """Prints the figures for each engine asked for (default both)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=["docker", "podman"], action="append")
    parser.add_argument("--n", type=int, default=40)
    args = parser.parse_args()
    print(
        f"{'engine':8} {'metric (median ms)':22} {'raw':>8} {'tool':>8} {'ratio':>7} "
        f"{'raw p10-p90':>13} {'tool p10-p90':>13}"
    )
    for engine in args.engine or ["docker", "podman"]:
        before = load()
        r = bench(engine, args.n)
        print(f"# {engine}: {before} before the run, {load()} after")
        print(_row(engine, "exec round trip", r["exec round trip"]))
        print(_row(engine, "job end seen", r["job end seen"]))
        print(_row(engine, "  after the 200 ms exit", r["job end seen"], SLEEP_S * 1000))


if __name__ == "__main__":
    main()
