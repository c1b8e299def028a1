"""Finds an engine endpoint: explicit setting, DOCKER_HOST/CONTAINER_HOST, then usual sockets."""

from __future__ import annotations

import contextlib
import os
import socket
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from containers_tool.errors import RuntimeUnavailableError

INSTALL_HINT = (
    "Install and start Docker or Podman: on Debian as root run scripts/provision-engines.sh; "
    "otherwise `apt-get install docker.io` and start dockerd, or "
    "`apt-get install podman catatonit` "
    "and `systemctl --user enable --now podman.socket`. Set DOCKER_HOST or CONTAINER_HOST for a "
    "socket elsewhere."
)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An engine kind and the URL of its API."""

    engine: str
    url: str


def docker_sockets() -> list[str]:
    """Returns the standard Docker socket paths, rootful first."""
    paths = ["/var/run/docker.sock", "/run/docker.sock"]
    if runtime_dir := os.environ.get("XDG_RUNTIME_DIR"):
        paths.append(f"{runtime_dir}/docker.sock")
    paths.append(str(Path.home() / ".docker/run/docker.sock"))
    return paths


def podman_sockets() -> list[str]:
    """Returns the standard Podman socket paths: this user's own service first."""
    paths = []
    if os.geteuid() != 0 and (runtime_dir := os.environ.get("XDG_RUNTIME_DIR")):
        paths.append(f"{runtime_dir}/podman/podman.sock")
    paths.append("/run/podman/podman.sock")
    return paths


def socket_alive(url: str) -> bool:
    """Tells whether a unix-socket URL accepts connections; other schemes count as alive."""
    if not url.startswith("unix://"):
        return True
    path = url.removeprefix("unix://")
    if not Path(path).exists():
        return False
    with contextlib.closing(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(path)
        except OSError:
            return False
    return True


def _candidates(engine: str, docker_host: str | None, podman_host: str | None) -> list[Endpoint]:
    # An explicit host (setting or env) is the only candidate for its engine, as with the CLIs;
    # in auto mode explicit hosts are tried before any socket found by looking around.
    explicit: list[Endpoint] = []
    scanned: list[Endpoint] = []
    if engine in ("auto", "docker"):
        if url := docker_host or os.environ.get("DOCKER_HOST"):
            explicit.append(Endpoint("docker", url))
        else:
            scanned += [Endpoint("docker", f"unix://{p}") for p in docker_sockets()]
    if engine in ("auto", "podman"):
        if url := podman_host or os.environ.get("CONTAINER_HOST"):
            explicit.append(Endpoint("podman", url))
        else:
            scanned += [Endpoint("podman", f"unix://{p}") for p in podman_sockets()]
    return explicit + scanned


def discover(
    engine: str, docker_host: str | None = None, podman_host: str | None = None
) -> Endpoint:
    """Returns the first reachable endpoint for `engine` ("auto", "docker" or "podman").

    Raises:
        RuntimeUnavailableError: No candidate answers.
    """
    candidates = _candidates(engine, docker_host, podman_host)
    for candidate in candidates:
        if socket_alive(candidate.url):
            return candidate
    tried = ", ".join(dict.fromkeys(c.url for c in candidates)) or "none"
    which = "No container engine is" if engine == "auto" else f"{engine.capitalize()} is not"
    raise RuntimeUnavailableError(f"{which} reachable (tried {tried}).", hint=INSTALL_HINT)


LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def is_remote(url: str) -> bool:
    """Tells whether an endpoint's engine may be on another machine (its paths are not ours).

    ssh:// always counts as remote (the login may land anywhere); tcp:// and http(s):// count
    unless they name a loopback address; unix:// and npipe:// are this machine.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "ssh":
        return True
    if parts.scheme in ("tcp", "http", "https"):
        return (parts.hostname or "") not in LOOPBACK
    return False
