"""State that the engine cannot hold, shared by every process of a tenant on this host.

The engine is the record wherever it can be: labels say what the tool made. A fact decided after
an object exists (an agent bound to a container) cannot go into its labels, which are fixed at
create. Such facts live here, in one SQLite file under the state dir: every process on the host
opens the same file, WAL lets readers run beside the one writer, and each change is one
`BEGIN IMMEDIATE` transaction, so two processes changing one row leave exactly one result.

The module knows no table: a feature registers its schema with `Store.table` and writes its
own SQL, so other features (activity times, say) can keep their rows in the same file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

#: How long a connection waits for another process's write before giving up.
BUSY_TIMEOUT_S = 30.0
FILE_NAME = "state.sqlite3"
SETUP_LOCK = "state.setup.lock"


class Store:
    """One SQLite database file; one connection per process, one transaction at a time.

    Args:
        folder: The state directory (made, mode 0700, on first use).
    """

    _schemas: ClassVar[dict[str, str]] = {}
    _schemas_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / FILE_NAME
        self._ready: set[str] = set()
        self._lock = threading.Lock()
        # One connection, one transaction at a time in this process: opening a connection
        # (and setting WAL) for each transaction cost more than the transaction itself.
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    @classmethod
    def table(cls, name: str, ddl: str) -> None:
        """Registers a table's `CREATE TABLE IF NOT EXISTS ...` (and index) statements.

        Args:
            name: The table's name, for the record of which schemas were applied.
            ddl: One or more SQL statements, each idempotent.
        """
        with cls._schemas_lock:
            cls._schemas[name] = ddl

    def exists(self) -> bool:
        """Tells whether anything was ever stored (readers may skip a store never written)."""
        return self.path.exists()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Yields a connection inside `BEGIN IMMEDIATE`; commits on success, else rolls back.

        IMMEDIATE takes the write lock at the start, so a read-then-write inside it cannot be
        interleaved with another process's write.

        Raises:
            sqlite3.Error: The database could not be opened or written.
        """
        with self._lock:
            conn = self._connect()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def close(self) -> None:
        """Closes this process's connection (the next transaction opens another)."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def _connect(self) -> sqlite3.Connection:
        """This process's connection, opened on first use (a forked child opens its own)."""
        if self._conn is None or self._pid != os.getpid():
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            # isolation_level=None: transactions are the explicit BEGIN, nothing implicit.
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            # Switching a new file to WAL, and DDL on it, can fail at once with "database is
            # locked" when other processes do the same: SQLite skips the busy handler where
            # waiting could deadlock. One flock around the set-up makes them take turns.
            with file_lock(self.folder / SETUP_LOCK):
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._conn, self._pid = conn, os.getpid()
            self._ready = set()
        with self._schemas_lock:
            pending = {n: d for n, d in self._schemas.items() if n not in self._ready}
        if pending:
            with file_lock(self.folder / SETUP_LOCK):
                for name, ddl in pending.items():
                    self._conn.executescript(ddl)
                    self._ready.add(name)
        return self._conn


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Holds an exclusive flock on `path` across threads and processes of this host.

    flock belongs to the open file, so two threads of one process exclude each other too.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with path.open("a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
