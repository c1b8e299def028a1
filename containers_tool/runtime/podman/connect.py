"""The `podman` backend's factory: a local socket, or ssh:// through a tunnel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from containers_tool.runtime.discovery import discover
from containers_tool.runtime.podman.engine import ROOTFUL_SOCKET, PodmanRuntime
from containers_tool.runtime.tunnel import SshTunnel

if TYPE_CHECKING:
    from containers_tool.settings import Settings

SSH_HINT = (
    "Check that `ssh USER@HOST podman info` works from this machine without a prompt (host key "
    "in known_hosts or ssh_known_hosts, a key the host accepts: ssh_identity or ~/.ssh), and "
    "that the URL's path is the remote podman socket (default /run/podman/podman.sock)."
)


def connect(settings: Settings) -> PodmanRuntime:
    """Connects to the Podman endpoint of the settings (else CONTAINER_HOST, else the sockets).

    podman-py's own ssh transport starts one ssh per HTTP connection and accepts any host key;
    the tunnel checks the key and carries every request over one connection.

    Raises:
        RuntimeUnavailableError: Podman does not answer, or the ssh login is refused.
    """
    url = discover("podman", settings.docker_host, settings.podman_host).url
    if not url.startswith("ssh://"):
        return PodmanRuntime(url)
    tunnel = SshTunnel(
        url,
        ROOTFUL_SOCKET.removeprefix("unix://"),
        identity=settings.ssh_identity,
        known_hosts=settings.ssh_known_hosts,
        hint=SSH_HINT,
    )
    try:
        return PodmanRuntime(url, via=tunnel)
    except BaseException:
        tunnel.close()
        raise
