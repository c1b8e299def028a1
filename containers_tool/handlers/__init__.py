"""Operation handlers, one module per family; importing this package registers them all."""

from containers_tool.handlers import (
    cache,
    compose,  # issue 5
    exec,
    files,
    health,  # issue 4
    jobs,
    lifecycle,
    networks,  # issue 5
    preflight,
    sessions,  # issue 4
    snapshot,  # issue 4
)

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
