"""Engine-neutral exec plumbing: read demultiplexed frames under a deadline, kill on timeout."""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from containers_tool.envelope import HeadTail
from containers_tool.errors import BuildFailedError, ToolError
from containers_tool.runtime.types import ContainerLogs, ExecRequest, ExecResult

#: Every exec carries this variable with a unique value; its process tree inherits it, so a
#: timeout can find the tree from inside the container (and, from it, children that cleared it).
MARKER_VAR = "CONTAINERS_TOOL_EXEC"

#: Shell functions that find and end a process tree from inside the container, with only POSIX
#: sh, tr, grep and /proc (busybox has them). `tree M P...` sets $t to " pid pid ... ": the
#: processes whose environment holds marker M, the pids P, and, to a fixpoint, every process whose
#: parent, session or process group is already in $t. So a child that called setsid and cleared
#: its environment (`setsid env -i cmd &`) is still found: by its parent while that lives, and by
#: the session it leads once it is in $t. `reap M P...` stops the tree until it stops growing (a
#: stopped process cannot fork), then kills it. Neither touches PID 1 or the script itself.
TREE_FUNCTIONS = r"""
tree() {
  _m="$1"; shift; t=" "; for _q in "$@"; do t="$t$_q "; done
  for _d in /proc/[0-9]*; do _q=${_d#/proc/}
    case "$t" in *" $_q "*) continue;; esac
    [ -n "$_m" ] && [ "$_q" != "$$" ] && [ "$_q" != 1 ] || continue
    if tr "\0" "\n" < "$_d/environ" 2>/dev/null | grep -qxF -- "$_m"; then t="$t$_q "; fi
  done
  _c=1
  while [ $_c = 1 ]; do _c=0
    for _d in /proc/[0-9]*; do _q=${_d#/proc/}
      case "$t" in *" $_q "*) continue;; esac
      [ "$_q" = "$$" ] || [ "$_q" = 1 ] && continue
      { read -r _l < "$_d/stat"; } 2>/dev/null || continue
      set -- ${_l##*)}
      case "$t" in *" $2 "*|*" $3 "*|*" $4 "*) t="$t$_q "; _c=1;; esac
    done
  done
}
reap() {
  _k="$1"; shift; _r="$*"
  for _x in 1 2 3 4 5 6; do
    tree "$_k" $_r
    for _q in $t; do kill -STOP "$_q" 2>/dev/null; done
    [ "$t" = " $_r " ] && break; _r=${t# }; _r=${_r% }
  done
  for _q in $t; do kill -KILL "$_q" 2>/dev/null; done
}
"""

#: Kills the process tree of the exec or shell tagged with the marker given as $1. It runs as the
#: command's own user, not as root: a root exec holds no capabilities on Docker when the container
#: has a non-root user and no-new-privileges, so it could neither read that user's environ (no
#: CAP_SYS_PTRACE) nor signal its processes (no CAP_KILL). The same uid may do both, and with
#: no-new-privileges no process of a non-root command can have become another user.
KILL_SCRIPT = TREE_FUNCTIONS + 'reap "$1"; exit 0\n'

STDOUT, STDERR = 1, 2
log = logging.getLogger("containers_tool")

#: Seconds past an exec's own timeout before a silent stream's socket read gives up. The
#: deadline (kill, then abort) ends the read long before; this only bounds a failed abort.
STREAM_MARGIN_S = 60.0


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def plain(text: str) -> str:
    """Removes terminal colour codes (build logs carry them) from text an LLM will read."""
    return _ANSI.sub("", text)


def build_failed(tag: str, error: str, tail: Iterable[str]) -> BuildFailedError:
    """The error of a failed image build: the engine's message and the log's last lines."""
    log = plain("".join(tail))[-2000:]
    return BuildFailedError(
        f"Building {tag} failed: {plain(error).strip()}",
        hint="Fix the failing package or setup line of the purpose. Build log tail:\n" + log,
        field="purpose",
    )


def response_file(response: Any) -> Any:
    """The buffered file under a streamed HTTP response (urllib3 over http.client), or None.

    It may hold bytes read in with the headers; the socket under it is where docker-py's
    `_get_raw_response_socket` looks.
    """
    return getattr(getattr(getattr(response, "raw", None), "_fp", None), "fp", None)


def new_marker() -> str:
    """Returns a fresh `NAME=value` marker for one exec."""
    return f"{MARKER_VAR}={secrets.token_hex(8)}"


def kill_argv(marker: str) -> list[str]:
    """Returns the argv that kills the process tree tagged with `marker`."""
    return ["/bin/sh", "-c", KILL_SCRIPT, "containers-tool-kill", marker]


def stream_timeout(req: ExecRequest) -> float | None:
    """The socket read timeout for an exec's output stream, which may be silent for long."""
    return None if req.timeout_s is None else req.timeout_s + STREAM_MARGIN_S


