"""Receiving MEF notifications: the listener, its inbox and its server.

    from lso_client.notifications import NotificationListener

    listener = NotificationListener(inbox="memory").start()

    @listener.on("serviceOrderStateChangeEvent")
    def changed(notification):
        print(notification.event.id, notification.event.state)

Public surface:

* `NotificationListener`: the ASGI app (serve it with `start()` or mount it), handler
  registry, dead letters (`dead_letters()`, `replay_dead_letters()`,
  `purge_dead_letters()`), per-subscription callbacks (`callback_url()`).
* `Notification`, `DeadLetter`, `ListenerStats`: what handlers and callers get.
* Inboxes, where accepted events wait for their handlers (at-least-once delivery):
  `MemoryInbox` (this process), `SQLiteInbox` (a file; the default, see
  `default_inbox()`), `RedisInbox`
  (shared by replicas; needs `pip install 'lso-client[redis]'`), and their base class
  `Inbox` with `InboxEntry`.
* `CatalogResolver`: which generated model an event parses into; `EventResolver`,
  `Authenticator` and `Handler` are the shapes of the callables the listener takes.
* `BackgroundServer`: uvicorn in a thread with slow-client protection (the listener
  and the mock seller use it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._events import CatalogResolver
from ._inbox import Inbox, InboxEntry, MemoryInbox
from ._listener import (
    DEFAULT_INBOX,
    Authenticator,
    DeadLetter,
    EventResolver,
    Handler,
    ListenerStats,
    Notification,
    NotificationListener,
    default_inbox,
)
from ._server import BackgroundServer, GuardStats
from ._sqlite import SQLiteInbox

if TYPE_CHECKING:
    from ._redis import RedisInbox

__all__ = [
    "DEFAULT_INBOX",
    "Authenticator",
    "BackgroundServer",
    "CatalogResolver",
    "DeadLetter",
    "EventResolver",
    "GuardStats",
    "Handler",
    "Inbox",
    "InboxEntry",
    "ListenerStats",
    "MemoryInbox",
    "Notification",
    "NotificationListener",
    "RedisInbox",
    "SQLiteInbox",
    "default_inbox",
]


def __getattr__(name: str) -> Any:
    # The Redis inbox module is light, but keep it (and its error about the missing
    # extra, raised when one is constructed) out of plain listener imports.
    if name == "RedisInbox":
        from ._redis import RedisInbox

        return RedisInbox
    raise AttributeError(f"module 'lso_client.notifications' has no attribute {name!r}")
