"""Fixtures shared by the unit and integration tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from _faulty import FaultySeller, Handler


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
