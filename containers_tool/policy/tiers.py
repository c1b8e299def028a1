"""Memory tiers: the limits a caller may ask for, and the ceiling no container may pass.

An operator offers a few sizes (`allowed_memory_tiers`) rather than any number, as hosted code
interpreters do (1g, 4g, 16g, 64g), so a tenant's footprint stays predictable. The defaults
(`memory_limit`, `default_auto_memory`) are always tiers. No limit may exceed the engine host's
memory either: the engines accept such a limit and it then limits nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from containers_tool.errors import PolicyDeniedError
from containers_tool.settings import Settings
from containers_tool.sizes import parse_size


def _gib(size: int) -> str:
    return f"{size / 2**30:.3g} GiB" if size >= 2**30 else f"{size // 2**20} MiB"


def tier_list(settings: Settings) -> str:
    """Returns the allowed tiers as the caller would write them."""
    return ", ".join(sorted(set(settings.allowed_memory_tiers), key=parse_size))


def check_memory(requested: str | None, settings: Settings, host_memory: int) -> None:
    """Refuses an explicit memory_limit that is not a tier, or above the host's memory.

    Args:
        requested: The caller's memory_limit, or None (the defaults are not asked for).
        settings: The operator's tiers.
        host_memory: Bytes of memory of the engine's host (0 when unknown).

    Raises:
        PolicyDeniedError: The limit is not an allowed tier, or more than the host has.
    """
    if requested is None:
        return
    size = parse_size(requested)
    if size not in settings.memory_tiers():
        raise PolicyDeniedError(
            f"memory_limit {requested!r} is not an allowed memory tier.",
            hint=f"Use one of: {tier_list(settings)}; or omit it for the default "
            f"{settings.memory_limit}.",
            field="memory_limit",
        )
    if host_memory and size > host_memory:
        raise PolicyDeniedError(
            f"memory_limit {requested!r} is more than the {_gib(host_memory)} of memory of the "
            "engine's host.",
            hint=f"Use a smaller tier of: {tier_list(settings)}.",
            field="memory_limit",
        )


def _service_memory(body: Mapping[str, Any]) -> object:
    limits = ((body.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    return body.get("mem_limit") or limits.get("memory")


def check_compose_memory(
    doc: Mapping[str, Any], field: str, settings: Settings, host_memory: int
) -> None:
    """Refuses a compose service whose memory limit passes the largest tier or the host.

    Services may ask for any size up to that ceiling (compose files carry sizes such as 512m);
    a service that sets none gets the default limit.

    Raises:
        PolicyDeniedError: A service's limit is above the ceiling; names the service.
    """
    ceiling = max(settings.memory_tiers())
    if host_memory:
        ceiling = min(ceiling, host_memory)
    for name, body in (doc.get("services") or {}).items():
        value = _service_memory(body or {})
        if value is None or isinstance(value, bool):
            continue
        try:
            size = parse_size(value if isinstance(value, int) else str(value))
        except ValueError:
            continue  # compose itself reports a malformed size, with its own words
        if size > ceiling:
            raise PolicyDeniedError(
                f"Compose service {str(name)!r} asks for {value} of memory, more than the "
                f"{_gib(ceiling)} a container may have.",
                hint=f"Lower its mem_limit to at most {_gib(ceiling)} "
                f"(tiers: {tier_list(settings)}).",
                field=field,
            )
