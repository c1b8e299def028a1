"""Long-running work benchmark: plain exec and job-end detection, next to the raw SDK, same run.

Usage: .venv/bin/python -m bench.bench_long [--engine docker|podman] [--n N]
Prints, per engine, medians in ms:
- exec round trip: tool `exec` vs the SDK's exec_run (ratio);
- job-end detection: a background `sleep 0.3` started, then one long-poll (`exec_poll`
  with wait) until the exit is seen; the figure is the lag after the 300 ms of sleep. The raw
  line is the SDK's own way to see an exec end (exec_run of `sleep 0.3`, minus 300 ms).
Session exec (exec with session=) is measured by bench/bench_sessions.py.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from bench.bench_core import IMAGE, _raw_client
from containers_tool import ContainersTool

SLEEP_S = 0.3


def _median_ms(fn: Callable[[], object], n: int) -> float:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def bench(engine: str, n: int) -> dict[str, float]:
    raw = _raw_client(engine)
    tool = ContainersTool(runtime=engine)
    raw_box = raw.containers.run(IMAGE, ["sleep", "infinity"], detach=True, init=True)
    box = str(tool.call("create", image=IMAGE)["container"])
    try:
        argv = ["/bin/sh", "-c", "true"]
        raw_box.exec_run(argv)
        tool.call("exec", container=box, command="true")
        raw_exec = _median_ms(lambda: raw_box.exec_run(argv), n)
        tool_exec = _median_ms(lambda: tool.call("exec", container=box, command="true"), n)

        def tool_job() -> None:
            job = tool.call("exec_background", container=box, command=f"sleep {SLEEP_S}")
            while tool.call("exec_poll", container=box, job_id=job["job_id"], wait=10)["running"]:
                pass

        def job_lag() -> float:
            # Time from the job's start call returning to the poll that sees its end.
            job = tool.call("exec_background", container=box, command=f"sleep {SLEEP_S}")
            start = time.perf_counter()
            while tool.call("exec_poll", container=box, job_id=job["job_id"], wait=10)["running"]:
                pass
            return (time.perf_counter() - start) * 1000 - SLEEP_S * 1000

        tool_job()
        lags = [job_lag() for _ in range(max(n // 4, 5))]
        raw_sleep = _median_ms(lambda: raw_box.exec_run(["sleep", str(SLEEP_S)]), max(n // 4, 5))
    finally:
        raw_box.remove(force=True)
        tool.close()
        raw.close()
    return {
        "exec_raw_ms": raw_exec,
        "exec_tool_ms": tool_exec,
        "job_end_lag_ms": statistics.median(lags),
        "raw_exec_end_lag_ms": raw_sleep - SLEEP_S * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=["docker", "podman"], action="append")
    parser.add_argument("--n", type=int, default=40)
    args = parser.parse_args()
    print(f"{'engine':8} {'metric':26} {'raw ms':>9} {'tool ms':>9} {'ratio':>7}")
    for engine in args.engine or ["docker", "podman"]:
        r = bench(engine, args.n)
        ratio = r["exec_tool_ms"] / r["exec_raw_ms"]
        print(
            f"{engine:8} {'exec round trip':26} {r['exec_raw_ms']:9.1f} "
            f"{r['exec_tool_ms']:9.1f} {ratio:6.2f}x"
        )
        print(
            f"{engine:8} {'job end seen after exit':26} {r['raw_exec_end_lag_ms']:9.1f} "
            f"{r['job_end_lag_ms']:9.1f}"
        )


if __name__ == "__main__":
    main()
