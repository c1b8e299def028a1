"""How each engine isolates the tool's networks, and what it cannot.

Docker drops traffic between any two bridge networks, its default `bridge` included
(DOCKER-ISOLATION-STAGE-1/2). Netavark, Podman's network backend, isolates a network only when
asked (`isolate=true`), and before 1.7 only from other networks that asked too: the DROP rule
matches packets *leaving* an isolated bridge for another isolated one, so a container on a
network without the option (Podman's default `podman`, or one made by hand) still opens
connections into an isolated one. `isolate=strict` (netavark 1.7, Podman 4.6) closes that.
"""

from __future__ import annotations

import re

from containers_tool.runtime.types import NetworkIsolation

#: Containers that ask for no network land on one network whatever their session or tenant (the
#: engine's bridge on Docker, the tool's ct-default on Podman), which neither engine splits:
#: Docker's default bridge lets its containers talk unless the daemon runs with icc off, and
#: netavark has no such switch. Session networks are the way apart.
SHARED_DEFAULT_GAP = (
    "Containers created without a network share one default network ({where}) across sessions "
    "and tenants, and can open connections to each other there."
)
SHARED_DEFAULT_FIX = (
    "Create with session_network=true (or a network of the session's own) to keep a session's "
    "containers apart from others'{extra}."
)
DOCKER = NetworkIsolation(
    options={},
    default_isolated=True,
    default_shared=True,
    gap=SHARED_DEFAULT_GAP.format(where="Docker's bridge"),
    fix=SHARED_DEFAULT_FIX.format(extra='; or run dockerd with "icc": false in daemon.json'),
)
#: First versions that accept and apply isolate=strict: Podman validates the option, netavark
#: applies it.
STRICT_PODMAN = (4, 6)
STRICT_NETAVARK = (1, 7)

_VERSION = re.compile(r"(\d+)\.(\d+)")


def _version(text: str) -> tuple[int, int] | None:
    match = _VERSION.search(text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def podman(version: str, backend: str, backend_version: str) -> NetworkIsolation:
    """Returns Podman's isolation from what its /info reports.

    Args:
        version: Podman's version, e.g. "4.3.1".
        backend: host.networkBackend: "netavark" or "cni".
        backend_version: host.networkBackendInfo.version ("" before Podman 4.5 reported it).
    """
    podman_v, netavark_v = _version(version), _version(backend_version)
    strict = (
        backend == "netavark"
        and podman_v is not None
        and podman_v >= STRICT_PODMAN
        and netavark_v is not None
        and netavark_v >= STRICT_NETAVARK
    )
    # aardvark-dns answers on the gateway address, so netavark keeps it on the host's bridge even
    # for an internal network (Docker's DNS lives in the container; the tool drops its address).
    gaps = [
        "A container on an internal network still reaches the host at that network's gateway "
        "address, where aardvark-dns answers, and so reaches host services listening on all "
        "addresses.",
        SHARED_DEFAULT_GAP.format(where="the tool's ct-default"),
    ]
    fixes = [
        "Keep host services that internal networks must not see bound to specific addresses "
        "(e.g. 127.0.0.1), or filter the networks' subnets in the host's INPUT chain.",
        SHARED_DEFAULT_FIX.format(extra=""),
    ]
    if not strict:
        which = f"netavark {netavark_v[0]}.{netavark_v[1]}" if netavark_v else backend
        gaps.insert(
            0,
            f"Podman {version} with {which} blocks traffic only between two networks that both "
            "set isolate=true: a container on a network without it (Podman's default 'podman' "
            "network, a network made by hand or by another tool, a compose service with "
            "network_mode: bridge) can still connect to containers on the tool's networks, "
            "session networks included; the tool's own networks and compose networks are "
            "isolated from each other.",
        )
        fixes.insert(
            0,
            "Use Podman >= 4.6 with netavark >= 1.7 (the tool then creates networks with "
            "isolate=strict); until then keep untrusted containers off Podman's default "
            "network and off networks the tool did not create.",
        )
    return NetworkIsolation(
        options={"isolate": "strict" if strict else "true"},
        default_isolated=False,
        others_reach_in=not strict,
        internal_reaches_host=True,
        default_shared=True,
        gap=" ".join(gaps),
        fix=" ".join(fixes),
    )
