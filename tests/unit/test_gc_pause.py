"""The collector pause around large validations: narrow, restored on every path."""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Iterator

import pytest

from lso_client import _gc
from lso_client._generated import service_ordering_v1 as m
from lso_client._parsing import parse_json
from lso_client.testing import example_service_order


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_paused_inside_and_restored_after() -> None:
    with _gc.paused_collector():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_restored_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), _gc.paused_collector():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_the_caller_disabled_stays_disabled() -> None:
    gc.disable()
    with _gc.paused_collector():
        pass
    assert not gc.isenabled()


def test_overlapping_threads_restore_it_once_the_last_leaves() -> None:
    inside = threading.Barrier(2)
    first_out = threading.Event()
    seen_after_first: list[bool] = []

    def first() -> None:
        with _gc.paused_collector():
            inside.wait()
        first_out.set()

    def second() -> None:
        with _gc.paused_collector():
            inside.wait()
            first_out.wait(5)
            seen_after_first.append(gc.isenabled())

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert seen_after_first == [False]  # still paused while the second thread parses
    assert gc.isenabled()


def test_switched_off_it_never_touches_the_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_gc, "ENABLED", False)
    with _gc.paused_collector():
        assert gc.isenabled()


def test_a_large_page_parses_the_same_with_and_without_the_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    orders = []
    for seed in range(40):
        order = example_service_order(seed=seed, items=3)
        order.update(id=f"o{seed}", state="completed", orderDate="2026-01-01T00:00:00Z")
        for item in order["serviceOrderItem"]:
            item["state"] = "completed"
        orders.append(order)
    raw = json.dumps(orders).encode()
    assert len(raw) >= 64 * 1024
    paused = parse_json(list[m.ServiceOrder], raw).value
    assert gc.isenabled()
    monkeypatch.setattr(_gc, "ENABLED", False)
    plain = parse_json(list[m.ServiceOrder], raw).value
    assert [o.to_dict() for o in paused] == [o.to_dict() for o in plain] == orders
