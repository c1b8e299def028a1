"""Command line for humans: one subcommand per operation, the shell handoff, the MCP server.

Operation subcommands are generated from the OPERATIONS registry (see cli/args.py), so an
operation added later appears here without a change. Results print as tables; `--json` prints
the raw envelope for scripts. Exit status: 0 on success, 1 on a tool error, and for `exec` and
a finished `run` the command's own exit status (124 when it timed out).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from containers_tool import logs
from containers_tool.api import ContainersTool
from containers_tool.cli import args as cli_args
from containers_tool.cli import observe
from containers_tool.cli.engines import Parser, list_all_engines
from containers_tool.cli.render import console, errors, show
from containers_tool.cli.render import show_error as _show_error
from containers_tool.cli.render import show_preflight as _show_preflight
from containers_tool.envelope import fail
from containers_tool.errors import InvalidInputError
from containers_tool.mcp.sessions import DEFAULT_IDLE_TIMEOUT_S
from containers_tool.mcp.sessions import idle_timeout as mcp_idle_timeout
from containers_tool.runtime.backends import runtime_choices

BUILTINS = ("quickstart", "shell", "mcp", "call", "schema", *observe.COMMANDS)
CLI_SESSION = "cli"


def _tool(runtime: str | None, session: str | None = None) -> ContainersTool:
    # CLI calls are separate processes: containers they create must outlive each call. They
    # share the "cli" session unless told to act in another (to take over an agent's container).
    overrides: dict[str, Any] = {"runtime": runtime} if runtime else {}
    return ContainersTool(session_id=session or CLI_SESSION, reap_on_exit=False, **overrides)


def run_operation(tool: ContainersTool, op: str, fields: dict[str, Any], as_json: bool) -> int:
    """Runs one operation with a progress spinner (humans only) and prints its result."""
    if as_json or not errors.is_terminal:
        result = tool.call(op, **fields)
    else:
        with errors.status(f"{op}…") as spinner:
            # Purpose-image builds take a while: show each build step as it streams.
            def progress(line: str) -> None:
                if line.startswith("Step ") or line.startswith("STEP "):
                    errors.print(f"  [dim]build {line}[/]")
                spinner.update(f"{op}: {line[:70]}")

            tool.context.on_build_line = progress
            try:
                result = tool.call(op, **fields)
            finally:
                tool.context.on_build_line = None
    return show(result, as_json)


def quickstart(tool: ContainersTool) -> int:
    """preflight → create → exec → handoff hint → destroy, printed for a newcomer."""
    console.rule("[bold]containers-tool quick start")
    console.print(
        "An agent drives containers through one tool call, containers(operation=...).\n"
        "Here is the whole life of one container, as an agent would run it.\n"
    )
    pre = tool.call("preflight")
    if not pre.get("ok") or not pre.get("ready"):
        console.print("[red]The engine is not ready:[/]")
        _show_preflight(pre)
        return 1
    console.print(
        f"1. [bold]preflight[/] — is an engine there? [green]yes[/]: "
        f"{pre['runtime']} {pre['version']}"
    )
    with errors.status("creating a container…"):
        made = tool.call("create")
    if not made.get("ok"):
        return _show_error(made)
    name = str(made["container"])
    console.print(
        f"2. [bold]create[/] — an isolated container: [bold]{name}[/] from {made['image']}, "
        f"running as {made['user']} in {made['workdir']}"
    )
    try:
        command = "echo hello from $(hostname); uname -sr"
        ran = tool.call("exec", container=name, command=command)
        if not ran.get("ok"):
            return _show_error(ran)
        console.print(
            f"3. [bold]exec[/] — run a command: [cyan]{command}[/] → exit {ran['exit_code']} "
            f"in {ran['duration_ms']} ms"
        )
        for line in str(ran["stdout"]).strip().splitlines():
            console.print(f"   [dim]{line}[/]")
        hint = tool.call("exec_interactive_hint", container=name)
        console.print(
            "4. [bold]exec_interactive_hint[/] — a human takes over with "
            f"[cyan]containers-tool shell {name}[/], which runs:\n   [cyan]{hint.get('command')}[/]"
        )
    finally:
        gone = tool.call("destroy", container=name)
        console.print(f"5. [bold]destroy[/] — removed {', '.join(gone.get('destroyed') or [])}")  # type: ignore[arg-type]
    console.print(
        "\n[green]Done.[/] Next: [cyan]containers-tool --help[/] for every operation, "
        "[cyan]containers-tool mcp[/] to serve agents, README.md for the Python API."
    )
    return 0


def shell(tool: ContainersTool, name: str, as_json: bool) -> int:
    """Replaces this process with the engine's interactive shell in container `name`."""
    hint = tool.call("exec_interactive_hint", container=name)
    if not hint.get("ok"):
        return show(hint, as_json)
    argv = shlex.split(str(hint["command"]))
    tool.close()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvp(argv[0], argv)  # noqa: S606 - the handoff: the engine's own CLI takes over
    except OSError as exc:
        errors.print(f"[red]✗ cannot run {argv[0]}:[/] {exc.strerror}")
        errors.print(f"  [yellow]hint:[/] install the {argv[0]} CLI, or run: {hint['command']}")
        return 127
    return 0  # pragma: no cover - execvp does not return


