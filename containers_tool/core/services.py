"""Service containers: containers running their image's own command, and checks of their health."""

from __future__ import annotations

import time

from containers_tool.context import Context
from containers_tool.errors import ConflictError, EngineError, InvalidInputError, ToolError
from containers_tool.models.lifecycle import CreateInput
from containers_tool.runtime.types import ContainerInfo

#: How long create watches a service container before calling it started, unless told.
SETTLE_S = 1.5
#: Lines of a failed service's own output quoted in the error.
LOG_LINES = 15

#: Healthy when a socket listens on port $1 (hex) in the container's network namespace; needs no
#: tools, only /proc (state 0A is LISTEN).
PORT_SCRIPT = (
    'grep -qiE "^ *[0-9]+: [0-9a-f]+:$1 [0-9a-f]+:[0-9a-f]+ 0A " /proc/net/tcp /proc/net/tcp6 '
    '2>/dev/null || { echo "nothing listens on port $2" >&2; exit 1; }'
)
#: Healthy on a 2xx/3xx answer, with whichever HTTP client the image has.
URL_SCRIPT = (
    'if command -v curl >/dev/null 2>&1; then curl -fsS -o /dev/null -m 5 "$1"; '
    # busybox 1.35's wget crashes with -T: the exec's own timeout bounds it instead.
    'elif command -v wget >/dev/null 2>&1; then wget -q -O /dev/null "$1"; '
    'else echo "no curl or wget in the container; check a port or a command instead" >&2; '
    "exit 127; fi"
)
STOPPED = frozenset({"exited", "dead", "stopped", "removing"})


def port_argv(port: int) -> list[str]:
    """Returns the check that a TCP port listens inside the container."""
    return ["/bin/sh", "-c", PORT_SCRIPT, "containers-tool-health", f"{port:04X}", str(port)]


def url_argv(url: str) -> list[str]:
    """Returns the check that a URL answers from inside the container."""
    return ["/bin/sh", "-c", URL_SCRIPT, "containers-tool-health", url]


def last_lines(ctx: Context, container: str, lines: int = LOG_LINES) -> str:
    """Returns the container's last log lines, both streams, at most ~1,500 characters."""
    logs = ctx.runtime.container_logs(container, tail=lines, since_s=None, limit=1500)
    text = (logs.stdout.text + logs.stderr.text).strip()
    return text[-1500:]


def exit_details(ctx: Context, container: str, info: ContainerInfo) -> tuple[int | None, str]:
    """Returns a stopped container's exit code and last output, for an error message."""
    for _ in range(20):  # Podman says "stopped" a moment before it records the exit
        if info.exit_code is not None:
            break
        time.sleep(0.05)
        info = ctx.runtime.inspect_container(container)
    return info.exit_code, last_lines(ctx, container) or "(no output)"


def settle_window(args: CreateInput) -> float:
    """Returns how long create watches a service container (keep_command) after starting it.

    Raises:
        InvalidInputError: settle_seconds was given without keep_command.
    """
    if args.settle_seconds is not None and not args.keep_command:
        raise InvalidInputError(
            "settle_seconds applies only to a service container (keep_command: true).",
            hint="Drop settle_seconds, or pass keep_command: true.",
            field="settle_seconds",
        )
    return SETTLE_S if args.settle_seconds is None else args.settle_seconds


def ensure_running(ctx: Context, container: str, name: str, settle_s: float) -> ContainerInfo:
    """Watches a just-started service container for `settle_s`; refuses one whose command ended.

    Raises:
        ConflictError: The container exited; the message quotes its exit code and last output.
    """
    deadline = time.monotonic() + settle_s
    while True:
        info = ctx.runtime.inspect_container(container)
        if info.state in STOPPED:
            code, output = exit_details(ctx, container, info)
            raise ConflictError(
                f"Container {name!r} exited right after starting (exit {code}); "
                f"its last output: {output}",
                hint="The image's own command ended: fix its command or env, or drop "
                "keep_command to keep the container alive with sleep.",
                field="keep_command",
            )
        if time.monotonic() >= deadline:
            return info
        time.sleep(0.05)


def start_error(exc: EngineError, cid: str, name: str, user: str | None, workdir: str) -> ToolError:
    """The error of a failed start, naming the create field behind it and the container.

    The messages are the OCI runtime's (runc, crun), the same under both engines.
    """
    text = exc.message.replace(cid, name)
    if "unable to find user" in text or "unable to find group" in text:
        return InvalidInputError(
            f"Container {name!r} cannot start: user {user!r} names a user or group that "
            "its image does not define.",
            hint="Pass numeric uid:gid (always valid), a user the image defines, or omit user.",
            field="user",
        )
    if workdir in text and any(w in text for w in ("mkdir", "chdir", "cwd")):
        return InvalidInputError(
            f"Container {name!r} cannot start: workdir {workdir!r} cannot be made or entered.",
            hint="Pick a writable absolute path such as /workspace, or omit workdir.",
            field="workdir",
        )
    return EngineError(text, hint=exc.hint, field=exc.field)
