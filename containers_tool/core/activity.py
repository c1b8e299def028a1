"""When each container was last used, which operations are using one now, and what expired.

Labels are fixed at create, so the last activity of a container needs a record every process
sees: a small SQLite database in the state directory. It is the only state the tool keeps
beside the engine, and it holds no secret: container ids and names, session ids, times, pids.
An operation costs two short transactions (begin, end), a fraction of a millisecond, where a
marker file in the container would cost an exec (tens of milliseconds) per operation.

- `activity`: the last time an operation touched a container (begin and end of each one).
- `inflight`: operations running now, with the process that runs them; a long exec or a shell
  command is activity for as long as it runs. A row whose process died is ignored and dropped.
- `tombstones`: containers the tool removed on its own (expired, orphaned), so that a later
  call on the name says what happened instead of a bare not_found.

If the database cannot be opened (a read-only home), operations go on and nothing expires:
without the records the tool cannot tell an idle container from a busy one.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from containers_tool import labels as lb
from containers_tool.core import owner

log = logging.getLogger("containers_tool")

DB_NAME = "activity.sqlite3"
#: Tombstones older than this are dropped by sweeps.
TOMBSTONE_KEEP_S = 7 * 86400.0
#: Records of containers an engine no longer lists are dropped once this old: the records of
#: both engines (and of other hosts' engines) share one database, and a sweep sees one engine.
#: Dropping a live container's record only restarts its clock (never removes it early).
PRUNE_AFTER_S = 86400.0
DEFAULT_TENANT = lb.DEFAULT_TENANT
TENANT_LABEL = lb.TENANT

SCHEMA = """
create table if not exists activity(
  container_id text primary key, name text not null, session text, last_active real not null);
create table if not exists inflight(
  token text primary key, container_id text not null, pid integer not null,
  start text not null, boot text not null);
create index if not exists inflight_container on inflight(container_id);
create table if not exists tombstones(
  name text primary key, container_id text, session text, tenant text, reason text not null,
  removed_at real not null, last_active real, detail text);
"""


def iso(ts: float | None) -> str | None:
    """Formats epoch seconds as ISO 8601 UTC, as results show times."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def tenant_of(labels: Mapping[str, str]) -> str:
    """The tenant a container belongs to (the one place that reads it, for metrics and records)."""
    return labels.get(TENANT_LABEL) or DEFAULT_TENANT


def timeout_of(labels: Mapping[str, str]) -> float | None:
    """The container's idle timeout in seconds, from its label; None when it never expires."""
    try:
        seconds = float(labels.get(lb.IDLE_TIMEOUT, "0"))
    except ValueError:
        return None
    return seconds if seconds > 0 else None


@dataclass(frozen=True, slots=True)
class Tombstone:
    """A container the tool removed on its own, and why."""

    name: str
    session: str | None
    tenant: str
    reason: str  # "expired" or "orphaned"
    removed_at: float
    last_active: float | None
    detail: str


