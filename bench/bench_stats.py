"""stats benchmark: a whole session's sample of 10 containers, which should take well under 1 s.

Usage: .venv/bin/python -m bench.bench_stats [--engine docker|podman] [--containers N] [--n N]
Prints, per engine, the median and p90 in ms of `stats(session_id=...)` over a session of N
busybox containers (all sampled at once; CPU % over 0.2 s), called back to back and called
1.5 s apart (Docker's stats endpoint, the fallback where a container cannot run the sampling
exec, answers on its collector's one-second cycle: the pause shows whether anything still
waits for it), next to the same samples taken one container after another, and one `run` of
`true` end to end for reference.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import time

from bench.bench_core import IMAGE
from containers_tool import ContainersTool
from containers_tool.core import stats as sampling

TARGET_MS = 1000.0
PAUSE_S = 1.5


def _ms(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), statistics.quantiles(samples, n=10)[-1]


def bench(engine: str, containers: int, n: int) -> dict[str, tuple[float, float]]:
    """Times stats of one session of `containers` containers, in parallel and one by one."""
    session = f"bench-stats-{secrets.token_hex(3)}"
    tool = ContainersTool(runtime=engine, session_id=session)
    try:
        for _ in range(containers):
            made = tool.call("create", image=IMAGE)
            assert made["ok"], made
        parallel: list[float] = []
        spaced: list[float] = []
        serial: list[float] = []
        for _ in range(n):
            time.sleep(PAUSE_S)
            start = time.perf_counter()
            tool.call("stats", session_id=session)
            spaced.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            done = tool.call("stats", session_id=session)
            parallel.append((time.perf_counter() - start) * 1000)
            assert done["ok"], done
            assert done["count"] == containers, done
            workers, sampling.WORKERS = sampling.WORKERS, 1
            try:
                start = time.perf_counter()
                tool.call("stats", session_id=session)
                serial.append((time.perf_counter() - start) * 1000)
            finally:
                sampling.WORKERS = workers
        start = time.perf_counter()
        ran = tool.call("run", image=IMAGE, command="true")
        assert ran["ok"], ran
        run_ms = (time.perf_counter() - start) * 1000
    finally:
        tool.close()
    return {
        "parallel": _ms(parallel),
        "spaced": _ms(spaced),
        "serial": _ms(serial),
        "run": (run_ms, run_ms),
    }


def main() -> None:
    """Prints the figures for each engine asked for (default both)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=["docker", "podman"], action="append")
    parser.add_argument("--containers", type=int, default=10)
    parser.add_argument("--n", type=int, default=10)
    args = parser.parse_args()
    for engine in args.engine or ["docker", "podman"]:
        load = os.getloadavg()[0]
        r = bench(engine, args.containers, args.n)
        print(f"# {engine}: load average {load:.2f} on {os.cpu_count()} CPUs before the run")
        median, p90 = r["parallel"]
        verdict = "ok" if median < TARGET_MS else "OVER"
        print(
            f"{engine:8} stats of {args.containers} containers: median {median:7.1f} ms, "
            f"p90 {p90:7.1f} ms ({verdict}: target < {TARGET_MS:.0f} ms)"
        )
        print(f"{engine:8} called {PAUSE_S:g} s apart:      median {r['spaced'][0]:7.1f} ms")
        print(f"{engine:8} one container at a time:  median {r['serial'][0]:7.1f} ms")
        print(f"{engine:8} run of `true`, end to end: {r['run'][0]:7.1f} ms")


if __name__ == "__main__":
    main()
