"""A mutual-TLS endpoint on loopback in front of the local Docker socket, with a test CA.

The shared dockerd cannot be restarted with `--tlsverify -H tcp://...` while other sessions use
it, so the TLS side is this process's: it demands a client certificate signed by the test CA
and relays the bytes, unchanged, to /var/run/docker.sock. What the client does (certificate,
CA check of the server, https to the engine API) is the same as against `dockerd --tlsverify`.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DOCKER_SOCKET = "/var/run/docker.sock"


@dataclass(frozen=True, slots=True)
class TlsEndpoint:
    """The endpoint's port and the client's cert directory (ca.pem, cert.pem, key.pem)."""

    port: int
    cert_dir: Path
    other_ca: Path  # a CA that did not sign the server: a client trusting it must refuse

    @property
    def url(self) -> str:
        """The tcp:// URL a Docker client is given."""
        return f"tcp://127.0.0.1:{self.port}"


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def _ca(directory: Path, name: str) -> tuple[Path, Path]:
    key, cert = directory / f"{name}-key.pem", directory / f"{name}.pem"
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", key, "-out", cert, "-days", "1",
             "-subj", f"/CN={name}")  # fmt: skip
    return key, cert


def _signed(directory: Path, name: str, ca: tuple[Path, Path], ext: str) -> tuple[Path, Path]:
    key, csr, cert = (directory / f"{name}{s}" for s in ("-key.pem", ".csr", ".pem"))
    extfile = directory / f"{name}.ext"
    extfile.write_text(ext + "\n")
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", key, "-out", csr, "-subj", f"/CN={name}")  # fmt: skip
    _openssl("x509", "-req", "-in", csr, "-CA", ca[1], "-CAkey", ca[0], "-CAcreateserial",
             "-out", cert, "-days", "1", "-extfile", extfile)  # fmt: skip
    return key, cert


def _relay(client: ssl.SSLSocket, upstream: socket.socket) -> None:
    # One thread per connection, both directions: an SSL socket is not to be read and written
    # from two threads at once.
    client_open = True
    while True:
        ready: list[socket.socket] = [client] if client_open and client.pending() else []
        if not ready:
            watch: list[socket.socket] = [upstream, client] if client_open else [upstream]
            ready, _, _ = select.select(watch, [], [], 120)
            if not ready:
                return
        for sock in ready:
            data = sock.recv(65536)
            if sock is upstream:
                if not data:
                    return  # the engine finished the exchange
                client.sendall(data)
            elif data:
                upstream.sendall(data)
            else:
                client_open = False
                upstream.shutdown(socket.SHUT_WR)  # the client's half-close (end of stdin)


def _handle(context: ssl.SSLContext, raw: socket.socket, live: set[socket.socket]) -> None:
    with contextlib.ExitStack() as stack:
        stack.callback(raw.close)
        client = context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
        stack.callback(client.close)
        try:
            client.do_handshake()
        except (ssl.SSLError, OSError):
            return  # no or a wrong client certificate: refused, as dockerd --tlsverify does
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stack.callback(upstream.close)
        live.add(upstream)
        stack.callback(live.discard, upstream)
        upstream.connect(DOCKER_SOCKET)
        with contextlib.suppress(OSError, ssl.SSLError):
            _relay(client, upstream)


@contextlib.contextmanager
def tls_docker(directory: Path) -> Iterator[TlsEndpoint]:
    """Serves Docker's API with mutual TLS on a free loopback port until the block ends."""
    ca = _ca(directory, "ca")
    server = _signed(directory, "server", ca, "subjectAltName=IP:127.0.0.1")
    client_dir = directory / "client"
    client_dir.mkdir()
    key, cert = _signed(directory, "client", ca, "extendedKeyUsage=clientAuth")
    (client_dir / "ca.pem").write_bytes(ca[1].read_bytes())
    (client_dir / "cert.pem").write_bytes(cert.read_bytes())
    (client_dir / "key.pem").write_bytes(key.read_bytes())
    other = _ca(directory, "other-ca")[1]

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(ca[1]))
    context.load_cert_chain(str(server[1]), str(server[0]))
    context.verify_mode = ssl.CERT_REQUIRED
    listener = socket.create_server(("127.0.0.1", 0))
    port = int(listener.getsockname()[1])

    def serve() -> None:
        while True:
            try:
                raw, _ = listener.accept()
            except OSError:
                return  # closed: the block ended
            threading.Thread(target=_handle, args=(context, raw, live), daemon=True).start()

    live: set[socket.socket] = set()
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield TlsEndpoint(port, client_dir, other)
    finally:
        # shutdown wakes the blocked accept and selects; close alone would not.
        for sock in [listener, *live]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(timeout=5)
