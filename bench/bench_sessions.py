"""Session benchmark: `exec` with session= through the full tool vs the SDK's exec_run, same run.

Usage: .venv/bin/python -m bench.bench_sessions [--engine docker|podman] [--n N]
Prints, per engine, p50 and p90 in ms of a `true` round trip:
- raw exec: the SDK's exec_run (a new engine exec per command);
- tool exec: `exec` without session (the same, plus validation, dispatch and envelope);
- bare persistent shell: `true; echo <marker>` written to one long-lived `sh` attached through
  the same engine connection the tool uses, read back to the marker (the floor of a session);
- tool session exec: `exec` with session= (one persistent shell; target p50 <= 2x the bare
  shell).
Samples of the bare shell and the session exec alternate.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from bench.common import IMAGE, load, raw_client, raw_run
from containers_tool import ContainersTool
from containers_tool.runtime.backends import get_runtime
from containers_tool.runtime.capabilities import Shell, require
from containers_tool.runtime.protocol import ShellChannel
from containers_tool.settings import Settings


def _samples_ms(fn: Callable[[], object], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _bare(channel: ShellChannel) -> None:
    channel.send(b"true; echo __ct_bench\n")
    seen = b""
    while b"__ct_bench\n" not in seen:
        frame = channel.recv(10.0)
        assert frame is not None, "the bare shell did not answer"
        seen += frame[1]


def _p(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def bench(engine: str, n: int) -> dict[str, list[float]]:
    raw = raw_client(engine)
    tool = ContainersTool(runtime=engine)
    raw_box = raw_run(raw)
    box = str(tool.call("create", image=IMAGE)["container"])
    try:
        argv = ["/bin/sh", "-c", "true"]
        # Warm-ups: first connections, and the session's shell start (reported separately).
        raw_box.exec_run(argv)
        tool.call("exec", container=box, command="true")
        opened = tool.call("exec", container=box, command="true", session="bench")
        assert opened["session_started"] is True, opened
        raw_exec = _samples_ms(lambda: raw_box.exec_run(argv), n)
        tool_exec = _samples_ms(lambda: tool.call("exec", container=box, command="true"), n)
        runtime = require(get_runtime(Settings(runtime=engine)), Shell, "bench")
        channel = runtime.open_shell(raw_box.id, ["/bin/sh"], env={}, user=None, workdir=None)
        _bare(channel)
        bare: list[float] = []
        session: list[float] = []
        for _ in range(n * 5):
            bare += _samples_ms(lambda: _bare(channel), 1)
            session += _samples_ms(
                lambda: tool.call("exec", container=box, command="true", session="bench"), 1
            )
        channel.close()
        runtime.close()
        tool.call("close_session", container=box, session="bench")
        start = _samples_ms(
            lambda: (
                tool.call("exec", container=box, command="true", session="bench"),
                tool.call("close_session", container=box, session="bench"),
            ),
            max(n // 4, 5),
        )
    finally:
        raw_box.remove(force=True)
        tool.close()
        raw.close()
    return {
        "raw exec_run": raw_exec,
        "tool exec": tool_exec,
        "bare persistent shell": bare,
        "tool session exec": session,
        "session open+close": start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=["docker", "podman"], action="append")
    parser.add_argument("--n", type=int, default=40)
    args = parser.parse_args()
    print(f"{'engine':8} {'round trip of `true`':22} {'p50 ms':>8} {'p90 ms':>8} {'vs raw':>8}")
    for engine in args.engine or ["docker", "podman"]:
        before = load()
        figures = bench(engine, args.n)
        print(f"# {engine}: {before} before the run, {load()} after")
        raw_p50 = statistics.median(figures["raw exec_run"])
        for label, samples in figures.items():
            p50 = statistics.median(samples)
            print(f"{engine:8} {label:22} {p50:8.2f} {_p(samples, 90):8.2f} {p50 / raw_p50:7.2f}x")
        bare, sess = (
            statistics.median(figures[k]) for k in ("bare persistent shell", "tool session exec")
        )
        print(f"{engine:8} {'session vs bare shell':22} {'':8} {'':8} {sess / bare:7.2f}x")


if __name__ == "__main__":
    main()
