"""Operation handlers, one module per family; importing this package registers them all."""

from containers_tool.handlers import exec, files, health, jobs, lifecycle, preflight, snapshot

__all__ = ["exec", "files", "health", "jobs", "lifecycle", "preflight", "snapshot"]
