"""PodmanRuntime's exec and interactive sessions: streamed exec, hijacked shells, kill by marker."""

from __future__ import annotations

import contextlib
import json
import socket
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from podman.api.client import APIClient

from containers_tool.errors import ConflictError, EngineError, NotFoundError
from containers_tool.runtime.podman.errors import _check, _engine_errors
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


def _response_socket(response: Any) -> socket.socket | None:
    """The socket under a streamed response.

    http.client drops the connection's `sock` once a response will close, so this looks
    under the response's file too (the route docker-py's `_get_raw_response_socket` takes).
    """
    conn = getattr(response.raw, "connection", None) or getattr(response.raw, "_connection", None)
    sock = getattr(conn, "sock", None)
    if not isinstance(sock, socket.socket):
        sock = getattr(getattr(response_file(response), "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _shutdown(sock: socket.socket | None) -> None:
    # Shutting the socket down ends a read blocked in another thread. Closing the response
    # instead would wait for that read: the reader holds the buffered file's lock.
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class PodmanExec:
    """Exec and sessions over libpod's exec endpoints; a mixin of PodmanRuntime."""

    _api: APIClient
    _users: ExecUsers

    def exec_command(self, container: str, req: ExecRequest) -> ExecResult:
        """See Runtime.exec_command."""
        marker = new_marker()
        env = [f"{k}={v}" for k, v in req.env.items()] + [marker]
        body: dict[str, Any] = {
            "Cmd": list(req.argv),
            "AttachStdout": True,
            "AttachStderr": True,
            "Env": env,
        }
        if req.workdir:
            body["WorkingDir"] = req.workdir
        user = self._users.resolve(container, req.user)
        if user:
            body["User"] = user
        subject = f"Container {container!r}"
        with _engine_errors(subject):
            exec_id = _check(
                self._api.post(f"/containers/{container}/exec", data=json.dumps(body))
            ).json()["Id"]
            response = _check(
                self._api.post(
                    f"/exec/{exec_id}/start",
                    data=json.dumps({"Detach": False, "Tty": False}),
                    stream=True,
                )
            )
        sock = _response_socket(response)
        if sock is not None:  # not the client's 60 s: an exec may be silent for longer
            sock.settimeout(stream_timeout(req))
        with _engine_errors(subject):
            return collect(
                req,
                read_frames(response.raw.read),
                kill=lambda: self._kill_marked(container, marker, user),
                abort=lambda: _shutdown(sock),
                close=response.close,
                inspect=lambda: _check(self._api.get(f"/exec/{exec_id}/json")).json(),
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
        body: dict[str, Any] = {
            "Cmd": list(argv),
            "AttachStdin": True,
            "AttachStdout": True,
            "AttachStderr": True,
            "Env": [f"{k}={v}" for k, v in env.items()] + [marker],
        }
        if workdir:
            body["WorkingDir"] = workdir
        user = self._users.resolve(container, user)
        if user:
            body["User"] = user
        subject = f"Container {container!r}"
        with _engine_errors(subject):
            exec_id = _check(
                self._api.post(f"/containers/{container}/exec", data=json.dumps(body))
            ).json()["Id"]
            sock, pending = self._hijack(f"exec/{exec_id}/start", {"Detach": False, "Tty": False})

        def inspect() -> Mapping[str, Any]:
            with _engine_errors(subject):
                return dict(_check(self._api.get(f"/exec/{exec_id}/json")).json())

        return SocketShell(
            sock,
            pending,
            inspect=inspect,
            kill=lambda: self._kill_marked(container, marker, user),
            release=sock.close,
        )

    def _hijack(self, path: str, body: Mapping[str, Any]) -> tuple[socket.socket, bytes]:
        """POSTs `path` on a connection of its own and returns it once upgraded to a raw stream.

        requests cannot hand over a connection it has upgraded, so this speaks the libpod
        API's small HTTP/1.1 upgrade itself, over the same socket the SDK uses.
        """
        url = self._api.base_url
        if url.scheme == "http+unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(60)
            sock.connect(urllib.parse.unquote(url.netloc))
        elif url.scheme == "http":
            host, _, port = url.netloc.rpartition(":")
            sock = socket.create_connection((host, int(port or 80)), timeout=60)
        else:
            raise EngineError(
                f"Sessions are not supported over a {url.scheme} Podman endpoint.",
                hint="Use a unix or tcp endpoint, or exec without session.",
            )
        payload = json.dumps(dict(body)).encode()
        head = (
            f"POST {urllib.parse.urljoin(self._api.path_prefix, path)} HTTP/1.1\r\n"
            "Host: d\r\nContent-Type: application/json\r\n"
            "Connection: Upgrade\r\nUpgrade: tcp\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        try:
            sock.sendall(head.encode() + payload)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            sock.close()
            raise
        header, _, rest = data.partition(b"\r\n\r\n")
        status = header.split(b" ", 2)[1:2]
        code = int(status[0]) if status and status[0].isdigit() else 0
        if code in (101, 200):
            return sock, rest
        sock.close()
        text = rest.decode("utf-8", "replace").strip()
        with contextlib.suppress(ValueError, AttributeError):
            text = str(json.loads(text).get("message") or text)
        if code == 404:
            raise NotFoundError(f"Podman: {text}", hint="Call list to see names.")
        if code == 409 or "state improper" in text:
            raise ConflictError(f"Podman: {text}", hint="Call status; start the container.")
        raise EngineError(
            f"Podman answered {code} to an exec start: {text}", hint="Call preflight."
        )

    def _kill_marked(self, container: str, marker: str, user: str | None) -> None:
        # As the command's own user (see streams.KILL_SCRIPT): root may lack CAP_KILL.
        body: dict[str, Any] = {"Cmd": kill_argv(marker), "AttachStdout": True}
        if user:
            body["User"] = user
        with _engine_errors(f"Container {container!r}"):
            exec_id = _check(
                self._api.post(f"/containers/{container}/exec", data=json.dumps(body))
            ).json()["Id"]
            _check(self._api.post(f"/exec/{exec_id}/start", data=json.dumps({"Detach": False})))