class ActivityStore:
    """The SQLite records of one state directory, shared by every process that uses it.

    Args:
        directory: The state directory (made on first use).
    """

    def __init__(self, directory: Path) -> None:
        self.path = directory / DB_NAME
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self.broken = False

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection | None]:
        with self._lock:
            if self._conn is None and not self.broken:
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    conn = sqlite3.connect(self.path, timeout=5, check_same_thread=False)
                    conn.execute("pragma journal_mode=wal")
                    conn.execute("pragma synchronous=normal")
                    conn.executescript(SCHEMA)
                    self._conn = conn
                except (sqlite3.Error, OSError) as exc:
                    self.broken = True
                    log.warning("activity records unavailable (%s): nothing expires", exc)
            try:
                yield self._conn
            except sqlite3.Error as exc:  # e.g. locked for longer than the timeout
                log.warning("activity record not written: %s", exc)

    def begin(self, token: str, cid: str, name: str, session: str | None, now: float) -> None:
        """Records an operation starting on a container (with this process as its runner)."""
        me = owner.current()
        with self._db() as db:
            if db is not None:
                with db:
                    _upsert(db, cid, name, session, now)
                    db.execute(
                        "insert or replace into inflight values(?,?,?,?,?)",
                        (token, cid, me.pid, me.start, me.boot),
                    )

    def end(self, token: str, cid: str, now: float) -> None:
        """Records an operation on a container ending."""
        with self._db() as db:
            if db is not None:
                with db:
                    db.execute(
                        "update activity set last_active=max(last_active, ?) where container_id=?",
                        (now, cid),
                    )
                    db.execute("delete from inflight where token=?", (token,))

    def touch(self, cid: str, name: str, session: str | None, now: float) -> None:
        """Records activity on a container (create, keep_alive, a running job seen by a sweep)."""
        with self._db() as db:
            if db is not None:
                with db:
                    _upsert(db, cid, name, session, now)

    def last_active(self, cids: Iterable[str]) -> dict[str, float]:
        """The recorded last activity of each container that has a record."""
        ids = list(cids)
        if not ids:
            return {}
        with self._db() as db:
            if db is None:
                return {}
            marks = ",".join("?" * len(ids))
            rows = db.execute(
                f"select container_id, last_active from activity where container_id in ({marks})",  # noqa: S608 - placeholders only
                ids,
            ).fetchall()
            return {str(cid): float(ts) for cid, ts in rows}
        return {}

    def busy(self, cids: Iterable[str]) -> set[str]:
        """Containers an operation of a live process is using now; rows of dead ones are dropped."""
        ids = list(cids)
        if not ids:
            return set()
        with self._db() as db:
            if db is None:
                return set(ids)  # unknown: never remove on a guess
            marks = ",".join("?" * len(ids))
            rows = db.execute(
                f"select token, container_id, pid, start, boot from inflight where container_id in ({marks})",  # noqa: S608, E501 - placeholders only
                ids,
            ).fetchall()
            found, dead = set(), []
            for token, cid, pid, start, boot in rows:
                if owner.alive(int(pid), str(start), str(boot)):
                    found.add(str(cid))
                else:
                    dead.append((token,))
            if dead:
                with db:
                    db.executemany("delete from inflight where token=?", dead)
            return found
        return set(ids)

    def prune(self, existing: set[str], now: float) -> None:
        """Drops old records of containers not in `existing` (one engine's), and old tombstones."""
        with self._db() as db:
            if db is None:
                return
            old = db.execute(
                "select container_id from activity where last_active<?", (now - PRUNE_AFTER_S,)
            )
            gone = [(cid,) for (cid,) in old if cid not in existing]
            with db:
                db.executemany("delete from activity where container_id=?", gone)
                db.execute("delete from tombstones where removed_at<?", (now - TOMBSTONE_KEEP_S,))

    def bury(self, stone: Tombstone, cid: str) -> None:
        """Records that the tool removed a container on its own."""
        with self._db() as db:
            if db is not None:
                with db:
                    db.execute(
                        "insert or replace into tombstones values(?,?,?,?,?,?,?,?)",
                        (
                            stone.name,
                            cid,
                            stone.session,
                            stone.tenant,
                            stone.reason,
                            stone.removed_at,
                            stone.last_active,
                            stone.detail,
                        ),
                    )
                    db.execute("delete from activity where container_id=?", (cid,))

    def tombstone(self, name: str) -> Tombstone | None:
        """The record of a container by that name that the tool removed on its own, if any."""
        with self._db() as db:
            if db is None:
                return None
            row = db.execute(
                "select name, session, tenant, reason, removed_at, last_active, detail "
                "from tombstones where name=?",
                (name,),
            ).fetchone()
            if row is None:
                return None
            return Tombstone(
                str(row[0]),
                row[1],
                str(row[2] or DEFAULT_TENANT),
                str(row[3]),
                float(row[4]),
                None if row[5] is None else float(row[5]),
                str(row[6] or ""),
            )
        return None

    def unbury(self, name: str) -> None:
        """Forgets a tombstone: a new container now has that name."""
        with self._db() as db:
            if db is not None:
                with db:
                    db.execute("delete from tombstones where name=?", (name,))

    def close(self) -> None:
        """Closes the connection (it reopens on the next use)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _upsert(db: sqlite3.Connection, cid: str, name: str, session: str | None, now: float) -> None:
    db.execute(
        "insert into activity values(?,?,?,?) on conflict(container_id) do update set "
        "last_active=max(last_active, excluded.last_active), name=excluded.name",
        (cid, name, session, now),
    )


class Activity:
    """One context's view of the records: what its operations touch, and what has expired.

    Args:
        directory: The state directory.
    """

    def __init__(self, directory: Path) -> None:
        self.store = ActivityStore(directory)
        self._local = threading.local()
        #: Last activity this process recorded per container: a recent one means not expired,
        #: with no database read.
        self._seen: dict[str, float] = {}

    @contextlib.contextmanager
    def operation(self) -> Iterator[None]:
        """Brackets one operation: containers it touches are in use until it ends."""
        outer = getattr(self._local, "touched", None)
        if outer is not None:  # nested: the outer operation owns the records
            yield
            return
        touched: dict[str, str] = {}
        self._local.touched = touched
        try:
            yield
        finally:
            self._local.touched = None
            now = time.time()
            for cid, token in touched.items():
                self._seen[cid] = now
                self.store.end(token, cid, now)

    def touch(self, cid: str, name: str, session: str | None) -> None:
        """Records that the current operation uses a container (once per operation)."""
        touched: dict[str, str] | None = getattr(self._local, "touched", None)
        now = time.time()
        self._seen[cid] = now
        if touched is None:
            self.store.touch(cid, name, session, now)
        elif cid not in touched:
            touched[cid] = token = secrets.token_hex(8)
            self.store.begin(token, cid, name, session, now)

    def created(self, cid: str, name: str, session: str | None) -> None:
        """Starts a new container's clock; a tombstone of an earlier one by that name goes."""
        self.touch(cid, name, session)
        self.store.unbury(name)

    def idle_since(self, cid: str, labels: Mapping[str, str]) -> float | None:
        """The last activity of an expired container (idle past its timeout, in use by nobody).

        Returns:
            None when the container is not expired (or never expires, or has no record).
        """
        limit = timeout_of(labels)
        if limit is None:
            return None
        now = time.time()
        seen = self._seen.get(cid)
        if seen is not None and now - seen < limit:
            return None
        last = self.store.last_active([cid]).get(cid)
        if last is None or now - last < limit or self.store.busy([cid]):
            return None
        return last

    def describe(
        self, infos: Iterable[tuple[str, str, str | None, Mapping[str, str]]]
    ) -> dict[str, dict[str, object]]:
        """`last_active_at` and `expires_at` of containers (id, name, session, labels).

        A container without a record (made before records were kept, or by a process with
        another state directory) starts its clock now.
        """
        rows = list(infos)
        last = self.store.last_active(r[0] for r in rows)
        now = time.time()
        out: dict[str, dict[str, object]] = {}
        for cid, name, session, labels in rows:
            if cid not in last and not self.store.broken:
                self.store.touch(cid, name, session, now)
                last[cid] = now
            seen = last.get(cid)
            limit = timeout_of(labels)
            expires = seen + limit if seen is not None and limit is not None else None
            out[cid] = {"last_active_at": iso(seen), "expires_at": iso(expires)}
        return out

    def forget_seen(self, cid: str) -> None:
        """Drops this process's memory of a container (it was removed)."""
        self._seen.pop(cid, None)
