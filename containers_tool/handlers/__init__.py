"""Operation handlers, one module per family; importing this package registers them all."""

from containers_tool.handlers import exec, files, jobs, lifecycle, preflight

__all__ = ["exec", "files", "jobs", "lifecycle", "preflight"]
