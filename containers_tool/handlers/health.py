"""logs and wait_healthy: the tools for service containers."""

from __future__ import annotations

import time

from containers_tool.context import Context, Ref
from containers_tool.core import services
from containers_tool.core.exec import run, shell_argv
from containers_tool.errors import ConflictError
from containers_tool.models.health import LogsInput, WaitHealthyInput
from containers_tool.registry import operation
from containers_tool.runtime.types import ContainerLogs, ExecRequest

DEFAULT_TIMEOUT_S = 60.0


@operation("logs", LogsInput)
def logs(args: LogsInput, ctx: Context) -> dict[str, object]:
    """Returns the last lines of the container's own output (not of exec calls), bounded."""
    limit = args.max_output or ctx.settings.output_limit

    def read(ref: Ref) -> tuple[str, ContainerLogs]:
        got = ctx.runtime.container_logs(ref.id, tail=args.tail, since_s=args.since, limit=limit)
        return ref.name, got

    name, got = ctx.using(args.container, read)
    return {
        "container": name,
        "stdout": got.stdout.text,
        "stderr": got.stderr.text,
        "truncated": got.stdout.truncated or got.stderr.truncated,
        "stdout_bytes": got.stdout.total_bytes,
        "stderr_bytes": got.stderr.total_bytes,
    }


def _check(args: WaitHealthyInput) -> tuple[str, list[str]]:
    if args.health_command is not None:
        return "command", shell_argv(args.health_command)
    if args.url is not None:
        return "url", services.url_argv(args.url)
    assert args.port is not None  # noqa: S101 - the model requires exactly one check
    return "port", services.port_argv(args.port)


@operation("wait_healthy", WaitHealthyInput)
def wait_healthy(args: WaitHealthyInput, ctx: Context) -> dict[str, object]:
    """Runs the check every `interval` until it passes, retries run out, or the timeout passes."""
    kind, argv = _check(args)
    timeout = args.timeout if args.timeout is not None or args.retries else DEFAULT_TIMEOUT_S
    start = time.monotonic()
    deadline = start + timeout if timeout is not None else None
    attempts, healthy, last_output, last_exit = 0, False, "", None
    stopped: str | None = None
    while True:
        attempts += 1
        budget = max(args.interval, 5.0)
        if deadline is not None:
            budget = max(min(budget, deadline - time.monotonic()), 0.5)
        req = ExecRequest(argv=argv, timeout_s=budget, output_limit=2000)
        began = time.monotonic()
        try:
            result = run(ctx, args.container, req)
        except ConflictError:
            stopped = ctx.runtime.inspect_container(ctx.resolve(args.container).id).state
            last_output = services.last_lines(ctx, ctx.resolve(args.container).id)
            break
        last_exit = result.exit_code
        last_output = (result.stdout.text + result.stderr.text).strip()[-1000:]
        if result.exit_code == 0:
            healthy = True
            break
        if args.retries is not None and attempts >= args.retries:
            break
        pause = max(args.interval - (time.monotonic() - began), 0.0)
        if deadline is not None and time.monotonic() + pause >= deadline:
            break
        time.sleep(pause)
    payload: dict[str, object] = {
        "container": args.container,
        "healthy": healthy,
        "check": kind,
        "attempts": attempts,
        "elapsed_ms": int((time.monotonic() - start) * 1000),
        "last_exit_code": last_exit,
        "last_output": last_output,
    }
    if stopped is not None:
        payload["state"] = stopped
        payload["hint"] = "The container is not running; last_output is its own log. Call logs."
    elif not healthy:
        payload["hint"] = (
            "The check never passed: read last_output, call logs, or raise timeout/retries."
        )
    return payload
