"""The `docker` backend's factory: a local socket, tcp:// with mutual TLS, or ssh://."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import docker.tls

from containers_tool.errors import InvalidInputError
from containers_tool.runtime.discovery import discover
from containers_tool.runtime.docker.engine import DEFAULT_SOCKET, DockerRuntime
from containers_tool.runtime.tunnel import SshTunnel

if TYPE_CHECKING:
    from containers_tool.settings import Settings

SSH_HINT = (
    "Check that `ssh USER@HOST docker version` works from this machine without a prompt (host "
    "key in known_hosts or ssh_known_hosts, a key the host accepts: ssh_identity or ~/.ssh), and "
    "that the user may use the remote socket (the URL's path; default /var/run/docker.sock)."
)


def connect(settings: Settings) -> DockerRuntime:
    """Connects to the Docker endpoint of the settings (else DOCKER_HOST, else the sockets).

    An ssh:// engine is reached through a tunnel to its socket rather than the SDK's own ssh
    transport: that one hands attached execs a paramiko channel, not a socket, so shell
    sessions and the secrets file (written through an exec's stdin) would not work.

    Raises:
        RuntimeUnavailableError: Docker does not answer, or the ssh login is refused.
        InvalidInputError: TLS files are missing.
    """
    url = discover("docker", settings.docker_host, settings.podman_host).url
    if not url.startswith("ssh://"):
        return DockerRuntime(url, tls=tls_config(url, settings))
    tunnel = SshTunnel(
        url,
        DEFAULT_SOCKET.removeprefix("unix://"),
        identity=settings.ssh_identity,
        known_hosts=settings.ssh_known_hosts,
        hint=SSH_HINT,
    )
    try:
        return DockerRuntime(url, via=tunnel)
    except BaseException:
        tunnel.close()
        raise


def tls_config(url: str, settings: Settings) -> docker.tls.TLSConfig | None:
    """Returns the mutual-TLS config for a tcp:// endpoint with a cert directory, else None.

    The directory holds ca.pem (the engine's CA), cert.pem and key.pem (this client), as
    `docker --tlsverify` expects; DOCKER_CERT_PATH with DOCKER_TLS_VERIFY=1 names one too.

    Raises:
        InvalidInputError: A file of the directory is missing.
    """
    cert_dir = settings.docker_cert_path
    if cert_dir is None and os.environ.get("DOCKER_TLS_VERIFY", "") not in ("", "0"):
        cert_dir = os.environ.get("DOCKER_CERT_PATH") or str(Path.home() / ".docker")
    if cert_dir is None or not url.startswith("tcp://"):
        return None
    files = {name: Path(cert_dir) / f"{name}.pem" for name in ("ca", "cert", "key")}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise InvalidInputError(
            f"docker_cert_path lacks {', '.join(missing)}.",
            hint="Put the engine's ca.pem and this client's cert.pem and key.pem there.",
            field="docker_cert_path",
        )
    return docker.tls.TLSConfig(
        client_cert=(str(files["cert"]), str(files["key"])),
        ca_cert=str(files["ca"]),
        verify=True,
    )
