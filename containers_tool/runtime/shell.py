"""An attached exec over a hijacked engine connection: the engine-neutral half of open_shell.

Both engines answer an attached exec start by upgrading the HTTP connection to a raw stream:
stdin goes up the socket as is, and output comes back multiplexed (no tty), in frames with an
8-byte header (stream, 3 pad bytes, big-endian length). Each runtime module does the upgrade
its own way and hands the bare socket to `SocketShell`.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Mapping
from typing import Any

#: Bytes asked of the socket per read; frames larger than this arrive in several reads.
READ_SIZE = 256 * 1024


class SocketShell:
    """A `ShellChannel` over a connected socket whose HTTP upgrade is already done.

    Args:
        sock: The upgraded connection.
        pending: Bytes read past the upgrade response (the start of the stream).
        inspect: Returns the engine's exec state (`Running`, `ExitCode`).
        kill: Kills the exec's process tree inside the container.
        release: Closes the connection (and any SDK wrapper around it).
    """

    def __init__(
        self,
        sock: socket.socket,
        pending: bytes,
        *,
        inspect: Callable[[], Mapping[str, Any]],
        kill: Callable[[], None],
        release: Callable[[], None],
    ) -> None:
        self._sock = sock
        self._buf = bytearray(pending)
        self._inspect = inspect
        self._kill = kill
        self._release = release
        self._eof = False
        self._closed = False

    def send(self, data: bytes) -> None:
        """See ShellChannel.send."""
        if self._eof or self._closed:
            raise EOFError("the shell has ended")
        try:
            self._sock.settimeout(None)
            self._sock.sendall(data)
        except OSError as exc:
            self._eof = True
            raise EOFError("the shell has ended") from exc

    def recv(self, timeout_s: float) -> tuple[int, bytes] | None:
        """See ShellChannel.recv."""
        deadline = time.monotonic() + timeout_s
        while True:
            frame = self._frame()
            if frame is not None:
                return frame
            if self._eof or self._closed:
                raise EOFError("the shell has ended")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                self._sock.settimeout(remaining)
                chunk = self._sock.recv(READ_SIZE)
            except TimeoutError:
                return None
            except OSError:
                chunk = b""
            if not chunk:
                self._eof = True
            self._buf += chunk

    def _frame(self) -> tuple[int, bytes] | None:
        while len(self._buf) >= 8:
            length = int.from_bytes(self._buf[4:8], "big")
            if len(self._buf) < 8 + length:
                return None
            stream = self._buf[0]
            data = bytes(self._buf[8 : 8 + length])
            del self._buf[: 8 + length]
            if data:
                return stream, data
        return None

    def exit_code(self) -> int | None:
        """See ShellChannel.exit_code."""
        # The stream can end a moment before the engine records the exit.
        for _ in range(50):
            state = self._inspect()
            if not state.get("Running"):
                code = state.get("ExitCode")
                return int(code) if code is not None else None
            time.sleep(0.01)
        return None

    def kill(self) -> None:
        """See ShellChannel.kill."""
        self._kill()

    def close(self) -> None:
        """See ShellChannel.close."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._release()
