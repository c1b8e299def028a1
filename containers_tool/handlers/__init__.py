"""Operation handlers, one module per family; importing this package registers them all."""

from containers_tool.handlers import (
    agents,
    cache,
    exec,
    files,
    health,
    jobs,
    lifecycle,
    networks,
    preflight,
    run,
    shells,
    snapshot,
)
from containers_tool.registry import OPERATIONS

__all__ = [
    "OPERATIONS",
    "agents",
    "cache",
    "exec",
    "files",
    "health",
    "jobs",
    "lifecycle",
    "networks",
    "preflight",
    "run",
    "shells",
    "snapshot",
]
