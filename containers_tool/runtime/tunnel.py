"""An ssh tunnel to an engine's unix socket: `ssh -N -L local.sock:remote.sock`.

One ssh connection carries every request (each local connection is a channel in it), the host
key is checked against known_hosts (never accepted blindly), and the engine's own REST API is
then spoken over a local unix socket, streams and attached execs included.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import urllib.parse
import weakref
from pathlib import Path

from containers_tool.errors import RuntimeUnavailableError

CONNECT_TIMEOUT_S = 20.0


class SshTunnel:
    """Forwards a local socket to `ssh://user@host[:port]/path/to/engine.sock`.

    Args:
        url: The engine's ssh URL; its path, if any, is the socket on the remote host.
        default_socket: The remote socket when the URL names none.
        identity: A private key file (else ssh's defaults and agent).
        known_hosts: A known_hosts file for the host's key (else ~/.ssh/known_hosts).
        hint: What to tell the caller when the tunnel does not come up.

    Raises:
        RuntimeUnavailableError: ssh failed (login refused, unknown host key, no socket).
    """

    def __init__(
        self,
        url: str,
        default_socket: str,
        *,
        identity: str | None,
        known_hosts: str | None,
        hint: str,
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        if not parts.hostname:
            raise RuntimeUnavailableError(f"{url} names no host.", hint=hint)
        remote_socket = parts.path if parts.path not in ("", "/") else default_socket
        self._dir = Path(tempfile.mkdtemp(prefix="containers-tool-ssh-"))
        self.socket = self._dir / "engine.sock"
        argv = ["ssh", "-N", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes"]
        argv += ["-o", "StrictHostKeyChecking=yes", "-o", "ServerAliveInterval=15"]
        if identity:
            argv += ["-i", identity, "-o", "IdentitiesOnly=yes"]
        if known_hosts:
            argv += ["-o", f"UserKnownHostsFile={known_hosts}"]
        if parts.port:
            argv += ["-p", str(parts.port)]
        if parts.username:
            argv += ["-l", urllib.parse.unquote(parts.username)]
        argv += ["-L", f"{self.socket}:{remote_socket}", "--", parts.hostname]
        self._proc = subprocess.Popen(  # noqa: S603 - argv built above, no shell
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self._finalizer = weakref.finalize(self, _stop, self._proc, self._dir)
        self._wait_up(url, hint)

    @property
    def url(self) -> str:
        """The local end, as a unix:// URL for the engine's SDK."""
        return f"unix://{self.socket}"

    def _wait_up(self, url: str, hint: str) -> None:
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while not self.socket.exists():
            try:
                self._proc.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                if time.monotonic() < deadline:
                    continue
                why = f"no socket after {CONNECT_TIMEOUT_S:g} s"
            else:
                err = self._proc.stderr.read() if self._proc.stderr else b""
                why = err.decode(errors="replace").strip()[-300:] or f"exit {self._proc.returncode}"
            self.close()
            raise RuntimeUnavailableError(f"ssh to {url} failed: {why}", hint=hint)

    def close(self) -> None:
        """Ends the ssh process and removes the local socket; idempotent."""
        self._finalizer()


def _stop(proc: subprocess.Popen[bytes], directory: Path) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stderr:
        proc.stderr.close()
    shutil.rmtree(directory, ignore_errors=True)
