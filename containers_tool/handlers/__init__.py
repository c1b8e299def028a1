"""Operation handlers, one module per family; importing this package registers them all."""

from containers_tool.core import compose
from containers_tool.handlers import (
    cache,
    exec,
    files,
    health,
    jobs,
    lifecycle,
    networks,
    preflight,
    snapshot,
)
from containers_tool.handlers import shells as sessions

__all__ = [
    "cache",
    "compose",
    "exec",
    "files",
    "health",
    "jobs",
    "lifecycle",
    "networks",
    "preflight",
    "sessions",
    "snapshot",
]
