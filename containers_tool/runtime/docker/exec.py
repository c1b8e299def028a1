"""DockerRuntime's exec and interactive sessions: attached exec sockets, kill by marker."""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
from collections.abc import Mapping, Sequence
from typing import Any

import docker
from docker.utils.socket import read as socket_read

from containers_tool.errors import EngineError
from containers_tool.runtime.docker.errors import _engine_errors
from containers_tool.runtime.protocol import ShellChannel
from containers_tool.runtime.shell import SocketShell
from containers_tool.runtime.streams import (
    collect,
    kill_argv,
    new_marker,
    read_frames,
    response_file,
    stream_timeout,
)
from containers_tool.runtime.types import ExecRequest, ExecResult
from containers_tool.runtime.users import ExecUsers


def _shutdown(sock: Any) -> None:
    raw = getattr(sock, "_sock", sock)
    with contextlib.suppress(OSError):
        raw.shutdown(socket.SHUT_RDWR)


def _reader(sock: Any) -> Any:
    """Returns `read(n)` for an attached exec's stream, starting with what is already buffered.

    http.client reads the upgrade response's headers through a buffered file, which may take in
    the first frames too when they arrive with the headers (over an ssh tunnel about one fast
    exec in ten). The SDK hands back the socket under that file, so reading the socket alone
    loses those frames: output of a quick command came back empty.
    """
    buffered = response_file(getattr(sock, "_response", None))
    if buffered is not None and hasattr(buffered, "read1"):
        return buffered.read1
    return lambda n: socket_read(sock, n)


def _close(sock: Any) -> None:
    # The SDK hands back a SocketIO over the connection's socket: close both, or the fd leaks.
    for part in (sock, getattr(sock, "_sock", None)):
        if part is not None:
            with contextlib.suppress(OSError):
                part.close()
    # Over https it hands back the SSL socket itself, which the response's file object still
    # counts as in use: close() then leaves the descriptor open.
    if isinstance(sock, ssl.SSLSocket) and sock.fileno() != -1:
        with contextlib.suppress(OSError):
            os.close(sock.detach())


class DockerExec:
    """Exec and sessions over Docker's exec endpoints; a mixin of DockerRuntime."""

    _api: docker.APIClient
    _users: ExecUsers

    def exec_command(self, container: str, req: ExecRequest) -> ExecResult:
        """See Runtime.exec_command."""
        marker = new_marker()
        name, _, value = marker.partition("=")
        env = {**req.env, name: value}
        subject = f"Container {container!r}"
        user = self._users.resolve(container, req.user)
        with _engine_errors(subject):
            exec_id = self._api.exec_create(
                container,
                list(req.argv),
                environment=env,
                workdir=req.workdir,
                user=user,
            )["Id"]
            sock = self._api.exec_start(exec_id, socket=True)
            # Not the client's 60 s: an exec's output may be silent for longer.
            raw = getattr(sock, "_sock", sock)
            if isinstance(raw, socket.socket):
                raw.settimeout(stream_timeout(req))
        with _engine_errors(subject):
            return collect(
                req,
                read_frames(_reader(sock)),
                kill=lambda: self._kill_marked(container, marker, user),
                abort=lambda: _shutdown(sock),
                close=lambda: _close(sock),
                inspect=lambda: self._api.exec_inspect(exec_id),
            )

    def open_shell(
        self,
        container: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        user: str | None,
        workdir: str | None,
    ) -> ShellChannel:
        """See Runtime.open_shell."""
        marker = new_marker()
        name, _, value = marker.partition("=")
        subject = f"Container {container!r}"
        user = self._users.resolve(container, user)
        with _engine_errors(subject):
            exec_id = self._api.exec_create(
                container,
                list(argv),
                stdin=True,
                environment={**env, name: value},
                workdir=workdir,
                user=user or "",
            )["Id"]
            sock = self._api.exec_start(exec_id, socket=True)
        raw = getattr(sock, "_sock", sock)
        if not isinstance(raw, socket.socket):
            _close(sock)
            raise EngineError(
                "Docker returned no socket for an attached exec.",
                hint="Sessions need a unix or tcp Docker endpoint; use exec without session.",
            )

        def inspect() -> Mapping[str, Any]:
            with _engine_errors(subject):
                return self._api.exec_inspect(exec_id)

        return SocketShell(
            raw,
            b"",
            inspect=inspect,
            kill=lambda: self._kill_marked(container, marker, user),
            release=lambda: _close(sock),
        )

    def _kill_marked(self, container: str, marker: str, user: str | None) -> None:
        # As the command's own user (see streams.KILL_SCRIPT): root may lack CAP_KILL.
        with _engine_errors(f"Container {container!r}"):
            kill_id = self._api.exec_create(container, kill_argv(marker), user=user or "")["Id"]
            self._api.exec_start(kill_id)
