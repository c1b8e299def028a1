"""Agent -> container bindings of a tenant, in the shared store (labels cannot hold them).

A binding is made after its container exists, and labels are fixed at create, so the engine
cannot record it. It lives in the SQLite store every process of the tenant on this host opens;
(tenant, agent) is the primary key, so concurrent binds of one agent leave exactly one row.
The container's id is kept beside its name: a container replaced under the same name is not
the one that was bound.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from containers_tool.context import Context
from containers_tool.store import Store

Store.table(
    "agent_bindings",
    """
    CREATE TABLE IF NOT EXISTS agent_bindings (
        tenant TEXT NOT NULL,
        agent TEXT NOT NULL,
        container TEXT NOT NULL,
        container_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        bound_at TEXT NOT NULL,
        PRIMARY KEY (tenant, agent)
    );
    CREATE INDEX IF NOT EXISTS agent_bindings_by_container
        ON agent_bindings (tenant, container_id);
    """,
)

#: At most this many bindings are returned by one list (results stay bounded).
LIST_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Binding:
    """One agent's binding."""

    agent: str
    container: str
    container_id: str
    session_id: str
    bound_at: str


def _binding(row: sqlite3.Row) -> Binding:
    return Binding(
        row["agent"], row["container"], row["container_id"], row["session_id"], row["bound_at"]
    )


def bind(ctx: Context, agent: str, container: str, container_id: str) -> Binding | None:
    """Binds `agent` to a container, in one transaction; returns the binding it replaced."""
    with ctx.store.transaction() as db:
        old = db.execute(
            "SELECT * FROM agent_bindings WHERE tenant = ? AND agent = ?", (ctx.tenant, agent)
        ).fetchone()
        db.execute(
            "INSERT INTO agent_bindings VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (tenant, agent) DO UPDATE SET container = excluded.container, "
            "container_id = excluded.container_id, session_id = excluded.session_id, "
            "bound_at = excluded.bound_at",
            (
                ctx.tenant,
                agent,
                container,
                container_id,
                ctx.session_id,
                datetime.now(UTC).isoformat(timespec="seconds"),
            ),
        )
    return _binding(old) if old is not None else None


def unbind(ctx: Context, agent: str) -> Binding | None:
    """Removes `agent`'s binding; returns it (None when there was none)."""
    with ctx.store.transaction() as db:
        row = db.execute(
            "DELETE FROM agent_bindings WHERE tenant = ? AND agent = ? RETURNING *",
            (ctx.tenant, agent),
        ).fetchone()
    return _binding(row) if row is not None else None


def get(ctx: Context, agent: str) -> Binding | None:
    """Returns `agent`'s binding in the context's tenant, if any."""
    with ctx.store.transaction() as db:
        row = db.execute(
            "SELECT * FROM agent_bindings WHERE tenant = ? AND agent = ?", (ctx.tenant, agent)
        ).fetchone()
    return _binding(row) if row is not None else None


def all_of_tenant(ctx: Context) -> tuple[list[Binding], int]:
    """Returns up to LIST_LIMIT bindings of the tenant, by agent, and how many there are."""
    with ctx.store.transaction() as db:
        total = db.execute(
            "SELECT COUNT(*) FROM agent_bindings WHERE tenant = ?", (ctx.tenant,)
        ).fetchone()[0]
        rows = db.execute(
            "SELECT * FROM agent_bindings WHERE tenant = ? ORDER BY agent LIMIT ?",
            (ctx.tenant, LIST_LIMIT),
        ).fetchall()
    return [_binding(r) for r in rows], int(total)


def drop_container(ctx: Context, container_id: str) -> list[str]:
    """Removes every binding of the tenant to a container (when it is destroyed).

    Returns:
        The agents that were bound to it.
    """
    if not ctx.store.exists():  # nothing was ever bound here: no file to make on each destroy
        return []
    with ctx.store.transaction() as db:
        rows = db.execute(
            "DELETE FROM agent_bindings WHERE tenant = ? AND container_id = ? RETURNING agent",
            (ctx.tenant, container_id),
        ).fetchall()
    return sorted(r["agent"] for r in rows)
