"""Purpose benchmark: cold build and warm create of a test purpose next to a raw SDK create.

Usage: .venv/bin/python -m bench.bench_purposes [--engine docker|podman] [--creates N]
The warm create includes everything create(purpose=...) does (cache lookup, HOME/CA/git files,
the purpose probe); the raw figure is the SDK's run of the same cached image, on the network the
tool's container joined. When the host has a ~/.gitconfig the tool forwards it in one archive
PUT, which the raw run does not do: "raw+PUT" is the raw run followed by that same PUT, and
"no git" is the warm create with forward_git=false (nothing to write) against the plain raw run.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import load, raw_client, raw_put, raw_run, tool_network
from containers_tool import ContainersTool
from containers_tool.settings import Settings

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("CONTAINERS_TOOL_CONFIG", str(REPO / "config" / "local-bases.yaml"))


def bench(engine: str, creates: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as purposes:
        marker = secrets.token_hex(4)
        Path(purposes, "b-purpose.yaml").write_text(
            "name: b-purpose\ndescription: bench\nimage: localhost/base/busybox:latest\n"
            f"setup: ['echo {marker} > /etc/bench']\nprobe: test -s /etc/bench\n",
            encoding="utf-8",
        )
        tool = ContainersTool(Settings(runtime=engine, purposes_dir=purposes))
        raw = raw_client(engine)
        try:
            start = time.perf_counter()
            cold = tool.call("create", purpose="b-purpose")
            cold_ms = (time.perf_counter() - start) * 1000
            assert cold["cache_used"] is False, cold
            net = tool_network(raw, str(cold["container"]))
            on_net = {"network": net} if net else {}
            tool.call("destroy", container=cold["container"])
            tag = str(cold["image"])
            gitconfig = Path.home() / ".gitconfig"
            forwarded = {"/root/.gitconfig": gitconfig.read_bytes()} if gitconfig.is_file() else {}
            warm: list[float] = []
            plain: list[float] = []
            put: list[float] = []
            bare: list[float] = []
            for _ in range(creates):
                for fields, samples in (({}, warm), ({"forward_git": False}, bare)):
                    start = time.perf_counter()
                    made = tool.call("create", purpose="b-purpose", **fields)
                    samples.append((time.perf_counter() - start) * 1000)
                    assert made["cache_used"] is True, made
                    tool.call("destroy", container=made["container"])
                start = time.perf_counter()
                c = raw_run(raw, tag, **on_net)
                plain.append((time.perf_counter() - start) * 1000)
                c.remove(force=True)
                start = time.perf_counter()
                c = raw_run(raw, tag, **on_net)
                if forwarded:
                    raw_put(c, forwarded)
                put.append((time.perf_counter() - start) * 1000)
                c.remove(force=True)
            tool.call("cache_clear", purpose="b-purpose")
        finally:
            tool.close()
            raw.close()
    warm_ms, raw_ms, put_ms, bare_ms = (statistics.median(s) for s in (warm, plain, put, bare))
    return {
        "cold_ms": cold_ms,
        "warm_ms": warm_ms,
        "raw_ms": raw_ms,
        "ratio": warm_ms / raw_ms,
        "put_ms": put_ms,
        "put_ratio": warm_ms / put_ms,
        "bare_ms": bare_ms,
        "bare_ratio": bare_ms / raw_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=["docker", "podman"], action="append")
    parser.add_argument("--creates", type=int, default=6)
    args = parser.parse_args()
    print(
        f"{'engine':8} {'cold build+create':>18} {'warm create':>12} {'raw':>9} {'ratio':>7}"
        f" {'raw+PUT':>9} {'ratio':>7} {'no git':>8} {'ratio':>7}"
    )
    for engine in args.engine or ["docker", "podman"]:
        print(f"# {engine}: {load()} before the run")
        r = bench(engine, args.creates)
        print(
            f"{engine:8} {r['cold_ms']:16.0f}ms {r['warm_ms']:10.0f}ms {r['raw_ms']:9.0f}ms "
            f"{r['ratio']:6.2f}x {r['put_ms']:7.0f}ms {r['put_ratio']:6.2f}x"
            f" {r['bare_ms']:6.0f}ms {r['bare_ratio']:6.2f}x"
        )


if __name__ == "__main__":
    main()
