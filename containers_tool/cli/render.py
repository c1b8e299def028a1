"""How the CLI prints envelopes: tables for humans, hints in command-line terms, exit statuses."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from functools import cache
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

#: Columns of `list`, in order; the name never shrinks (it is what a user types next).
LIST_COLUMNS = ("name", "status", "runtime", "purpose", "persistent", "image", "session_id")


@cache
def _vocabulary() -> tuple[frozenset[str], frozenset[str]]:
    from containers_tool.handlers import OPERATIONS

    fields = {f for spec in OPERATIONS.values() for f in spec.model.model_fields}
    return frozenset(OPERATIONS), frozenset(fields)


def cli_hint(text: str) -> str:
    """A hint written for tool calls, in command-line terms.

    "Call exec_poll with this job_id and wait: <seconds>" becomes
    "Run `containers-tool exec-poll` with this job_id and --wait <seconds>".
    """
    ops, fields = _vocabulary()

    def command(match: re.Match[str]) -> str:
        verb, op = match.group(1), match.group(2)
        if op not in ops:
            return match.group(0)
        run = "Run" if verb[0].isupper() else "run"
        return f"{run} `containers-tool {op.replace('_', '-')}`"

    def flag(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        if name not in fields:
            return match.group(0)
        option = "--" + name.replace("_", "-")
        return option if value in ("true", "True") else f"{option} {value}"

    text = re.sub(r"\b([Cc]all) ([a-z_]+)\b", command, text)
    return re.sub(r"\b([a-z_]+)(?::|=) ?(<[^>]+>|true|True|\"[^\"]*\"|[\w./-]+)", flag, text)


def cell(value: object) -> str:
    """One table cell: scalars as text, nested values as compact JSON."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def show_error(result: dict[str, Any]) -> int:
    """Prints a failure envelope to stderr; returns the exit status 1."""
    err = result.get("error") or {}
    field = f" (field {err['field']})" if err.get("field") else ""
    errors.print(
        f"[red]✗ {result.get('operation')}: {err.get('code')}[/]{field}: {err.get('message')}"
    )
    if err.get("hint"):
        errors.print(f"  [yellow]hint:[/] {cli_hint(str(err['hint']))}")
    return 1


def _rows_table(rows: list[dict[str, Any]]) -> Table:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    table = Table(*columns)
    for row in rows:
        table.add_row(*(cell(row.get(c)) for c in columns))
    return table


def show_generic(result: dict[str, Any]) -> None:
    """Key/value rows; a list of objects (jobs, networks, snapshots) becomes its own table."""
    table = Table(show_header=False, box=None, pad_edge=False)
    nested: list[tuple[str, list[dict[str, Any]]]] = []
    for key, value in result.items():
        if key in ("ok", "operation"):
            continue
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            nested.append((key, value))
        elif key == "hint":
            table.add_row("[bold]hint[/]", cli_hint(str(value)))
        else:
            table.add_row(f"[bold]{key}[/]", cell(value))
    console.print(table)
    for key, rows in nested:
        console.print(f"[bold]{key}[/]")
        console.print(_rows_table(rows))


def show_list(result: dict[str, Any]) -> None:
    """The containers, with their full names whatever the terminal width."""
    rows = result.get("containers") or []
    if not rows:
        console.print("No managed containers. Create one with: containers-tool create")
        return
    # Whole columns, in LIST_COLUMNS order, while they fit: a narrow terminal loses the
    # session and image columns, never a character of a name (`status NAME --json` has all).
    width = {c: max(len(c), *(len(cell(r.get(c))) for r in rows)) for c in LIST_COLUMNS}
    present: list[str] = []
    used = 1
    for column in (c for c in LIST_COLUMNS if any(c in r for r in rows)):
        if column != "name" and used + width[column] + 3 > console.width:
            continue
        present.append(column)
        used += width[column] + 3
    table = Table()
    for column in present:
        table.add_column(column, no_wrap=True, min_width=width[column])
    for row in rows:
        table.add_row(*(cell(row.get(c)) for c in present))
    console.print(table)
    for note in result.get("notes") or []:
        errors.print(f"[yellow]note:[/] {note}")


def show_preflight(result: dict[str, Any]) -> None:
    """The checks, with a fix for each failed one."""
    table = Table("check", "", "detail", "fix")
    for check in result.get("checks") or []:
        mark = "[green]✓[/]" if check["passed"] else "[red]✗[/]"
        if not check["passed"] and not check.get("required", True):
            mark = "[yellow]![/]"  # an optional feature or a limitation: `ready` stays true
        table.add_row(check["name"], mark, check["detail"], check.get("fix") or "")
    console.print(table)
    state = "[green]ready[/]" if result.get("ready") else "[red]not ready[/]"
    console.print(f"{state}: {result.get('runtime')} {result.get('version') or ''}")


def show_create(result: dict[str, Any]) -> None:
    """The new container, its provisioning steps and how to get a shell."""
    console.print(
        f"[green]✓[/] created [bold]{result['container']}[/] from {result['image']} "
        f"on {result['runtime']} (user {result['user']}, workdir {result['workdir']})"
    )
    for step in result.get("provisioning") or []:
        console.print(f"  {step['step']}: {step['status']} — {step['detail']}")
    console.print(f"  shell: [cyan]containers-tool shell {result['container']}[/]")


def show_exec(result: dict[str, Any]) -> None:
    """The command's own output, as it would print in a terminal."""
    sys.stdout.write(str(result.get("stdout") or ""))
    sys.stdout.flush()
    sys.stderr.write(str(result.get("stderr") or ""))
    if result.get("hint"):
        errors.print(f"[yellow]hint:[/] {cli_hint(str(result['hint']))}")


def show_destroyed(result: dict[str, Any]) -> None:
    """What destroy removed."""
    names = result.get("destroyed") or []
    console.print(f"destroyed: {', '.join(names)}" if names else "nothing to destroy")


RENDERERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "list": show_list,
    "preflight": show_preflight,
    "create": show_create,
    "exec": show_exec,
    "destroy": show_destroyed,
    "destroy_all": show_destroyed,
}


def show(result: dict[str, Any], as_json: bool) -> int:
    """Prints an envelope (a table, or JSON) and returns the exit status."""
    if as_json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    elif not result.get("ok"):
        return show_error(result)
    else:
        RENDERERS.get(str(result.get("operation")), show_generic)(result)
    if not result.get("ok"):
        return 1
    # A run's own command gets exec's status; a run still going (wait: false) is a success.
    if result.get("operation") == "exec" or (
        result.get("operation") in ("run", "run_result") and "exit_code" in result
    ):
        if result.get("timed_out"):
            return 124
        code = result.get("exit_code")
        return code if isinstance(code, int) else 1
    return 0
