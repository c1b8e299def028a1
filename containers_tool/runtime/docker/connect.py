"""The `docker` backend's factory: endpoint, TLS for tcp://, keys for ssh://."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import docker
import docker.tls
import paramiko
from docker.transport import SSHHTTPAdapter

from containers_tool.errors import InvalidInputError, RuntimeUnavailableError
from containers_tool.runtime.discovery import discover
from containers_tool.runtime.docker.engine import DockerRuntime

if TYPE_CHECKING:
    from containers_tool.settings import Settings

API_VERSION = "1.41"  # Debian 12's Docker 20.10; newer daemons still speak it
SSH_HINT = (
    "Check that `ssh USER@HOST docker version` works from this machine: the host key in "
    "known_hosts (or ssh_known_hosts), a key the host accepts (ssh_identity or ~/.ssh), and "
    "the docker CLI on the remote host."
)


def connect(settings: Settings) -> DockerRuntime:
    """Connects to the Docker endpoint of the settings (else DOCKER_HOST, else the sockets).

    Raises:
        RuntimeUnavailableError: Docker does not answer, or the ssh login is refused.
        InvalidInputError: TLS files are missing.
    """
    url = discover("docker", settings.docker_host, settings.podman_host).url
    if url.startswith("ssh://"):
        return DockerRuntime(url, api=_ssh_client(url, settings))
    return DockerRuntime(url, tls=tls_config(url, settings))


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


class _KeyedSSHAdapter(SSHHTTPAdapter):
    """The SDK's paramiko transport, with the settings' key and known_hosts added.

    The SDK reads only ~/.ssh (config, keys, known_hosts) and refuses unknown host keys; this
    keeps that and lets the settings name a key and a known_hosts file of their own.
    """

    def __init__(self, url: str, identity: str | None, known_hosts: str | None) -> None:
        self._identity = identity
        self._known_hosts = known_hosts
        super().__init__(url, timeout=60)

    def _create_paramiko_client(self, base_url: str) -> None:
        super()._create_paramiko_client(base_url)  # type: ignore[misc]  # private in the stubs
        if self._identity:
            self.ssh_params["key_filename"] = self._identity  # type: ignore[attr-defined]
        if self._known_hosts and self.ssh_client is not None:
            self.ssh_client.load_host_keys(self._known_hosts)


def _ssh_client(url: str, settings: Settings) -> docker.APIClient:
    """Returns an API client over ssh: `docker system dial-stdio` on the remote host.

    Raises:
        RuntimeUnavailableError: The connection or the login failed.
    """
    # use_ssh_client=True builds the client without connecting; the transport is then
    # replaced by the keyed paramiko one, which connects.
    api = docker.APIClient(base_url=url, version=API_VERSION, timeout=60, use_ssh_client=True)
    try:
        adapter = _KeyedSSHAdapter(url, settings.ssh_identity, settings.ssh_known_hosts)
    except (paramiko.SSHException, OSError) as exc:
        api.close()
        raise RuntimeUnavailableError(
            f"Docker at {url} is not reachable over ssh ({type(exc).__name__}: {exc}).",
            hint=SSH_HINT,
        ) from exc
    api.mount("http+docker://ssh", adapter)
    api._custom_adapter = adapter  # type: ignore[attr-defined]  # the SDK closes and hijacks sockets through this one
    return api
