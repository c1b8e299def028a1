"""The engine-neutral values that cross the engine boundary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from containers_tool.envelope import Bounded


@dataclass(frozen=True, slots=True)
class EngineInfo:
    """What an engine says of itself."""

    name: str
    version: str
    api_version: str
    endpoint: str
    rootless: bool
    os: str = ""
    cgroup_version: str = ""
    #: CPUs of the engine's host, the most a container's limit may ask for; 0 when unknown.
    cpus: int = 0
    #: Where the engine stores images and containers, on the engine's host; "" when unknown.
    storage_root: str = ""
    #: Memory of the engine's host in bytes, the most a container's limit may ask for; 0 unknown.
    memory_bytes: int = 0
    #: Podman's network backend ("netavark", "cni") and its version; "" elsewhere or unknown.
    network_backend: str = ""
    network_backend_version: str = ""


#: How long an image build may stay silent (a quiet apt-get install of big packages on a busy
#: machine) before its stream counts as dead; the engines' client timeout (60 s) is for calls.
BUILD_SILENCE_S = 1800.0


@dataclass(frozen=True, slots=True)
class MountSpec:
    """A host path bind-mounted into a container."""

    source: str
    target: str
    read_only: bool = False


@dataclass(frozen=True, slots=True)
class PortSpec:
    """A published port; `host_port=None` lets the engine choose one."""

    container_port: int
    host_port: int | None = None
    protocol: str = "tcp"
    host_ip: str = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class PortBinding:
    """A published port as the engine reports it."""

    container_port: int
    protocol: str
    host_ip: str
    host_port: int


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """Everything needed to create a container; policy has already been applied."""

    name: str
    image: str
    command: Sequence[str] | None
    labels: Mapping[str, str]
    #: None keeps the image's ENTRYPOINT; an empty sequence clears it, so `command` runs as is.
    entrypoint: Sequence[str] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    workdir: str | None = None
    user: str | None = None
    #: The default user of execs when it differs from the main process's `user` (see users.py).
    exec_user: str | None = None
    mounts: Sequence[MountSpec] = ()
    ports: Sequence[PortSpec] = ()
    network: str | None = None
    memory_bytes: int | None = None
    nano_cpus: int | None = None
    pids_limit: int | None = None
    init: bool = True
    privileged: bool = False
    no_new_privileges: bool = True
    #: tmpfs mounts: path -> mount options (e.g. "mode=1777"); never part of a commit/snapshot.
    tmpfs: Mapping[str, str] = field(default_factory=dict)
    hostname: str | None = None
    #: The engine removes the container itself once PID 1 exits (one-shot runs).
    auto_remove: bool = False


@dataclass(frozen=True, slots=True)
class ContainerInfo:
    """A container as the engine reports it."""

    id: str
    name: str
    image: str
    state: str
    labels: Mapping[str, str]
    created: str = ""
    started_at: str = ""
    exit_code: int | None = None
    user: str = ""
    workdir: str = ""
    ports: Sequence[PortBinding] = ()
    mounts: Sequence[MountSpec] = ()
    networks: Sequence[str] = ()
    memory_bytes: int | None = None
    nano_cpus: int | None = None
    pids_limit: int | None = None
    privileged: bool = False
    env_names: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """An image as the engine reports it."""

    id: str
    tags: Sequence[str]
    labels: Mapping[str, str]
    size: int = 0
    created: str = ""
    #: The image config's environment (snapshots strip its values); empty in lists.
    env: Mapping[str, str] = field(default_factory=dict)
    #: The image config's WORKDIR ("" when unset or in lists).
    workdir: str = ""


@dataclass(frozen=True, slots=True)
class ContainerLogs:
    """A container's own output (its main command's), bounded per stream."""

    stdout: Bounded
    stderr: Bounded


@dataclass(frozen=True, slots=True)
class ExecRequest:
    """One command to run in a container. `argv` is never re-split by a shell."""

    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    workdir: str | None = None
    user: str | None = None
    timeout_s: float | None = None
    output_limit: int = 16_000


@dataclass(frozen=True, slots=True)
class ExecResult:
    """How a command ended. `exit_code=None` means unknown (e.g. killed on timeout), never 0."""

    exit_code: int | None
    stdout: Bounded
    stderr: Bounded
    timed_out: bool
    duration_ms: int
    #: The kill did not end the output stream, so this side closed it: a process of the
    #: command may still be running in the container.
    abandoned: bool = False


@dataclass(frozen=True, slots=True)
class NetworkInfo:
    """A network as the engine reports it; `containers` maps attached container names to IPs."""

    id: str
    name: str
    driver: str
    internal: bool
    labels: Mapping[str, str]
    containers: Mapping[str, str] = field(default_factory=dict)
    subnets: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class PathStat:
    """What the engine says about a path inside a container (symlinks followed).

    Attributes:
        is_link: The path itself is a symlink (the other fields are its target's).
    """

    name: str
    is_dir: bool
    size: int
    is_link: bool = False


@dataclass(frozen=True, slots=True)
class NetworkIsolation:
    """How an engine keeps the tool's networks apart, and what still crosses.

    Attributes:
        options: Driver options the adapter gives every bridge network it creates; compose
            networks of a stack get them too, so they are as isolated as the tool's own.
        default_isolated: Whether the engine's default network is cut off from the tool's
            networks; when not, containers that ask for no network join the tool's own default.
        others_reach_in: Whether containers on networks the tool did not make (the engine's
            default one included) can open connections into the tool's networks.
        internal_reaches_host: Whether a container on an internal network still reaches the
            host itself (at the network's gateway address).
        default_shared: Whether containers that ask for no network share one network across
            sessions and tenants, where they can connect to each other.
        gap: "" when nothing crosses; else what does, and why.
        fix: What makes the gap go away.
    """

    options: Mapping[str, str]
    default_isolated: bool
    others_reach_in: bool = False
    internal_reaches_host: bool = False
    default_shared: bool = False
    gap: str = ""
    fix: str = ""


@dataclass(frozen=True, slots=True)
class VolumeInfo:
    """A named volume as the engine reports it."""

    name: str
    labels: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ContainerStats:
    """One sample of a running container's resource counters (cumulative since it started).

    Attributes:
        cpu_ns: CPU time used by all its processes, in nanoseconds.
        memory_used_bytes: Memory in use now, page cache that can be dropped left out.
        memory_limit_bytes: Its memory limit (the host's memory when it has none).
        memory_peak_bytes: The most memory it ever used; None when not asked for or unknown.
        net_rx_bytes: Bytes received on all its interfaces.
        net_tx_bytes: Bytes sent on all its interfaces.
        blk_read_bytes: Bytes read from block devices.
        blk_write_bytes: Bytes written to block devices.
        pids: Processes and threads in it now.
        cpu_percent: CPU use over the window asked for (100 = one CPU); None when not asked
            for or not measurable.
    """

    cpu_ns: int
    memory_used_bytes: int
    memory_limit_bytes: int
    memory_peak_bytes: int | None = None
    net_rx_bytes: int = 0
    net_tx_bytes: int = 0
    blk_read_bytes: int = 0
    blk_write_bytes: int = 0
    pids: int = 0
    cpu_percent: float | None = None
