"""Published ports stay on the loopback address, for compose services as for plain create.

A port published on every interface would reach the container from the network; create
publishes on 127.0.0.1 only, and `compose_ports` gives compose services the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from containers_tool.errors import PolicyDeniedError
from containers_tool.policy.host_paths import shown

LOOPBACK = "127.0.0.1"
_LOOPBACKS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def compose_ports(service: str, entries: Sequence[Any], field: str) -> list[Any]:
    """Returns a service's `ports`, each bound to the loopback address.

    Raises:
        PolicyDeniedError: An entry names another host address.
    """
    out: list[Any] = []
    for entry in entries:
        if isinstance(entry, Mapping):
            ip = str(entry.get("host_ip") or LOOPBACK)
            if ip not in _LOOPBACKS:
                raise _refused(service, f"host_ip {ip}", field)
            out.append({**entry, "host_ip": ip})
            continue
        text = str(entry)
        if text.startswith("["):  # an IPv6 address: [addr]:host:container
            address = text[1:].partition("]:")[0]
            if f"[{address}]" not in _LOOPBACKS:
                raise _refused(service, text, field)
            out.append(text)
            continue
        parts = text.split(":")
        if len(parts) == 1:
            out.append(f"{LOOPBACK}::{text}")
        elif len(parts) == 2:
            out.append(f"{LOOPBACK}:{text}")
        elif parts[0] in _LOOPBACKS:
            out.append(text)
        else:
            raise _refused(service, text, field)
    return out


def _refused(service: str, what: str, field: str) -> PolicyDeniedError:
    return PolicyDeniedError(
        f"Compose service {shown(service)!r} sets ports ({shown(what)}), publishing on an "
        "address other than the loopback one, which the tool's policy refuses.",
        hint='Publish on 127.0.0.1 (e.g. "127.0.0.1:8080:80"), or leave the address out.',
        field=field,
    )
