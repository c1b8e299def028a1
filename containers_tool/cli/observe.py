"""`containers-tool reap` and `containers-tool metrics`: housekeeping and metrics for operators."""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console
from rich.table import Table

from containers_tool import metrics
from containers_tool.api import ContainersTool
from containers_tool.core import housekeeping
from containers_tool.errors import ToolError

COMMANDS = ("reap", "metrics")


def add_parsers(sub: argparse._SubParsersAction, json_flag: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    """Adds the `reap` and `metrics` subcommands."""
    sub.add_parser(
        "reap",
        parents=[json_flag],
        help="remove orphaned containers (their owner process died) and expired (idle) ones; "
        "print what was removed",
    )
    sub.add_parser("metrics", help="print the Prometheus metrics (containers_active, ...)")


def run(cmd: str, tool: ContainersTool, as_json: bool) -> int:
    """Runs one of COMMANDS with the CLI's tool; returns the exit status."""
    ctx = tool.context
    if cmd == "metrics":
        metrics.watch_context(ctx)
        sys.stdout.write(metrics.exposition().decode())
        return 0
    ctx.housekeeper = None  # no start-up sweep in the background: this one is in the foreground
    try:
        removed = [r.to_dict() for r in housekeeping.sweep(ctx)]
    except ToolError as exc:
        Console(stderr=True).print(f"[red]✗ reap: {exc.code}[/]: {exc.message}")
        return 1
    if as_json:
        print(json.dumps({"ok": True, "removed": removed, "count": len(removed)}, indent=2))
        return 0
    console = Console(highlight=False)
    if not removed:
        console.print("nothing to reap: no orphaned or expired containers")
        return 0
    table = Table("container", "session_id", "reason", "detail")
    for row in removed:
        table.add_row(*(str(row[k] or "") for k in ("container", "session_id", "reason", "detail")))
    console.print(table)
    return 0
