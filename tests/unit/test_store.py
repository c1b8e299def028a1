"""The state store under contention: many processes opening one new file at once."""

from __future__ import annotations

import threading
from pathlib import Path

from containers_tool.store import Store

Store.table("race_rows", "CREATE TABLE IF NOT EXISTS race_rows (k TEXT PRIMARY KEY, n INT);")


def _first_writes_at_once(folder: Path, writers: int) -> list[BaseException]:
    """Has `writers` stores (one per process, in effect) each write once to a new file."""
    stores = [Store(folder) for _ in range(writers)]
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(store: Store, n: int) -> None:
        barrier.wait()
        try:
            with store.transaction() as db:
                db.execute("INSERT OR REPLACE INTO race_rows VALUES (?, ?)", (f"k{n}", n))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=write, args=(s, n)) for n, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_first_use_of_a_new_store_never_says_locked(tmp_path: Path) -> None:
    # Setting WAL on a new file made one of several simultaneous openers fail at once with
    # "database is locked" (SQLite does not wait there); about 1 round in 100 before the fix.
    for round_ in range(150):
        folder = tmp_path / f"r{round_}"
        assert _first_writes_at_once(folder, 12) == []
        with Store(folder).transaction() as db:
            assert db.execute("SELECT count(*) FROM race_rows").fetchone()[0] == 12
