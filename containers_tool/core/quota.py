"""The tenant's container quota, counted on the engine (the record) at the moment of create.

Two creates racing for the last slot would both count below the limit and both create. The
count and the engine's create therefore run under one flock per tenant, in the state dir every
process of the tenant on this host shares; processes on other hosts against one remote engine
are not serialised (the engine has no atomic count-and-create to lean on).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from containers_tool.context import Context
from containers_tool.errors import QuotaExceededError
from containers_tool.settings import state_dir
from containers_tool.store import file_lock


def check(ctx: Context) -> None:
    """Refuses a create when the tenant is at its limit (unlocked: an early, cheap refusal).

    Raises:
        QuotaExceededError: The tenant has max_containers_per_tenant containers already.
    """
    count = len(ctx.tenant_containers())
    limit = ctx.settings.max_containers_per_tenant
    if count >= limit:
        raise QuotaExceededError(
            f"Tenant {ctx.tenant!r} has {count} containers, its limit "
            f"(max_containers_per_tenant) is {limit}.",
            hint="Call list and destroy one you no longer need, then create again; an operator "
            "can raise max_containers_per_tenant.",
        )


@contextlib.contextmanager
def slot(ctx: Context) -> Iterator[None]:
    """Holds the tenant's create lock while the body makes one container, if under the limit.

    Raises:
        QuotaExceededError: The tenant is at its limit; the body does not run.
    """
    with file_lock(state_dir(ctx.settings) / "locks" / f"tenant-{ctx.tenant}.lock"):
        check(ctx)
        yield
