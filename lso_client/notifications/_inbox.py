"""The listener's inbox: where an accepted notification waits until its handlers succeed.

The listener answers a seller 2xx only once the event is in the inbox, so an event
is never lost between the answer and its handlers, even if the process dies. The
inbox also remembers recent de-duplication keys, so that every replica sharing an
inbox (Redis) sees the same duplicates.

Lifecycle of an entry: `put` (leased to the receiving listener, which delivers it at
once, or ready for `claim`) -> `ack` (removed) when every handler succeeded, or
`release` (ready again after a backoff delay) when one failed, or `bury` (a dead
letter) when it failed too often. A lease that is not renewed runs out and the entry
becomes claimable again: that is how the events of a process that died are found.
Dead letters stay until `replay` (ready again) or `purge`.
"""

from __future__ import annotations

import heapq
import itertools
import json
import os
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass, replace

__all__ = ["Inbox", "InboxEntry", "MemoryInbox", "live_owners"]

#: Owners (listener instances) of this process whose inbox is open: a SQLite inbox
#: opened again in this process must not release their leases.
live_owners: set[str] = set()


@dataclass
class InboxEntry:
    """One accepted notification as the inbox keeps it.

    `id` is unique per accepted request and sorts by arrival time (`new_id()`);
    `dedupe_key` (`channel` + `eventId`, None when the event has no id or de-duplication
    is off) is what duplicates share. `body` is
    the request body as received; `headers` omit `authorization`. `attempts` counts
    failed deliveries, `done` names the handlers that already succeeded (not run again),
    `error` describes the last failure, `failed_at` is when it became a dead letter.
    """

    id: str
    dedupe_key: str | None
    channel: str
    subscription: str | None
    event_type: str
    event_id: str | None
    path: str
    body: bytes
    headers: dict[str, str]
    received_at: float
    attempts: int = 0
    done: tuple[str, ...] = ()
    error: str | None = None
    failed_at: float | None = None

    @staticmethod
    def new_id() -> str:
        """A unique id that begins with the time, so ids sort by arrival."""
        return f"{time.time_ns():016x}{os.urandom(8).hex()}"

    def meta_json(self) -> str:
        """Everything but `body` and `id`, as JSON (for inboxes that store text)."""
        return json.dumps(
            {
                "dedupe_key": self.dedupe_key,
                "channel": self.channel,
                "subscription": self.subscription,
                "event_type": self.event_type,
                "event_id": self.event_id,
                "path": self.path,
                "headers": self.headers,
                "received_at": self.received_at,
                "attempts": self.attempts,
                "done": list(self.done),
                "error": self.error,
                "failed_at": self.failed_at,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, id: str, meta: str | bytes, body: bytes) -> InboxEntry:
        """The inverse of `meta_json`."""
        data = json.loads(meta)
        return cls(
            id=id,
            dedupe_key=data["dedupe_key"],
            channel=data["channel"],
            subscription=data.get("subscription"),
            event_type=data["event_type"],
            event_id=data["event_id"],
            path=data["path"],
            body=body,
            headers=dict(data["headers"]),
            received_at=float(data["received_at"]),
            attempts=int(data["attempts"]),
            done=tuple(data["done"]),
            error=data["error"],
            failed_at=data["failed_at"],
        )


class Inbox(ABC):
    """Where accepted notifications wait for their handlers; shared by listener replicas.

    Implementations: `MemoryInbox` (one process, lost on exit), `SQLiteInbox` (a file;
    survives a crash; processes on one host may share it) and `RedisInbox` (replicas on
    several hosts share it). Methods are synchronous and thread-safe; when `blocking`
    is true (network I/O), the listener calls them from a worker thread.

    `owner` names a listener instance; `lease` is how long (seconds) a claimed entry stays
    reserved for it unless renewed. Every method may be called before `open()`, which
    then happens implicitly.
    """

    blocking: bool = False

    def open(self) -> None:  # noqa: B027 - optional hook
        """Prepare storage (create files, tables, connections). Idempotent."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release storage handles; the inbox may be opened again."""

    @abstractmethod
    def put(self, entry: InboxEntry, *, owner: str | None, lease: float) -> bool:
        """Store `entry` durably unless its `dedupe_key` was seen; False for a duplicate.

        With `owner`, the entry is leased to it (it delivers the entry at once); without,
        it is ready for `claim`.
        """

    @abstractmethod
    def claim(self, owner: str, limit: int, lease: float) -> list[InboxEntry]:
        """Lease up to `limit` entries that are due and not leased (or whose lease ran
        out) to `owner`, oldest first."""

    @abstractmethod
    def renew(self, owner: str, ids: Collection[str], lease: float) -> None:
        """Extend the leases of entries still being delivered."""

    @abstractmethod
    def ack(self, id: str) -> None:
        """Remove a delivered entry."""

    @abstractmethod
    def release(self, entry: InboxEntry, delay: float, *, owner: str | None = None) -> bool:
        """Store `entry`'s new `attempts`, `done` and `error`; due again in `delay` s.

        With `owner`, only while no other owner has claimed the entry since (its lease
        ran out and another listener is delivering it: that one settles it); returns
        whether the entry was released.
        """

    @abstractmethod
    def bury(self, entry: InboxEntry, *, owner: str | None = None) -> bool:
        """Make `entry` a dead letter (stored with its `attempts`, `done`, `error`);
        with `owner`, only as `release` allows. Returns whether it was buried."""

    @abstractmethod
    def dead_letters(self, limit: int | None = None) -> list[InboxEntry]:
        """Dead letters, oldest first."""

    @abstractmethod
    def replay(self, ids: Collection[str] | None = None) -> int:
        """Make dead letters (all, or these) due now with a fresh attempt count; returns
        how many."""

    @abstractmethod
    def purge(self, ids: Collection[str] | None = None) -> int:
        """Delete dead letters (all, or these); returns how many."""

    @abstractmethod
    def pending(self) -> int:
        """Entries waiting or being delivered (dead letters excluded)."""


def check_window(dedupe_window: int) -> int:
    """`dedupe_window`, checked (a ValueError when negative)."""
    if dedupe_window < 0:
        raise ValueError("dedupe_window must be >= 0")
    return dedupe_window


@dataclass
class _Slot:
    entry: InboxEntry
    seq: int
    due: float = 0.0
    owner: str | None = None
    lease_until: float = 0.0


class MemoryInbox(Inbox):
    """An inbox in this process's memory: fast, lost when the process ends.

    For tests, notebooks and listeners whose events can be re-read from the seller.
    `dedupe_window` is how many recent de-duplication keys are remembered (0: none).
    """

    def __init__(self, *, dedupe_window: int = 10_000) -> None:
        self._window = check_window(dedupe_window)
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._slots: dict[str, _Slot] = {}
        self._dead: dict[str, _Slot] = {}
        self._ready: list[tuple[float, int, str]] = []  # (due, seq, id); stale items skipped
        self._leases: list[tuple[float, str]] = []  # (lease_until, id); stale items skipped
        self._seq = itertools.count()

    def put(self, entry: InboxEntry, *, owner: str | None, lease: float) -> bool:
        """Store `entry` unless its `dedupe_key` was seen; False for a duplicate."""
        key = entry.dedupe_key
        with self._lock:
            if key is not None and self._window:
                if key in self._seen:
                    self._seen.move_to_end(key)
                    return False
                self._seen[key] = None
                if len(self._seen) > self._window:
                    self._seen.popitem(last=False)
            slot = _Slot(entry, next(self._seq))
            self._slots[entry.id] = slot
            if owner is None:
                heapq.heappush(self._ready, (0.0, slot.seq, entry.id))
            else:
                self._lease(slot, owner, time.monotonic() + lease)
            return True

    def _lease(self, slot: _Slot, owner: str, until: float) -> None:
        slot.owner, slot.lease_until = owner, until
        heapq.heappush(self._leases, (until, slot.entry.id))

    def claim(self, owner: str, limit: int, lease: float) -> list[InboxEntry]:
        """Lease up to `limit` due entries to `owner`, oldest first (see `Inbox.claim`)."""
        now = time.monotonic()
        with self._lock:
            # Leases that ran out make their entries ready again.
            while self._leases and self._leases[0][0] <= now:
                until, id = heapq.heappop(self._leases)
                slot = self._slots.get(id)
                if slot is not None and slot.owner is not None and slot.lease_until == until:
                    slot.owner, slot.due = None, now
                    heapq.heappush(self._ready, (now, slot.seq, id))
            found: list[InboxEntry] = []
            while self._ready and len(found) < limit and self._ready[0][0] <= now:
                due, _seq, id = heapq.heappop(self._ready)
                slot = self._slots.get(id)
                if slot is None or slot.owner is not None or slot.due != due:
                    continue  # acked, leased, or rescheduled since this item was pushed
                self._lease(slot, owner, now + lease)
                found.append(replace(slot.entry))
            found.sort(key=lambda e: self._slots[e.id].seq)
            return found

    def renew(self, owner: str, ids: Collection[str], lease: float) -> None:
        """Extend `owner`'s leases on `ids` by `lease` seconds."""
        until = time.monotonic() + lease
        with self._lock:
            for id in ids:
                slot = self._slots.get(id)
                if slot is not None and slot.owner == owner:
                    self._lease(slot, owner, until)

    def ack(self, id: str) -> None:
        """Remove the delivered entry `id`."""
        with self._lock:
            self._slots.pop(id, None)

    def release(self, entry: InboxEntry, delay: float, *, owner: str | None = None) -> bool:
        """Store `entry`'s progress and make it due again in `delay` s (see `Inbox.release`)."""
        with self._lock:
            slot = self._slots.get(entry.id)
            if slot is None or (owner is not None and slot.owner not in (owner, None)):
                return False
            slot.entry = replace(entry)
            slot.owner = None
            slot.due = time.monotonic() + max(0.0, delay)
            heapq.heappush(self._ready, (slot.due, slot.seq, entry.id))
            return True

    def bury(self, entry: InboxEntry, *, owner: str | None = None) -> bool:
        """Make `entry` a dead letter (see `Inbox.bury`); returns whether it was buried."""
        with self._lock:
            slot = self._slots.get(entry.id)
            if slot is None or (owner is not None and slot.owner not in (owner, None)):
                return False
            del self._slots[entry.id]
            slot.entry = replace(entry, failed_at=entry.failed_at or time.time())
            slot.owner = None
            self._dead[entry.id] = slot
            return True

    def dead_letters(self, limit: int | None = None) -> list[InboxEntry]:
        """Dead letters, oldest first, at most `limit`."""
        with self._lock:
            slots = sorted(self._dead.values(), key=lambda s: s.seq)
            return [replace(s.entry) for s in slots[:limit]]

    def replay(self, ids: Collection[str] | None = None) -> int:
        """Make dead letters (all, or `ids`) due now, attempts reset; returns how many."""
        now = time.monotonic()
        with self._lock:
            chosen = list(self._dead) if ids is None else [i for i in ids if i in self._dead]
            for id in chosen:
                slot = self._dead.pop(id)
                slot.entry = replace(slot.entry, attempts=0, failed_at=None)
                slot.due = now
                self._slots[id] = slot
                heapq.heappush(self._ready, (now, slot.seq, id))
            return len(chosen)

    def purge(self, ids: Collection[str] | None = None) -> int:
        """Delete dead letters (all, or `ids`); returns how many."""
        with self._lock:
            chosen = list(self._dead) if ids is None else [i for i in ids if i in self._dead]
            for id in chosen:
                del self._dead[id]
            return len(chosen)

    def pending(self) -> int:
        """Entries waiting or being delivered (dead letters excluded)."""
        with self._lock:
            return len(self._slots)