class DeadlineReader:
    """Drains an exec's frames into bounded buffers, killing the command if it overruns.

    Args:
        timeout_s: Seconds before `on_timeout` runs; None waits forever.
        limit: Bytes kept per stream (head and tail).
        on_timeout: Kills the command inside the container.
        abort: Closes the client side if the stream still has not ended after the kill.
    """

    def __init__(
        self,
        timeout_s: float | None,
        limit: int,
        on_timeout: Callable[[], None],
        abort: Callable[[], None],
    ) -> None:
        self.stdout = HeadTail(limit)
        self.stderr = HeadTail(limit)
        self._timeout_s = timeout_s
        self._on_timeout = on_timeout
        self._abort = abort
        self._done = threading.Event()
        self._timed_out = threading.Event()
        self._aborted = threading.Event()

    @property
    def timed_out(self) -> bool:
        """Tells whether the deadline passed before the stream ended."""
        return self._timed_out.is_set()

    @property
    def aborted(self) -> bool:
        """Tells whether the stream outlived the kill and was closed from this side."""
        return self._aborted.is_set()

    def _fire(self) -> None:
        self._timed_out.set()
        try:
            self._on_timeout()
        except ToolError as exc:  # a timer thread: the abort below still ends the read
            log.warning("killing a timed-out exec failed: %s", exc.message)
        finally:
            # A process that cleared its environment escapes the kill; do not hang on it.
            if not self._done.wait(3.0):
                self._aborted.set()
                self._abort()

    def drain(self, frames: Iterator[tuple[int, bytes]]) -> int:
        """Reads all frames; returns elapsed milliseconds."""
        start = time.perf_counter()
        timer = None
        if self._timeout_s is not None:
            timer = threading.Timer(self._timeout_s, self._fire)
            timer.daemon = True
            timer.start()
        try:
            for stream, data in frames:
                (self.stderr if stream == STDERR else self.stdout).add(data)
        except Exception:
            if not self._timed_out.is_set():
                raise
        finally:
            self._done.set()
            if timer is not None:
                timer.cancel()
        return int((time.perf_counter() - start) * 1000)


def collect(
    req: ExecRequest,
    frames: Iterator[tuple[int, bytes]],
    *,
    kill: Callable[[], None],
    abort: Callable[[], None],
    close: Callable[[], None],
    inspect: Callable[[], Mapping[str, Any]],
) -> ExecResult:
    """Drains a started exec under its deadline and returns how it ended.

    Args:
        req: The request (timeout and output limit).
        frames: The exec's demultiplexed output.
        kill: Kills the command's process tree inside the container.
        abort: Closes the client side when the stream outlives the kill.
        close: Releases the stream.
        inspect: Returns the engine's exec state (`Running`, `ExitCode`).
    """
    reader = DeadlineReader(req.timeout_s, req.output_limit, on_timeout=kill, abort=abort)
    try:
        duration = reader.drain(frames)
    finally:
        close()
    exit_code = None if reader.timed_out else _exit_code(inspect)
    return ExecResult(
        exit_code,
        reader.stdout.result(),
        reader.stderr.result(),
        reader.timed_out,
        duration,
        abandoned=reader.aborted,
    )


def _exit_code(inspect: Callable[[], Mapping[str, Any]]) -> int | None:
    # The stream can end a moment before the engine records the exit.
    for _ in range(50):
        state = inspect()
        if not state.get("Running"):
            code = state.get("ExitCode")
            return int(code) if code is not None else None
        time.sleep(0.01)
    return None


def log_params(tail: int | None, since_s: float | None) -> dict[str, str]:
    """Returns the query of a logs request, the same on both engines.

    Both streams come in one request, so `tail` counts lines of the merged output (Docker
    applies it per request); `since` is a fractional epoch time, so `since_s=0` means nothing.
    """
    params = {"stdout": "true", "stderr": "true", "tail": "all" if tail is None else str(tail)}
    if since_s is not None:
        params["since"] = f"{time.time() - since_s:.6f}"
    return params


def read_logs(frames: Iterator[tuple[int, bytes]], limit: int) -> ContainerLogs:
    """Drains a logs stream into head and tail of each stream: memory stays bounded."""
    out, err = HeadTail(limit), HeadTail(limit)
    for stream, data in frames:
        (err if stream == STDERR else out).add(data)
    return ContainerLogs(out.result(), err.result())


def read_frames(read: Callable[[int], bytes]) -> Iterator[tuple[int, bytes]]:
    """Parses the engines' multiplexed stream (8-byte header: stream, pad, big-endian length)."""
    while True:
        header = _read_exact(read, 8)
        if len(header) < 8:
            return
        length = int.from_bytes(header[4:8], "big")
        if length == 0:
            continue
        data = _read_exact(read, length)
        if not data:
            return
        yield header[0], data


def _read_exact(read: Callable[[int], bytes], n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = read(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf
