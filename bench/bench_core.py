"""Core benchmark: the tool's exec round trip and create+destroy next to the raw SDK, same run.

Usage: .venv/bin/python -m bench.bench_core [--engine docker|podman] [--execs N] [--creates N]
Prints, per engine, medians in ms and the tool/raw ratio (target ≤ 1.1x; destroy < 1 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from containers_tool import ContainersTool
from containers_tool.runtime.discovery import discover
from containers_tool.settings import Settings

IMAGE = "localhost/base/busybox:latest"
REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("CONTAINERS_TOOL_CONFIG", str(REPO / "config" / "local-bases.yaml"))


def _raw_client(engine: str) -> Any:
    # The endpoint the tool discovers, so both sides of a ratio talk to the same engine.
    settings = Settings(runtime=engine)
    url = discover(engine, settings.docker_host, settings.podman_host).url
    if engine == "docker":
        import docker

        return docker.DockerClient(base_url=url)
    import podman

    return podman.PodmanClient(base_url=url)


def _median_ms(fn: Callable[[], object], n: int) -> float:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def bench(engine: str, execs: int, creates: int) -> dict[str, float]:
    raw = _raw_client(engine)
    tool = ContainersTool(runtime=engine)
    raw_box = raw.containers.run(IMAGE, ["sleep", "infinity"], detach=True, init=True)
    box = str(tool.call("create", image=IMAGE)["container"])
    try:
        argv = ["/bin/sh", "-c", "true"]
        # Interleave warm-ups so neither side pays first-connection costs in the figures.
        raw_box.exec_run(argv)
        tool.call("exec", container=box, command="true")
        raw_exec = _median_ms(lambda: raw_box.exec_run(argv), execs)
        tool_exec = _median_ms(lambda: tool.call("exec", container=box, command="true"), execs)

        def raw_cycle() -> None:
            c = raw.containers.run(IMAGE, ["sleep", "infinity"], detach=True, init=True)
            c.remove(force=True)

        def tool_cycle() -> None:
            made = tool.call("create", image=IMAGE)
            tool.call("destroy", container=made["container"])

        raw_create = _median_ms(raw_cycle, creates)
        tool_create = _median_ms(tool_cycle, creates)
        made = tool.call("create", image=IMAGE)
        start = time.perf_counter()
        tool.call("destroy", container=made["container"])
        destroy_ms = (time.perf_counter() - start) * 1000
    finally:
        raw_box.remove(force=True)
        tool.close()
        raw.close()
    return {
        "exec_raw_ms": raw_exec,
        "exec_tool_ms": tool_exec,
        "exec_ratio": tool_exec / raw_exec,
        "create_destroy_raw_ms": raw_create,
        "create_destroy_tool_ms": tool_create,
        "create_destroy_ratio": tool_create / raw_create,
        "destroy_ms": destroy_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=["docker", "podman"], action="append")
    parser.add_argument("--execs", type=int, default=40)
    parser.add_argument("--creates", type=int, default=8)
    args = parser.parse_args()
    print(f"{'engine':8} {'metric':22} {'raw ms':>9} {'tool ms':>9} {'ratio':>7}")
    for engine in args.engine or ["docker", "podman"]:
        r = bench(engine, args.execs, args.creates)
        print(
            f"{engine:8} {'exec round trip':22} {r['exec_raw_ms']:9.1f} "
            f"{r['exec_tool_ms']:9.1f} {r['exec_ratio']:6.2f}x"
        )
        print(
            f"{engine:8} {'create+destroy':22} {r['create_destroy_raw_ms']:9.1f} "
            f"{r['create_destroy_tool_ms']:9.1f} {r['create_destroy_ratio']:6.2f}x"
        )
        print(f"{engine:8} {'destroy alone':22} {'':>9} {r['destroy_ms']:9.1f}")


if __name__ == "__main__":
    main()
