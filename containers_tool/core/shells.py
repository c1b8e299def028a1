"""Persistent shell sessions: `exec` with `session=` runs commands in one long-lived shell.

A session is an attached exec of a shell reading commands from its stdin (see
`Runtime.open_shell`). Each command goes up as one line, `__ct_go '<command>' <nonce>`. The shell
defines the command as a function body, so `cd`, `export`, functions and sourced venvs stay in the
shell, while `exit` (aliased to `return`) ends only that command. The definition goes through
`command eval`: a syntax error in a plain `eval` ends a POSIX sh (dash, busybox ash), while
`command` makes it an error status, with no subshell forked per command. The function runs with
stdin from /dev/null; then the shell prints an end marker with the nonce, the exit code and the
working directory on stdout, and one with the nonce on stderr. The exec is no tty, so the engine
keeps the streams apart, and both are complete once both markers arrived.

What still ends the shell (`set -e` then a failure, `exec`, a timeout, which kills the whole
session) is reported and the session restarted at once in the last working directory.

Sessions are connections held by this process, one registry per Context; they are not engine
state, so nothing about them goes into labels.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from containers_tool.envelope import Bounded, HeadTail
from containers_tool.errors import (
    ConflictError,
    EngineError,
    NotFoundError,
    QuotaExceededError,
    ToolError,
)
from containers_tool.runtime.capabilities import Shell
from containers_tool.runtime.protocol import ShellChannel
from containers_tool.times import iso

MAX_PER_CONTAINER = 8
#: Seconds a new shell may take to answer its first marker.
START_TIMEOUT_S = 30.0
STDERR = 2

#: Started through the env-file wrapper; bash where the image has it, else sh.
SHELL_ARGV = (
    "/bin/sh",
    "-c",
    "if command -v bash >/dev/null 2>&1; then exec bash; fi; exec sh",
)

#: Sent once when a shell starts. $1 is the command text, $2 the nonce of its end markers.
SETUP = r"""alias exit=return 2>/dev/null
shopt -s expand_aliases 2>/dev/null
__ct_go() {
  if command eval "__ct_f() { $1
}"; then
    __ct_f </dev/null
    __ct_rc=$?
  else
    __ct_rc=2
  fi
  command printf '\036CT%s %s %s\n' "$2" "$__ct_rc" "$PWD"
  command printf '\036CT%s\n' "$2" >&2
}
"""


def quote(text: str) -> str:
    """Quotes text for a POSIX shell as one word (single quotes; newlines kept)."""
    return "'" + text.replace("'", "'\\''") + "'"


def command_line(command: str, nonce: str) -> bytes:
    """Returns the line that runs `command` in a session shell under end-marker `nonce`."""
    return f"__ct_go {quote(command if command.strip() else ':')} {nonce}\n".encode()


def marker(nonce: str) -> bytes:
    """Returns the bytes that open both end markers of a command."""
    return b"\x1eCT" + nonce.encode()


class MarkedStream:
    """One output stream of a command: bounded, ended by the command's marker line.

    Args:
        token: The marker's opening bytes.
        limit: Bytes kept (head and tail).
    """

    def __init__(self, token: bytes, limit: int) -> None:
        self.sink = HeadTail(limit)
        self.trailer: bytes | None = None
        self._token = token
        self._pending = b""

    def feed(self, data: bytes) -> bytes:
        """Adds output; returns bytes that followed the marker line (the next command's)."""
        if self.trailer is not None:
            return data
        buf = self._pending + data
        at = buf.find(self._token)
        if at < 0:
            # Hold back what could be the start of a marker split across frames.
            keep = min(len(buf), len(self._token) - 1)
            self.sink.add(buf[: len(buf) - keep])
            self._pending = buf[len(buf) - keep :]
            return b""
        self.sink.add(buf[:at])
        end = buf.find(b"\n", at)
        if end < 0:
            self._pending = buf[at:]
            return b""
        self.trailer = buf[at + len(self._token) : end]
        self._pending = b""
        return buf[end + 1 :]

    def result(self) -> Bounded:
        """Returns the output so far (anything held back included)."""
        if self._pending and self.trailer is None:
            self.sink.add(self._pending)
            self._pending = b""
        return self.sink.result()


@dataclass(frozen=True, slots=True)
class SessionResult:
    """How one session command ended; `restarted` says the shell had to be started anew."""

    exit_code: int | None
    stdout: Bounded
    stderr: Bounded
    timed_out: bool
    duration_ms: int
    cwd: str
    started: bool
    restarted: bool
    ended_by: str = ""


@dataclass(slots=True)
class Session:
    """One named shell in one container.

    Args:
        runtime: The engine adapter.
        container: The container id.
        name: The session name.
        argv: The shell's argv (already through the env-file wrapper).
        user: The user it runs as (None: the container's).
        home: The directory a fresh shell starts in when the last one is unknown or gone.
    """

    runtime: Shell
    container: str
    name: str
    argv: Sequence[str]
    user: str | None
    home: str
    cwd: str = ""
    commands: int = 0
    restarts: int = 0
    created: float = field(default_factory=time.time)
    lock: threading.Lock = field(default_factory=threading.Lock)
    channel: ShellChannel | None = None
    carry: dict[int, bytes] = field(default_factory=dict)

    def start(self) -> None:
        """Starts the shell in the last working directory (else `home`) and waits for it.

        Raises:
            NotFoundError: The container is gone.
            ConflictError: The container is not running.
            EngineError: The shell did not start (e.g. the image has no /bin/sh).
        """
        self.close()
        problem = "no answer"
        for workdir in [d for d in dict.fromkeys((self.cwd, self.home)) if d]:
            # The last directory may be gone: a second try starts in home.
            try:
                self.channel = self.runtime.open_shell(
                    self.container, self.argv, env={}, user=self.user, workdir=workdir
                )
                self.channel.send(SETUP.encode())
            except (EngineError, EOFError) as exc:
                self.close()
                problem = getattr(exc, "message", None) or "the shell ended at once"
                continue
            ready = self._exchange(":", START_TIMEOUT_S, 4096)
            if not ready.ended_by:
                self.cwd = ready.cwd or workdir
                return
            self.close()
            said = (ready.stderr.text or ready.stdout.text).strip()
            problem = said or f"it {'timed out' if ready.timed_out else 'ended'} at once"
        raise EngineError(
            f"The session shell did not start: {problem[:300]}",
            hint="Sessions need /bin/sh in the image; call exec without session instead.",
            field="session",
        )

    def run(self, command: str, timeout_s: float, limit: int) -> SessionResult:
        """Runs one command, restarting the shell after a timeout or after it ended.

        Raises:
            ConflictError: Another command is running in this session.
            NotFoundError: The container is gone.
        """
        if not self.lock.acquire(blocking=False):
            raise ConflictError(
                f"Session {self.name!r} is running another command.",
                hint="Wait for it, or use another session name.",
                field="session",
            )
        try:
            started = self.channel is None
            if started:
                self.start()
            result = self._exchange(command, timeout_s, limit, started)
            self.commands += 1
            if result.restarted:
                self.restarts += 1
                try:
                    self.start()
                except (NotFoundError, ConflictError):
                    self.close()  # the registry drops it on its next lookup
                    raise
                result = replace(result, cwd=self.cwd or result.cwd)
            return result
        finally:
            self.lock.release()

    def _exchange(
        self, command: str, timeout_s: float, limit: int, started: bool = False
    ) -> SessionResult:
        channel = self.channel
        if channel is None:
            raise EngineError("The session has no shell.", hint="Call exec again.")
        nonce = secrets.token_hex(8)
        begin = time.perf_counter()
        deadline = time.monotonic() + timeout_s
        ended_by = ""
        try:
            channel.send(command_line(command, nonce))
        except EOFError:
            ended_by = "exit"
        # Set up while the shell runs the command: nothing is read before the loop.
        token = marker(nonce)
        out, err = MarkedStream(token, limit), MarkedStream(token, limit)
        if self.carry:
            streams = {1: out, STDERR: err}
            carry, self.carry = self.carry, {}
            for stream, data in carry.items():
                self._keep(stream, streams[stream].feed(data))
        try:
            while not ended_by and (out.trailer is None or err.trailer is None):
                frame = channel.recv(max(deadline - time.monotonic(), 0.0))
                if frame is None:
                    ended_by = "timeout"
                    break
                stream, data = frame
                if stream == STDERR:
                    rest = err.feed(data)
                else:
                    stream, rest = 1, out.feed(data)
                if rest:
                    self._keep(stream, rest)
        except EOFError:
            ended_by = "exit"
        duration = int((time.perf_counter() - begin) * 1000)
        code, cwd = _parse_trailer(out.trailer)
        if ended_by == "timeout":
            with contextlib.suppress(ToolError):  # a gone container has nothing left to kill
                channel.kill()
            self.close()
            code = None
        elif ended_by == "exit":
            if code is None:
                code = channel.exit_code()
            self.close()
        else:
            self.cwd = cwd or self.cwd
        return SessionResult(
            code,
            out.result(),
            err.result(),
            ended_by == "timeout",
            duration,
            cwd or self.cwd,
            started=started,
            restarted=bool(ended_by),
            ended_by=ended_by,
        )

    def _keep(self, stream: int, leftover: bytes) -> None:
        if leftover:  # output of background processes after the marker: the next command's
            self.carry[stream] = self.carry.get(stream, b"") + leftover

    def close(self) -> None:
        """Closes the shell's connection; the shell sees EOF and ends."""
        channel, self.channel = self.channel, None
        self.carry = {}
        if channel is not None:
            channel.close()

    def describe(self) -> dict[str, object]:
        """Returns the session as status lists it."""
        return {
            "session": self.name,
            "cwd": self.cwd,
            "user": self.user or "default",
            "commands": self.commands,
            "restarts": self.restarts,
            "busy": self.lock.locked(),
            "created": iso(self.created),
        }


def _parse_trailer(trailer: bytes | None) -> tuple[int | None, str]:
    if trailer is None:
        return None, ""
    # b" <exit code> <working directory>", as __ct_go prints it after the nonce.
    code, _, cwd = trailer.decode("utf-8", "replace").removeprefix(" ").partition(" ")
    return (int(code) if code.isdigit() else None), cwd


class SessionRegistry:
    """The open sessions of one tool instance, keyed by (container id, session name)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[tuple[str, str], Session] = {}

    def get(self, container: str, name: str) -> Session | None:
        """Returns an open session, or None."""
        with self._lock:
            return self._sessions.get((container, name))

    def open(self, container: str, name: str, make: Callable[[], Session]) -> tuple[Session, bool]:
        """Returns the named session and whether it is new (made by `make`, not yet started).

        Raises:
            QuotaExceededError: The container already has MAX_PER_CONTAINER sessions.
        """
        with self._lock:
            found = self._sessions.get((container, name))
            if found is not None:
                return found, False
            if sum(1 for c, _ in self._sessions if c == container) >= MAX_PER_CONTAINER:
                raise QuotaExceededError(
                    f"The container already has {MAX_PER_CONTAINER} sessions.",
                    hint="Call close_session on one you no longer need (status lists them).",
                    field="session",
                )
            session = self._sessions[(container, name)] = make()
            return session, True

    def close(self, container: str, name: str) -> bool:
        """Closes one session; returns whether it was open."""
        with self._lock:
            session = self._sessions.pop((container, name), None)
        if session is not None:
            session.close()
        return session is not None

    def close_container(self, container: str) -> list[str]:
        """Closes every session of a container (on destroy); returns their names."""
        with self._lock:
            keys = [k for k in self._sessions if k[0] == container]
            closing = [self._sessions.pop(k) for k in keys]
        for session in closing:
            session.close()
        return sorted(s.name for s in closing)

    def close_all(self) -> None:
        """Closes every session (when the tool closes)."""
        with self._lock:
            closing = list(self._sessions.values())
            self._sessions.clear()
        for session in closing:
            session.close()

    def describe(self, container: str) -> list[dict[str, object]]:
        """Lists a container's open sessions, by name."""
        with self._lock:
            found = [s for (c, _), s in self._sessions.items() if c == container]
        return [s.describe() for s in sorted(found, key=lambda s: s.name)]


def env_prefix(env: Mapping[str, str], workdir: str | None) -> str:
    """Returns the lines that export `env` and change to `workdir` before a session command."""
    if not env and not workdir:
        return ""
    lines = [f"export {name}={quote(value)}" for name, value in env.items()]
    if workdir:
        lines.append(f"cd -- {quote(workdir)} || return")
    return "".join(f"{line}\n" for line in lines)
