"""The tenant's container quota, counted on the engine (the record) at the moment of create.

Two creates racing for the last slot would both count below the limit and both create. The
count and the engine's create therefore run under one flock per tenant, in the state dir every
process of the tenant on this host shares; processes on other hosts against one remote engine
are not serialised (the engine has no atomic count-and-create to lean on).

Counting lists the tenant's containers, and an engine lists in time that grows with them
(Podman: about half a millisecond per container), which a create must not pay each time. The
store keeps an upper bound instead: the last count plus one for every create admitted since.
While the bound is below the limit a create needs no list; at the limit, or once the bound is
older than RECOUNT_S, the engine is counted again. Containers leaving never lower the bound, so
it can only be too high, and a recount settles it. Every container the quota counts (the
tool's own, labelled managed-by) is made inside `slot`; compose members and port sidecars
belong to their container and are not counted.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from containers_tool.context import Context
from containers_tool.errors import QuotaExceededError
from containers_tool.settings import state_dir
from containers_tool.store import Store, file_lock

Store.table(
    "quota_bounds",
    """
    CREATE TABLE IF NOT EXISTS quota_bounds (
        engine TEXT NOT NULL,
        tenant TEXT NOT NULL,
        bound INTEGER NOT NULL,
        counted_at REAL NOT NULL,
        PRIMARY KEY (engine, tenant)
    );
    """,
)

#: Seconds a bound is trusted before the engine is counted again (a create of another state
#: dir, or a container made by hand with the tool's labels, is seen by then).
RECOUNT_S = 60.0


def check(ctx: Context) -> int:
    """Counts the tenant's containers on the engine; refuses a create at the limit.

    Returns:
        The count.

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
    return count


def precheck(ctx: Context) -> None:
    """Refuses early, unlocked, a create that will fail: before a network or stack is made.

    Raises:
        QuotaExceededError: The tenant is at its limit.
    """
    _admit(ctx)


@contextlib.contextmanager
def slot(ctx: Context) -> Iterator[None]:
    """Holds the tenant's create lock while the body makes one container, if under the limit.

    Raises:
        QuotaExceededError: The tenant is at its limit; the body does not run.
    """
    with file_lock(state_dir(ctx.settings) / "locks" / f"tenant-{ctx.tenant}.lock"):
        bound, counted_at = _admit(ctx)
        yield
        with ctx.store.transaction() as db:  # one more: still an upper bound
            db.execute(
                "INSERT INTO quota_bounds (engine, tenant, bound, counted_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (engine, tenant) DO UPDATE SET bound = excluded.bound,"
                " counted_at = excluded.counted_at",
                (_engine(ctx), ctx.tenant, bound + 1, counted_at),
            )


def _admit(ctx: Context) -> tuple[int, float]:
    """The tenant's bound and when it was counted, counting afresh unless it can be trusted.

    Raises:
        QuotaExceededError: The tenant is at its limit.
    """
    with ctx.store.transaction() as db:
        row = db.execute(
            "SELECT bound, counted_at FROM quota_bounds WHERE engine = ? AND tenant = ?",
            (_engine(ctx), ctx.tenant),
        ).fetchone()
    now = time.time()
    if (
        row is not None
        and row["bound"] < ctx.settings.max_containers_per_tenant
        and 0 <= now - row["counted_at"] < RECOUNT_S
    ):
        return int(row["bound"]), float(row["counted_at"])
    return check(ctx), now


def _engine(ctx: Context) -> str:
    return ctx.engine_key or ctx.runtime.name  # a backend with no URL: one engine per name
