"""When each container was last used, which operations are using one now, and what expired.

Labels are fixed at create, so the last activity of a container needs a record every process
sees: a small SQLite database in the state directory. It is the only state the tool keeps
beside the engine, and it holds no secret: container ids and names, session ids, times, pids.
A process writes a container's row at most once a second (at the end of an operation), and
every `HEARTBEAT_S` while an operation on it runs (a long exec or a shell command is activity for
as long as it runs): a fraction of a millisecond per operation on average, where a marker file in
the container would cost an exec (tens of milliseconds) per operation.

- `activity`: the last time an operation touched a container.
- `tombstones`: containers the tool removed on its own (expired, orphaned), so that a later
  call on the name says what happened instead of a bare not_found.

If the database cannot be opened (a read-only home), operations go on and nothing expires:
without the records the tool cannot tell an idle container from a busy one.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from containers_tool import labels as lb
from containers_tool import times

log = logging.getLogger("containers_tool")

DB_NAME = "activity.sqlite3"
#: Tombstones older than this are dropped by sweeps.
TOMBSTONE_KEEP_S = 7 * 86400.0
#: Records of containers an engine no longer lists are dropped once this old: the records of
#: both engines (and of other hosts' engines) share one database, and a sweep sees one engine.
#: Dropping a live container's record only restarts its clock (never removes it early).
PRUNE_AFTER_S = 86400.0
#: While an operation runs, its containers' rows are written this often (expires_after >= 1 s).
HEARTBEAT_S = 0.5
#: A process writes one container's row at most this often outside the heartbeat.
THROTTLE_S = 1.0
DEFAULT_TENANT = lb.DEFAULT_TENANT
TENANT_LABEL = lb.TENANT

SCHEMA = """
create table if not exists activity(
  container_id text primary key, name text not null, session text, last_active real not null);
create table if not exists tombstones(
  name text primary key, container_id text, session text, tenant text, reason text not null,
  removed_at real not null, last_active real, detail text);
"""


def iso(ts: float | None) -> str | None:
    """Formats epoch seconds as every result shows times (see times.py)."""
    return None if ts is None else times.iso(ts)


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
        self._lock = threading.Lock()
        #: Last activity this process saw per container: a recent one means not expired, with
        #: no database read.
        self._seen: dict[str, float] = {}
        self._written: dict[str, float] = {}
        #: Containers operations of this process are using now: (name, session) and a count.
        self._held: dict[str, tuple[str, str | None, int]] = {}
        self._beat: threading.Thread | None = None

    def operation(self) -> contextlib.AbstractContextManager[None]:
        """Brackets one operation: containers it touches are in use until it ends."""
        return _Operation(self)

    def touch(
        self, cid: str, name: str, session: str | None, labels: Mapping[str, str] | None = None
    ) -> None:
        """Records that the current operation (if any) uses a container."""
        touched = getattr(self._local, "touched", None)
        limit = timeout_of(labels or {})
        if touched is None:
            self._record(cid, name, session, limit, force=True)
        elif cid not in touched:
            touched[cid] = (name, session, limit)
            self._hold(cid, name, session)
            self._record(cid, name, session, limit)

    def holding(self, cid: str) -> bool:
        """Tells whether an operation of this process is using the container now."""
        with self._lock:
            return cid in self._held

    def _record(
        self, cid: str, name: str, session: str | None, limit: float | None, force: bool = False
    ) -> None:
        now = time.time()
        self._seen[cid] = now
        throttle = min(THROTTLE_S, limit / 10) if limit else THROTTLE_S
        if force or now - self._written.get(cid, 0.0) >= throttle:
            self._written[cid] = now
            self.store.touch(cid, name, session, now)

    def _hold(self, cid: str, name: str, session: str | None) -> None:
        with self._lock:
            count = self._held.get(cid, (name, session, 0))[2]
            self._held[cid] = (name, session, count + 1)
            if self._beat is None:
                self._beat = threading.Thread(
                    target=self._heartbeat, name="containers-tool-activity", daemon=True
                )
                self._beat.start()

    def _release(self, cid: str) -> None:
        with self._lock:
            name, session, count = self._held.get(cid, ("", None, 1))
            if count > 1:
                self._held[cid] = (name, session, count - 1)
            else:
                self._held.pop(cid, None)

    def _heartbeat(self) -> None:
        """Keeps the rows of containers in use fresh, so other processes see them active."""
        while True:
            time.sleep(HEARTBEAT_S)
            with self._lock:
                if not self._held:  # nothing in use: the next operation starts a new thread
                    self._beat = None
                    return
                held = [(cid, name, session) for cid, (name, session, _) in self._held.items()]
            for cid, name, session in held:
                self._record(cid, name, session, None, force=True)

    def keep(self, cid: str, name: str, session: str | None) -> None:
        """Records activity now, unthrottled (keep_alive: other processes must see it at once)."""
        self._record(cid, name, session, None, force=True)

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
        if (seen is not None and now - seen < limit) or self.holding(cid):
            return None
        last = self.store.last_active([cid]).get(cid)
        if last is None or now - last < limit:
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
            # This process's own activity may be newer than its last (throttled) write.
            seen = max(last.get(cid, 0.0), self._seen.get(cid, 0.0)) or None
            if cid not in last and not self.store.broken:
                self.store.touch(cid, name, session, seen or now)
                seen = seen or now
            limit = timeout_of(labels)
            expires = seen + limit if seen is not None and limit is not None else None
            out[cid] = {"last_active_at": iso(seen), "expires_at": iso(expires)}
        return out

    def forget_seen(self, cid: str) -> None:
        """Drops this process's memory of a container (it was removed)."""
        self._seen.pop(cid, None)
        self._written.pop(cid, None)


class _Operation:
    """`Activity.operation()`: a class, as a generator's context manager costs more per call."""

    __slots__ = ("_activity", "_touched")

    def __init__(self, activity: Activity) -> None:
        self._activity = activity
        self._touched: dict[str, tuple[str, str | None, float | None]] | None = None

    def __enter__(self) -> None:
        local = self._activity._local
        if getattr(local, "touched", None) is None:  # nested: the outer one records
            self._touched = local.touched = {}

    def __exit__(self, *exc: object) -> None:
        touched, activity = self._touched, self._activity
        if touched is not None:
            activity._local.touched = None
            for cid, (name, session, limit) in touched.items():
                activity._release(cid)
                activity._record(cid, name, session, limit)
