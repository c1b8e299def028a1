"""Command line: the quick start, preflight, the raw tool call, and schema generation."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from containers_tool.api import ContainersTool

console = Console(highlight=False)


def _tool() -> ContainersTool:
    # CLI calls are separate processes: containers they create must outlive each call.
    return ContainersTool(session_id="cli", reap_on_exit=False)


def _show(result: dict[str, object], as_json: bool) -> int:
    if as_json:
        print(json.dumps(result, indent=2))
    elif result.get("ok"):
        console.print_json(data=result)
    else:
        err: Any = result.get("error") or {}
        console.print(f"[red]✗ {err.get('code')}[/]: {err.get('message')}")
        if err.get("hint"):
            console.print(f"  [yellow]hint:[/] {err['hint']}")
    return 0 if result.get("ok") else 1


def quickstart(tool: ContainersTool) -> int:
    """preflight → create → exec → handoff hint → destroy, printed for a newcomer."""
    console.rule("[bold]containers-tool quick start")
    pre = tool.call("preflight")
    if not pre.get("ok") or not pre.get("ready"):
        console.print("[red]The engine is not ready:[/]")
        for check in pre.get("checks", []) or []:  # type: ignore[attr-defined]
            mark = "[green]✓[/]" if check["passed"] else "[red]✗[/]"
            console.print(f"  {mark} {check['name']}: {check['detail']}  {check['fix']}")
        return 1
    console.print(f"1. preflight: [green]ready[/] — {pre['runtime']} {pre['version']}")
    made = tool.call("create")
    if not made.get("ok"):
        return _show(made, False)
    name = str(made["container"])
    console.print(f"2. create: [bold]{name}[/] from {made['image']} (user {made['user']})")
    try:
        ran = tool.call("exec", container=name, command="echo hello from $(hostname); uname -sr")
        if not ran.get("ok"):
            return _show(ran, False)
        console.print(f"3. exec: exit {ran['exit_code']} in {ran['duration_ms']} ms")
        console.print(f"   [dim]{str(ran['stdout']).strip()}[/]")
        hint = tool.call("exec_interactive_hint", container=name)
        console.print(f"4. a human takes over with:\n   [cyan]{hint.get('command')}[/]")
    finally:
        gone = tool.call("destroy", container=name)
        console.print(f"5. destroy: {gone.get('destroyed')}")
    console.print("[green]Done.[/] Agents call containers(operation=...); see README.md.")
    return 0


def _list(tool: ContainersTool, as_json: bool) -> int:
    result = tool.call("list")
    if as_json or not result.get("ok"):
        return _show(result, as_json)
    table = Table("name", "status", "image", "session", "persistent", "created")
    for row in result["containers"]:  # type: ignore[attr-defined]
        table.add_row(
            row["name"],
            row["status"],
            row["image"],
            str(row["session_id"]),
            str(row["persistent"]),
            str(row["created"]),
        )
    console.print(table)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `containers-tool` console script."""
    parser = argparse.ArgumentParser(prog="containers-tool", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print raw JSON envelopes")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("quickstart", help="preflight, create, exec, handoff hint, destroy")
    sub.add_parser("preflight", help="check the engine")
    sub.add_parser("list", help="list managed containers")
    call = sub.add_parser("call", help="run one raw tool call given as JSON")
    call.add_argument("arguments", help='e.g. \'{"operation": "list"}\'')
    schema = sub.add_parser("schema", help="print or write tool-schema.json")
    schema.add_argument("--write", type=Path, nargs="?", const=Path("tool-schema.json"))
    args = parser.parse_args(argv)

    if args.cmd == "schema":
        from containers_tool.schema import schema_text, write_schema

        if args.write:
            write_schema(args.write)
            console.print(f"wrote {args.write}")
        else:
            sys.stdout.write(schema_text())
        return 0
    with _tool() as tool:
        if args.cmd == "quickstart":
            return quickstart(tool)
        if args.cmd == "preflight":
            return _show(tool.call("preflight"), args.json)
        if args.cmd == "list":
            return _list(tool, args.json)
        try:
            payload = json.loads(args.arguments)
        except json.JSONDecodeError as exc:
            console.print(f"[red]not JSON:[/] {exc}")
            return 2
        return _show(tool.call_dict(payload), True)
    return 0
