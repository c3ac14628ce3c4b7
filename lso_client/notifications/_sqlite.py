"""An inbox in a SQLite file (standard library): survives a crash of the process.

One table holds the entries, one the recent de-duplication keys. The database runs in
WAL mode; every write is one transaction, committed before the listener answers the
seller. `synchronous="NORMAL"` (the default) survives the process being killed at
any point (a committed transaction is in the WAL file, which the operating system
writes out even when the process dies), which is what the listener promises; it does
not survive the machine losing power or the operating system crashing: the events
answered since the last checkpoint's fsync may be lost then. `"FULL"` survives those
too, at the cost of an fsync of the WAL per event (a few milliseconds on most disks);
choose it where a lost event costs more than that latency.

Several listener processes on one host may share the file (SQLite locks it); leases
decide which one delivers an entry. When a process opens the inbox, entries leased to
a process of this host that no longer exists are released at once, so a restarted
listener does not wait for their leases to run out.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

from ._inbox import Inbox, InboxEntry, check_window, live_owners

__all__ = ["SQLiteInbox"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    meta TEXT NOT NULL,
    body BLOB NOT NULL,
    dead INTEGER NOT NULL DEFAULT 0,
    due REAL NOT NULL DEFAULT 0,
    owner TEXT,
    lease_until REAL
);
CREATE INDEX IF NOT EXISTS inbox_due ON inbox (dead, due);
CREATE TABLE IF NOT EXISTS seen (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE
);
"""
_PRUNE_EVERY = 512


