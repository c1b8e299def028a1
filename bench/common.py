"""Shared bench helpers: the raw SDK client, interleaved paired timing, the machine's load.

Every figure is a ratio against the raw SDK doing the same thing in the same run: the two
sides alternate sample by sample, so a load change on a shared machine hits both, and the
medians are compared. The load average is printed with each run to judge the noise.
"""

from __future__ import annotations

import io
import os
import statistics
import tarfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from containers_tool.runtime.discovery import discover
from containers_tool.settings import Settings

T = TypeVar("T")
IMAGE = "localhost/base/busybox:latest"
REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("CONTAINERS_TOOL_CONFIG", str(REPO / "config" / "local-bases.yaml"))
# Benches make more containers at once (a crowd of 50) than a tenant's default quota allows:
# their own tenant, with room, so they never compete with the user's containers.
os.environ.setdefault("CONTAINERS_TOOL_TENANT", "bench")
os.environ.setdefault("CONTAINERS_TOOL_MAX_CONTAINERS_PER_TENANT", "1000")
#: Limits the tool gives a container by default (settings), so the raw side pays for them too.
MEMORY = "2g"
NANO_CPUS = 2_000_000_000
PIDS = 1024


def raw_client(engine: str) -> Any:
    """The engine's SDK client on the endpoint the tool discovers (both sides, one engine)."""
    settings = Settings(runtime=engine)
    url = discover(engine, settings.docker_host, settings.podman_host).url
    if engine == "docker":
        import docker

        return docker.DockerClient(base_url=url)
    import podman

    return podman.PodmanClient(base_url=url)


def raw_run(client: Any, image: str = IMAGE, **extra: Any) -> Any:
    """The raw twin of a tool create: detached, with init and the same limits."""
    if type(client).__module__.startswith("podman"):  # podman-py ignores nano_cpus
        cpu: dict[str, int] = {"cpu_quota": NANO_CPUS // 10_000, "cpu_period": 100_000}
    else:
        cpu = {"nano_cpus": NANO_CPUS}
    return client.containers.run(
        image,
        ["sleep", "infinity"],
        detach=True,
        init=True,
        mem_limit=MEMORY,
        pids_limit=PIDS,
        **cpu,
        **extra,
    )


def tool_network(raw: Any, container: str) -> str | None:
    """The network a tool container joined, when it is not the engine's default network."""
    attached = raw.containers.get(container).attrs.get("NetworkSettings", {}).get("Networks")
    names = [n for n in attached or {} if n not in ("bridge", "podman")]
    return names[0] if names else None


def raw_put(box: Any, entries: Mapping[str, bytes | None], uid: int = 0) -> None:
    """One archive PUT at / of files (bytes) and directories (None) owned by `uid`.

    The raw twin of the one archive a tool create writes (HOME, passwd, forwarded files), for
    rows that show what the tool adds beyond that write.
    """
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, data in entries.items():
            info = tarfile.TarInfo(path.lstrip("/"))
            info.uid = info.gid = uid
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    if type(box).__module__.startswith("podman"):
        # The tool writes through Podman's Docker-compatible endpoint (it keeps owners); the
        # libpod one that podman-py's put_archive uses is slower.
        done = box.client.put(
            f"/containers/{box.id}/archive",
            params={"path": "/"},
            data=buf.getvalue(),
            compatible=True,
        )
        done.raise_for_status()
    else:
        box.put_archive("/", buf.getvalue())


def ms(fn: Callable[[], object]) -> float:
    """Milliseconds `fn` takes."""
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Milliseconds `fn` takes, and what it returned."""
    start = time.perf_counter()
    out = fn()
    return (time.perf_counter() - start) * 1000, out


def paired(
    raw: Callable[[], object], tool: Callable[[], object], n: int
) -> tuple[list[float], list[float]]:
    """Times `raw` and `tool` alternately, n samples each."""
    raws: list[float] = []
    tools: list[float] = []
    for i in range(n):
        # Alternate which side goes first too: a side never always follows the other.
        if i % 2:
            tools.append(ms(tool))
            raws.append(ms(raw))
        else:
            raws.append(ms(raw))
            tools.append(ms(tool))
    return raws, tools


def median(samples: list[float]) -> float:
    """The median of the samples."""
    return statistics.median(samples)


def load() -> str:
    """The 1-minute load average and CPU count, for the header of a run."""
    return f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"


HEADER = f"{'engine':7} {'figure':44} {'raw ms':>8} {'tool ms':>8} {'ratio':>7}"


def row(engine: str, figure: str, raw: float | None, tool: float) -> str:
    """One line of a figures table (raw None: an absolute figure)."""
    if raw is None:
        return f"{engine:7} {figure:44} {'':>8} {tool:8.1f} {'':>7}"
    return f"{engine:7} {figure:44} {raw:8.1f} {tool:8.1f} {tool / raw:6.2f}x"
