"""exec and exec_interactive_hint."""

from __future__ import annotations

from containers_tool.context import Context
from containers_tool.core.containers import connect_command
from containers_tool.core.exec import (
    START_FAILED,
    check_workdir,
    result_payload,
    run,
    session_exec,
    shell_argv,
    wrap_argv,
)
from containers_tool.core.shells import SHELL_ARGV
from containers_tool.envelope import TRUNCATED_HINT
from containers_tool.models.exec import ExecHintInput, ExecInput
from containers_tool.registry import operation
from containers_tool.runtime.types import ExecRequest
from containers_tool.runtime.users import ROOT


@operation("exec", ExecInput)
def exec_(args: ExecInput, ctx: Context) -> dict[str, object]:
    """Runs a command to completion; non-zero exit is data, a timeout kills it in the container."""
    if args.session is not None:  # a persistent shell instead of a new process
        ref = ctx.resolve(args.container)
        return session_exec(args, ctx, ref, wrap_argv(ref, SHELL_ARGV))
    timeout = min(args.timeout or ctx.settings.exec_timeout, ctx.settings.max_exec_timeout)
    req = ExecRequest(
        argv=shell_argv(args.command),
        env=args.env,
        workdir=args.workdir,
        user=ROOT if args.as_root else None,
        timeout_s=timeout,
        output_limit=args.max_output or ctx.settings.output_limit,
    )
    result = run(ctx, args.container, req)
    if args.workdir and result.exit_code in START_FAILED:
        check_workdir(ctx, args.container, args.workdir)
    payload = result_payload(result)
    if result.abandoned:
        payload["hint"] = (
            f"Timed out after {timeout:g}s, but killing it failed, so a process of it may still "
            "be running: check with exec (ps), or destroy the container."
        )
    elif result.timed_out:
        payload["hint"] = (
            f"Killed after {timeout:g}s with its child processes; pass a larger timeout "
            "or run it in the background."
        )
    elif payload["truncated"]:
        payload["hint"] = TRUNCATED_HINT
    return payload


@operation("exec_interactive_hint", ExecHintInput)
def exec_interactive_hint(args: ExecHintInput, ctx: Context) -> dict[str, object]:
    """Returns the line a human pastes to get a shell, as the mapped user in the workdir."""
    ref = ctx.resolve(args.container)
    # The same lookup the connect command makes (bash, else sh, on the exec user's PATH), so
    # the path named here is the program a human gets.
    probe = run(
        ctx,
        args.container,
        ExecRequest(argv=["/bin/sh", "-c", "command -v bash || command -v sh"], timeout_s=10),
    )
    found = probe.stdout.text.strip().splitlines()
    shell = found[0] if probe.exit_code == 0 and found and found[0].startswith("/") else "/bin/sh"
    return {
        "command": connect_command(ctx, ref.name, ref.user or None, ref.workdir),
        "shell": shell,
        "user": ref.user,
        "workdir": ref.workdir,
        "note": f"Interactive {shell.rsplit('/', 1)[-1]} ({shell}); exit it to hand control back.",
    }