def _owner_is_gone(owner: str) -> bool:
    """Whether `owner` (`host:pid:nonce`) names a process of this host that has ended."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        # This process: gone unless a listener here still has it open; with our pid
        # but another nonce, it may also be an earlier process that had this pid.
        return owner not in live_owners
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


class SQLiteInbox(Inbox):
    """An inbox in the SQLite file at `path` (created with its directory when missing).

    `dedupe_window`: how many recent de-duplication keys are remembered (0: none).
    `synchronous`: SQLite's `synchronous` pragma, `"NORMAL"` or `"FULL"` (see above).
    `busy_timeout`: seconds to wait for another process's write lock.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        dedupe_window: int = 10_000,
        synchronous: str = "NORMAL",
        busy_timeout: float = 10.0,
    ) -> None:
        if synchronous.upper() not in ("NORMAL", "FULL", "EXTRA"):
            raise ValueError("synchronous must be NORMAL, FULL or EXTRA")
        self.path = Path(path)
        self._window = check_window(dedupe_window)
        self._synchronous = synchronous.upper()
        self._busy_timeout = busy_timeout
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._puts = 0

    def __repr__(self) -> str:
        return f"SQLiteInbox({str(self.path)!r})"

    def open(self) -> None:
        """Open (creating it if needed) the database file; entries leased to processes that
        are gone become due again. Idempotent.
        """
        with self._lock:
            self._connect()

    def _connect(self) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(
            self.path,
            timeout=self._busy_timeout,
            isolation_level=None,  # explicit BEGIN IMMEDIATE ... COMMIT
            check_same_thread=False,  # serialised by self._lock
        )
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={self._synchronous}")
        db.executescript(_SCHEMA)
        owners = [o for (o,) in db.execute("SELECT DISTINCT owner FROM inbox WHERE owner NOT NULL")]
        gone = [o for o in owners if _owner_is_gone(o)]
        if gone:
            marks = ",".join("?" * len(gone))
            db.execute(
                f"UPDATE inbox SET owner = NULL, lease_until = NULL WHERE owner IN ({marks})", gone
            )
        self._db = db
        return db

    def close(self) -> None:
        """Close the database connection; a later call opens it again."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = self._connect()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def put(self, entry: InboxEntry, *, owner: str | None, lease: float) -> bool:
        """Store `entry` unless its `dedupe_key` was seen; False for a duplicate."""
        with self._write() as db:
            key = entry.dedupe_key
            if key is not None and self._window:
                cursor = db.execute("INSERT OR IGNORE INTO seen (key) VALUES (?)", (key,))
                if cursor.rowcount == 0:
                    return False
                self._puts += 1
                if self._puts % _PRUNE_EVERY == 0 and cursor.lastrowid is not None:
                    db.execute(
                        "DELETE FROM seen WHERE seq <= ?", (cursor.lastrowid - self._window,)
                    )
            db.execute(
                "INSERT INTO inbox (id, meta, body, owner, lease_until) VALUES (?, ?, ?, ?, ?)",
                (
                    entry.id,
                    entry.meta_json(),
                    entry.body,
                    owner,
                    None if owner is None else time.time() + lease,
                ),
            )
            return True

    def claim(self, owner: str, limit: int, lease: float) -> list[InboxEntry]:
        """Lease up to `limit` due entries to `owner`, oldest first (see `Inbox.claim`)."""
        now = time.time()
        with self._write() as db:
            rows = db.execute(
                "SELECT id, meta, body FROM inbox WHERE dead = 0 AND due <= ?"
                " AND (owner IS NULL OR lease_until < ?) ORDER BY seq LIMIT ?",
                (now, now, limit),
            ).fetchall()
            db.executemany(
                "UPDATE inbox SET owner = ?, lease_until = ? WHERE id = ?",
                [(owner, now + lease, id) for id, _, _ in rows],
            )
        return [InboxEntry.from_json(id, meta, bytes(body)) for id, meta, body in rows]

    def renew(self, owner: str, ids: Collection[str], lease: float) -> None:
        """Extend `owner`'s leases on `ids` by `lease` seconds."""
        until = time.time() + lease
        with self._write() as db:
            db.executemany(
                "UPDATE inbox SET lease_until = ? WHERE id = ? AND owner = ?",
                [(until, id, owner) for id in ids],
            )

    def ack(self, id: str) -> None:
        """Remove the delivered entry `id`."""
        with self._write() as db:
            db.execute("DELETE FROM inbox WHERE id = ?", (id,))

    def release(self, entry: InboxEntry, delay: float, *, owner: str | None = None) -> bool:
        """Store `entry`'s progress and make it due again in `delay` s (see `Inbox.release`)."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE inbox SET meta = ?, due = ?, owner = NULL, lease_until = NULL"
                " WHERE id = ? AND dead = 0 AND (? IS NULL OR owner IS NULL OR owner = ?)",
                (entry.meta_json(), time.time() + max(0.0, delay), entry.id, owner, owner),
            )
            return cursor.rowcount > 0

    def bury(self, entry: InboxEntry, *, owner: str | None = None) -> bool:
        """Make `entry` a dead letter (see `Inbox.bury`); returns whether it was buried."""
        if entry.failed_at is None:
            entry.failed_at = time.time()
        with self._write() as db:
            cursor = db.execute(
                "UPDATE inbox SET meta = ?, dead = 1, owner = NULL, lease_until = NULL"
                " WHERE id = ? AND dead = 0 AND (? IS NULL OR owner IS NULL OR owner = ?)",
                (entry.meta_json(), entry.id, owner, owner),
            )
            return cursor.rowcount > 0

    def dead_letters(self, limit: int | None = None) -> list[InboxEntry]:
        """Dead letters, oldest first, at most `limit`."""
        with self._lock:
            rows = (
                self._connect()
                .execute(
                    "SELECT id, meta, body FROM inbox WHERE dead = 1 ORDER BY seq LIMIT ?",
                    (-1 if limit is None else limit,),
                )
                .fetchall()
            )
        return [InboxEntry.from_json(id, meta, bytes(body)) for id, meta, body in rows]

    def _dead_ids(self, db: sqlite3.Connection, ids: Collection[str] | None) -> list[str]:
        found = [id for (id,) in db.execute("SELECT id FROM inbox WHERE dead = 1")]
        return found if ids is None else [id for id in found if id in set(ids)]

    def replay(self, ids: Collection[str] | None = None) -> int:
        """Make dead letters (all, or `ids`) due now, attempts reset; returns how many."""
        now = time.time()
        with self._write() as db:
            chosen = self._dead_ids(db, ids)
            for id in chosen:
                (meta, body) = db.execute(
                    "SELECT meta, body FROM inbox WHERE id = ?", (id,)
                ).fetchone()
                entry = InboxEntry.from_json(id, meta, bytes(body))
                entry.attempts, entry.failed_at = 0, None
                db.execute(
                    "UPDATE inbox SET meta = ?, dead = 0, due = ? WHERE id = ?",
                    (entry.meta_json(), now, id),
                )
            return len(chosen)

    def purge(self, ids: Collection[str] | None = None) -> int:
        """Delete dead letters (all, or `ids`); returns how many."""
        with self._write() as db:
            chosen = self._dead_ids(db, ids)
            db.executemany("DELETE FROM inbox WHERE id = ?", [(id,) for id in chosen])
            return len(chosen)

    def pending(self) -> int:
        """Entries waiting or being delivered (dead letters excluded)."""
        with self._lock:
            (count,) = (
                self._connect().execute("SELECT COUNT(*) FROM inbox WHERE dead = 0").fetchone()
            )
        return int(count)