def _schema(args: argparse.Namespace) -> int:
    from containers_tool.formats import render
    from containers_tool.schema import schema_text, write_schema

    if args.write:
        write_schema(args.write)
        console.print(f"wrote {args.write}")
    elif args.format == "json-schema":
        sys.stdout.write(schema_text())
    else:
        print(json.dumps(render(args.format), indent=2, ensure_ascii=False))
    return 0


def _call(tool: ContainersTool, text: str) -> int:
    """Runs one raw call; anything that is not a JSON object gets the tool's invalid_input."""
    try:
        payload = json.loads(sys.stdin.read() if text == "-" else text)
    except json.JSONDecodeError as exc:
        bad = InvalidInputError(
            f"The call is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.",
            hint='Pass one JSON object, e.g. \'{"operation": "list"}\' (or - to read stdin).',
            field=None,
        )
        return show(fail("unknown", bad), True)
    # The dispatcher refuses a non-object (an array, a string, ...) with a structured error.
    return show(tool.call_dict(payload), True)


def _settings_error(exc: ValidationError) -> int:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    errors.print(f"[red]✗ settings:[/] {where}: {first['msg']}")
    errors.print("  [yellow]hint:[/] fix the CONTAINERS_TOOL_* variables or the config YAML.")
    return 2


def _subcommand_name(op: str) -> str:
    return op.replace("_", "-")


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, dict[str, str]]]:
    """Returns the parser and, per generated subcommand, its fields' kinds."""
    from containers_tool.formats import FORMATS
    from containers_tool.handlers import OPERATIONS
    from containers_tool.schema import build_schema

    build_schema()  # imports the handlers, which registers every operation
    parser = Parser(
        prog="containers-tool",
        description="Isolated Docker/Podman containers for agents and the humans beside them.",
    )
    parser.add_argument("--json", action="store_true", help="print raw JSON envelopes")
    parser.add_argument("--runtime", choices=runtime_choices(), help="backend to use")
    parser.add_argument(
        "--as-session",
        metavar="SESSION_ID",
        help="act in this session (default: cli), e.g. to reach an agent's ephemeral containers",
    )
    sub = parser.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    json_flag = Parser(add_help=False)
    json_flag.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the raw JSON envelope"
    )

    sub.add_parser("quickstart", help="preflight, create, exec, handoff hint, destroy")
    p = sub.add_parser("shell", parents=[json_flag], help="interactive shell in a container")
    p.add_argument("container", metavar="CONTAINER")
    p = sub.add_parser("mcp", help="serve the tool over MCP (stdio, or --http on 127.0.0.1)")
    p.add_argument("--http", action="store_true", help="streamable HTTP on 127.0.0.1")
    p.add_argument("--port", type=int, default=8765, help="HTTP port (0: any free one)")
    p.add_argument("--session-id", help="session to own (default: a fresh one)")
    p.add_argument(
        "--tenant", help="tenant to serve; it sees nothing of others (default: the setting)"
    )
    p.add_argument(
        "--idle-timeout",
        type=mcp_idle_timeout,
        default=DEFAULT_IDLE_TIMEOUT_S,
        metavar="SECONDS",
        help="HTTP: end an MCP session (and remove its containers) after this long idle",
    )
    p = sub.add_parser("call", help="run one raw tool call given as JSON ('-' reads stdin)")
    p.add_argument("arguments", help='e.g. \'{"operation": "list"}\'')
    p = sub.add_parser("schema", help="print tool-schema.json or another format, or write it")
    p.add_argument("--write", type=Path, nargs="?", const=Path("tool-schema.json"))
    p.add_argument("--format", choices=FORMATS, default="json-schema")
    observe.add_parsers(sub, json_flag)

    kinds: dict[str, dict[str, str]] = {}
    for op in sorted(OPERATIONS):
        name = _subcommand_name(op)
        if name in BUILTINS or op in BUILTINS:
            continue  # a built-in wins; `call` still reaches the operation
        model = OPERATIONS[op].model
        doc = " ".join((model.__doc__ or op).split())
        # argparse %-formats help (`%(prog)s`): a literal "CPU %" would break --help.
        doc = doc.replace("%", "%%")
        aliases = [op] if op != name else []
        p = sub.add_parser(
            name,
            aliases=aliases,
            parents=[json_flag],
            help=doc,
            description=doc,
            allow_abbrev=False,  # `exec NAME ls --a` must not mean --as-root
        )
        p.set_defaults(operation=op)
        kinds[op] = cli_args.add_fields(p, model)
    return parser, kinds


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `containers-tool` console script."""
    parser, kinds = build_parser()
    words = sys.argv[1:] if argv is None else argv
    args, extras = parser.parse_known_args(words)
    if args.cmd == "schema":
        return _schema(args)
    if args.cmd == "mcp":
        from containers_tool.mcp.server import serve

        overrides = {"runtime": args.runtime} if args.runtime else {}
        if args.tenant:
            overrides["tenant"] = args.tenant
        try:
            return serve(
                http=args.http,
                port=args.port,
                session_id=args.session_id,
                idle_timeout=args.idle_timeout,
                **overrides,
            )
        except ValidationError as exc:
            return _settings_error(exc)
        except InvalidInputError as exc:
            errors.print(f"[red]✗ mcp:[/] {exc.message}\n  [yellow]hint:[/] {exc.hint}")
            return 2
    op = getattr(args, "operation", None)
    fields: dict[str, Any] = {}
    command = next(
        (f for f, k in kinds.get(op or "", {}).items() if k == cli_args.KIND_COMMAND), None
    )
    if command is not None:
        setattr(args, command, extras[1:] if extras[:1] == ["--"] else extras)
    elif extras:
        parser.error(f"unrecognized arguments: {' '.join(extras)}")
    if op is not None:
        try:
            fields = cli_args.collect(args, kinds[op])
        except ValueError as exc:
            parser.error(str(exc))
    try:
        tool = _tool(args.runtime, args.as_session)
    except ValidationError as exc:
        return _settings_error(exc)
    except InvalidInputError as exc:  # a malformed --as-session
        errors.print(f"[red]✗ {exc.message}[/]\n  [yellow]hint:[/] {exc.hint}")
        return 2
    logs.configure(tool.settings)
    with tool:
        if args.cmd in observe.COMMANDS:
            return observe.run(args.cmd, tool, args.json)
        if args.cmd == "quickstart":
            return quickstart(tool)
        if args.cmd == "shell":
            return shell(tool, args.container, args.json)
        if args.cmd == "call":
            return _call(tool, args.arguments)
        if op == "list" and not args.runtime:
            return show(list_all_engines(tool, fields), args.json)
        return run_operation(tool, str(op), fields, args.json)
