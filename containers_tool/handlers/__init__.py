"""Operation handlers, one module per family; importing this package registers them all."""

from containers_tool.handlers import (
    compose,  # issue 5
    exec,
    files,
    health,
    jobs,
    lifecycle,
    networks,  # issue 5
    preflight,
    sessions,  # issue 4
    snapshot,
)

__all__ = [
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
