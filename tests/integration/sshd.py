"""A private sshd on loopback, with a host key and a client key made for the test run.

It is Debian's openssh-server (provisioned by scripts/provision-engines.sh), started as root
on a free 127.0.0.1 port with its own config: key login only, for root, whose account can use
both engine sockets. Nothing in ~/.ssh is read or written: the client side gets its own key
and known_hosts file, as the ssh_identity and ssh_known_hosts settings name them.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.integration.conftest import wait_until

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd")


@dataclass(frozen=True, slots=True)
class Sshd:
    """A running sshd and what a client needs to log in."""

    port: int
    identity: Path
    known_hosts: Path
    user: str = "root"

    def url(self, path: str = "") -> str:
        """The ssh:// URL of this server, with a remote socket `path`."""
        return f"ssh://{self.user}@127.0.0.1:{self.port}{path}"


def sshd_binary() -> str | None:
    """Returns the sshd program, or None when openssh-server is not installed."""
    found = shutil.which("sshd")
    return found or next((p for p in SSHD_CANDIDATES if Path(p).is_file()), None)


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.settimeout(0.5)
        try:
            sock.connect(("127.0.0.1", port))
            return sock.recv(4).startswith(b"SSH-")
        except OSError:
            return False


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "containers-tool-test", "-f", path],
        check=True,
    )


@contextlib.contextmanager
def running_sshd(binary: str, workdir: Path) -> Iterator[Sshd]:
    """Starts sshd in `workdir` and stops it on exit.

    Args:
        binary: The sshd program.
        workdir: A private directory for keys, config and log.

    Raises:
        RuntimeError: sshd did not come up (its log is in the message).
    """
    host_key, client_key = workdir / "host_key", workdir / "client_key"
    _keygen(host_key)
    _keygen(client_key)
    authorized = workdir / "authorized_keys"
    authorized.write_text(client_key.with_suffix(".pub").read_text())
    port = _free_port()
    config = workdir / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\n"
        f"PidFile {workdir / 'sshd.pid'}\nAuthorizedKeysFile {authorized}\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\n"
        # The keys live in a test directory, not in a home that StrictModes would check.
        "StrictModes no\n"
        # The tool tunnels to the engine's unix socket (ssh -L local.sock:remote.sock).
        "AllowStreamLocalForwarding yes\nAllowTcpForwarding yes\n"
    )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # its privilege-separation directory
    log = workdir / "sshd.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([binary, "-D", "-e", "-f", str(config)], stdout=out, stderr=out)
    try:
        up = wait_until(lambda: proc.poll() is not None or _answers(port), timeout=15.0)
        if not up or proc.poll() is not None:
            raise RuntimeError(f"sshd did not start: {log.read_text(errors='replace')[-800:]}")
        public = host_key.with_suffix(".pub").read_text().split()
        known = workdir / "known_hosts"
        known.write_text(f"[127.0.0.1]:{port} {public[0]} {public[1]}\n")
        client_key.chmod(0o600)
        yield Sshd(port, client_key, known)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
