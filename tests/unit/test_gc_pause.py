"""The collector pause around large validations: narrow, restored on every path."""

from __future__ import annotations

import gc
import json
import threading
import weakref
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
    try:
        with _gc.paused_collector():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()  # the tests after this one run with the collector on


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


def _in_generation(obj: object, generation: int) -> bool:
    return any(found is obj for found in gc.get_objects(generation))


def test_what_the_pause_created_goes_straight_to_the_oldest_generation() -> None:
    with _gc.paused_collector():
        created = [[i] for i in range(10)]
    assert _in_generation(created, 2)
    assert not _in_generation(created, 0)
    assert gc.get_count()[0] < 50  # the allocations of the pause no longer count


def test_young_garbage_is_collected_when_the_pause_begins() -> None:
    class Node:
        other: Node

    collected = threading.Event()
    a, b = Node(), Node()
    a.other, b.other = b, a
    weakref.finalize(a, collected.set)
    del a, b
    assert not collected.is_set()  # a cycle: reference counting alone cannot free it
    with _gc.paused_collector():
        assert collected.is_set()


def test_objects_the_process_froze_stay_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with _gc.paused_collector():
            created = [[1], [2]]
        assert gc.get_freeze_count() == frozen
        assert _in_generation(created, 0)  # left to age normally
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_switched_off_nothing_is_promoted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_gc, "ENABLED", False)
    gc.collect()
    with _gc.paused_collector():
        created = [[i] for i in range(10)]
    assert not _in_generation(created, 2)


def test_a_finalizer_that_parses_while_the_pause_begins_does_not_deadlock() -> None:
    ran = threading.Event()

    class Node:
        other: Node

        def __del__(self) -> None:
            with _gc.paused_collector():
                ran.set()

    def scenario() -> None:
        a, b = Node(), Node()
        a.other, b.other = b, a
        del a, b
        with _gc.paused_collector():  # collects the young cycle, running its finalizers
            pass

    worker = threading.Thread(target=scenario, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "deadlocked"
    assert ran.is_set()
    assert gc.isenabled()
