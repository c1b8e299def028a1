"""exec and exec_interactive_hint."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import replace

from containers_tool.context import Context, Ref
from containers_tool.core.shells import SHELL_ARGV
from containers_tool.dispatch import operation
from containers_tool.envelope import TRUNCATED_HINT
from containers_tool.errors import InvalidInputError
from containers_tool.handlers.lifecycle import INTERACTIVE_SHELL, connect_command
from containers_tool.handlers.shells import session_exec
from containers_tool.models.exec import ExecHintInput, ExecInput
from containers_tool.provision import plan as provision
from containers_tool.runtime.types import ExecRequest, ExecResult
from containers_tool.runtime.users import ROOT

#: Exit codes of an exec that never started (bad workdir, missing binary, OCI errors).
START_FAILED = frozenset({125, 126, 127})


def shell_argv(command: str | list[str]) -> list[str]:
    """A shell string runs under /bin/sh -c; an argv list runs as is, never re-split."""
    return ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)


def wrap_argv(ref: Ref, argv: Sequence[str]) -> list[str]:
    """Returns argv, through the env-file wrapper when the container has forwarded secrets."""
    return provision.wrap_argv(ref.envfile, argv)


def run(ctx: Context, container: str, req: ExecRequest) -> ExecResult:
    """Runs a request in a managed container, re-resolving once if the engine forgot it."""

    def start(ref: Ref) -> ExecResult:
        wrapped = replace(req, argv=wrap_argv(ref, req.argv)) if ref.envfile else req
        return ctx.runtime.exec_command(ref.id, wrapped)

    return ctx.using(container, start)


def _check_workdir(ctx: Context, container: str, workdir: str) -> None:
    """Refuses a workdir that is no directory: the engines report it only as exit 125-127
    with the OCI runtime's error in the output, which reads like the command's own failure.
    """
    ref = ctx.resolve(container)
    path = posixpath.join(ref.workdir or "/", workdir)
    stat = ctx.runtime.stat_path(ref.id, path)
    if stat is None or not stat.is_dir:
        what = "does not exist" if stat is None else "is not a directory"
        raise InvalidInputError(
            f"workdir {workdir!r} {what} in container {ref.name!r}.",
            hint="Pass an existing directory, or create it first (exec mkdir -p).",
            field="workdir",
        )


@operation("exec", ExecInput)
def exec_(args: ExecInput, ctx: Context) -> dict[str, object]:
    """Runs a command to completion; non-zero exit is data, a timeout kills it in the container."""
    if args.session is not None:  # issue 4: a persistent shell instead of a new process
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
        _check_workdir(ctx, args.container, args.workdir)
    payload: dict[str, object] = {
        "exit_code": result.exit_code,
        "stdout": result.stdout.text,
        "stderr": result.stderr.text,
        "timed_out": result.timed_out,
        "duration_ms": result.duration_ms,
        "truncated": result.stdout.truncated or result.stderr.truncated,
        "stdout_bytes": result.stdout.total_bytes,
        "stderr_bytes": result.stderr.total_bytes,
    }
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
    probe = run(
        ctx, args.container, ExecRequest(argv=["/bin/sh", "-c", "command -v bash"], timeout_s=10)
    )
    shell = "bash" if probe.exit_code == 0 else "sh"
    return {
        "command": connect_command(ctx, ref.name, ref.user or None, ref.workdir),
        "shell": shell,
        "user": ref.user,
        "workdir": ref.workdir,
        "note": f"Interactive {shell}; exit the shell to hand control back.",
    }


__all__ = ["INTERACTIVE_SHELL", "exec_", "exec_interactive_hint", "run", "shell_argv"]
