"""Fixtures shared by the unit and integration tests."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from _faulty import FaultySeller, Handler

# Tests that start outside servers are marked by the fixtures they use, so that
# `make test-unit` (`-m "not integration and not broker and not redis"`) leaves them out.
_SERVER_FIXTURES = {"broker": "broker", "redis_url": "redis"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            if fixture in _SERVER_FIXTURES:
                item.add_marker(_SERVER_FIXTURES[fixture])
    # `LSO_TEST_SHARD=i/n` keeps every n-th test from the i-th: `make test-unit` runs two
    # shards side by side, since most of the tests' time is spent waiting on sockets.
    shard = os.environ.get("LSO_TEST_SHARD")
    if shard:
        index, count = (int(part) for part in shard.split("/"))
        kept = [item for n, item in enumerate(items) if n % count == index]
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


@pytest.fixture
def faulty_seller() -> Iterator[Callable[[Handler], FaultySeller]]:
    """Start a `FaultySeller` (see `tests/_faulty.py`) with a handler; stopped after the test."""
    started: list[FaultySeller] = []

    def start(handler: Handler) -> FaultySeller:
        seller = FaultySeller(handler).start()
        started.append(seller)
        return seller

    yield start
    for seller in started:
        seller.stop()


@pytest.fixture(autouse=True)
def _listener_inbox_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Listeners built without `inbox=` keep their events in memory: a test (or an example
    it runs) never leaves a file behind nor picks up another test's leftover events. Tests
    of the durable inboxes name theirs."""
    monkeypatch.setenv("LSO_CLIENT_INBOX", "memory")
