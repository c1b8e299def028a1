"""exec_background, exec_poll, exec_cancel, list_jobs: jobs whose state lives in the container."""

from __future__ import annotations

import shlex
from functools import partial

from containers_tool.context import Context
from containers_tool.core import jobs
from containers_tool.core.exec import run, shell_argv
from containers_tool.models.jobs import (
    ExecBackgroundInput,
    ExecCancelInput,
    ExecPollInput,
    ListJobsInput,
)
from containers_tool.registry import operation
from containers_tool.runtime.users import ROOT
from containers_tool.times import iso


def _runner(ctx: Context, container: str) -> jobs.Runner:
    return partial(run, ctx, container)


@operation("exec_background", ExecBackgroundInput)
def exec_background(args: ExecBackgroundInput, ctx: Context) -> dict[str, object]:
    """Starts a command detached from the call; its output and exit go to files in the container."""
    record = args.command if isinstance(args.command, str) else shlex.join(args.command)
    job_id, path = jobs.start(
        _runner(ctx, args.container),
        shell_argv(args.command),
        record,
        env=dict(args.env),
        workdir=args.workdir,
        user=ROOT if args.as_root else None,
    )
    return {
        "container": args.container,
        "job_id": job_id,
        "running": True,
        "output_path": path,
        "hint": "Call exec_poll with this job_id and wait: <seconds> to follow it.",
    }


@operation("exec_poll", ExecPollInput)
def exec_poll(args: ExecPollInput, ctx: Context) -> dict[str, object]:
    """Returns new output since offset; with wait, answers as soon as output or the exit arrives."""
    limit = args.max_output or ctx.settings.output_limit
    job_id = jobs.check_job_id(args.job_id)
    result = jobs.poll(_runner(ctx, args.container), job_id, args.offset, args.wait, limit)
    state = result.state
    payload: dict[str, object] = {
        "job_id": job_id,
        "state": state.state,
        "running": state.running,
        "exit_code": state.exit_code,
        "output": result.output,
        "offset": result.offset,
        "output_bytes": state.output_bytes,
        "truncated": result.truncated,
    }
    if result.truncated:
        payload["hint"] = (
            f"New output was cut (head and tail kept); the full output is in "
            f"{result.path}: read parts of it with exec."
        )
    elif state.state == "lost":
        payload["hint"] = "The job's waiter is gone (container restarted?); its exit is unknown."
    return payload


@operation("exec_cancel", ExecCancelInput)
def exec_cancel(args: ExecCancelInput, ctx: Context) -> dict[str, object]:
    """Kills a job's process group (SIGTERM, then SIGKILL) and any process it spawned elsewhere."""
    job_id = jobs.check_job_id(args.job_id)
    cancelled, exit_code = jobs.cancel(_runner(ctx, args.container), job_id, args.grace)
    return {"job_id": job_id, "cancelled": cancelled, "running": False, "exit_code": exit_code}


@operation("list_jobs", ListJobsInput)
def list_jobs(args: ListJobsInput, ctx: Context) -> dict[str, object]:
    """Lists the container's jobs, oldest first."""
    rows = jobs.list_jobs(_runner(ctx, args.container))
    return {
        "jobs": [
            {
                "job_id": r.state.job_id,
                "state": r.state.state,
                "running": r.state.running,
                "exit_code": r.state.exit_code,
                "output_bytes": r.state.output_bytes,
                "started": iso(r.started),
                "command": r.command,
            }
            for r in rows
        ],
        "count": len(rows),
    }
