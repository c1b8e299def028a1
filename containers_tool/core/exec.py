"""Exec in a managed container: argv, the env-file wrapper, re-resolve, shells."""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Sequence
from dataclasses import replace

from containers_tool.context import Context, Ref
from containers_tool.core.shells import Session, SessionResult, env_prefix
from containers_tool.envelope import TRUNCATED_HINT
from containers_tool.errors import InvalidInputError, NotFoundError, ToolError
from containers_tool.models.exec import ExecInput
from containers_tool.provision import plan as provision
from containers_tool.runtime.capabilities import Shell
from containers_tool.runtime.types import ExecRequest, ExecResult
from containers_tool.runtime.users import ROOT

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def session_exec(
    args: ExecInput, ctx: Context, ref: Ref, shell: Sequence[str]
) -> dict[str, object]:
    """Runs `args.command` in the named shell session of `ref`, opening it on first use.

    Args:
        args: The exec input; `session` is set.
        ctx: The tool's context.
        ref: The resolved container.
        shell: The shell's argv, already through the env-file wrapper.

    Raises:
        InvalidInputError: An env name is no shell variable, or as_root differs from the session's.
        ConflictError: The session is running another command, or the container is stopped.
        QuotaExceededError: The container has too many sessions.
    """
    name = str(args.session)
    session, new = _open_session(args, ctx, ref, shell)
    timeout = min(args.timeout or ctx.settings.exec_timeout, ctx.settings.max_exec_timeout)
    command = args.command if isinstance(args.command, str) else shlex.join(args.command)
    limit = args.max_output or ctx.settings.output_limit
    try:
        result = session.run(env_prefix(args.env, args.workdir) + command, timeout, limit)
    except NotFoundError:
        ctx.sessions.close_container(ref.id)
        if ctx.refresh(args.container).id == ref.id:  # not_found when the name is gone
            raise
        # Another process replaced the container: the shell (its cwd, its variables) is gone.
        raise NotFoundError(
            f"Session {name!r} ended: container {ref.name!r} was replaced by a new one.",
            hint="exec again with session= to open a new session in the new container.",
            field="session",
        ) from None
    except ToolError:
        if new:
            ctx.sessions.close(ref.id, name)
        raise
    payload = result_payload(result)
    payload.update(
        session=name,
        cwd=result.cwd,
        session_started=result.started,
        session_restarted=result.restarted,
    )
    if result.timed_out:
        payload["hint"] = (
            f"Killed after {timeout:g}s with everything the session had started; the session "
            f"restarted in {result.cwd} with its variables reset. Pass a larger timeout or use "
            "exec_background."
        )
    elif result.restarted:
        payload["hint"] = (
            "The session's shell itself ended (set -e, exec, or kill of the shell); a fresh one "
            f"runs in {result.cwd}, with variables, functions and venv activation reset."
        )
    elif payload["truncated"]:
        payload["hint"] = TRUNCATED_HINT
    return payload


def _open_session(
    args: ExecInput, ctx: Context, ref: Ref, shell: Sequence[str]
) -> tuple[Session, bool]:
    """Returns the named session (and whether it is new), refusing env names and user changes."""
    name = str(args.session)
    bad = next((k for k in args.env if not _ENV_NAME.match(k)), None) if args.env else None
    if bad is not None:
        raise InvalidInputError(
            f"env name {bad!r} cannot be exported in a shell session.",
            hint="Use letters, digits and _, not starting with a digit.",
            field="env",
        )
    user = ROOT if args.as_root else None

    def make() -> Session:  # an open session already has a runtime with shells
        shells = ctx.require(Shell, "exec with session")
        return Session(shells, ref.id, name, shell, user, ref.workdir)

    session, new = ctx.sessions.open(ref.id, name, make)
    if session.user != user:
        raise InvalidInputError(
            f"Session {name!r} runs as {'root' if session.user else 'the default user'}.",
            hint="Use another session name for commands with a different as_root.",
            field="as_root",
        )
    return session, new


def result_payload(result: ExecResult | SessionResult) -> dict[str, object]:
    """The fields every exec result shares: exit code, bounded output, their sizes, timing."""
    return {
        "exit_code": result.exit_code,
        "stdout": result.stdout.text,
        "stderr": result.stderr.text,
        "timed_out": result.timed_out,
        "duration_ms": result.duration_ms,
        "truncated": result.stdout.truncated or result.stderr.truncated,
        "stdout_bytes": result.stdout.total_bytes,
        "stderr_bytes": result.stderr.total_bytes,
    }


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
        # The workdir is always named: the engine's WorkingDir may be the image's (see create).
        workdir = posixpath.join(ref.workdir, req.workdir) if req.workdir else ref.workdir
        argv = wrap_argv(ref, req.argv) if ref.envfile else req.argv
        return ctx.runtime.exec_command(ref.id, replace(req, argv=argv, workdir=workdir))

    return ctx.using(container, start)


def check_workdir(ctx: Context, container: str, workdir: str) -> None:
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
