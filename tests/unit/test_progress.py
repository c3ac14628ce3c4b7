"""Progress callbacks on listings and waits, `tqdm_progress`, and `cancel_on_interrupt`:
sync and async, against the mock seller over loopback."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from _job_bodies import pm_job_body

from lso_client import AllegroClient, AsyncAllegroClient, MissingExtraError
from lso_client._extras import require
from lso_client._generated import fault_management_v3, performance_monitoring_v2
from lso_client._generated import performance_monitoring_v5 as pm
from lso_client._generated import service_function_testing_v3 as sft
from lso_client._waiting import ref_body
from lso_client.progress import tqdm_progress
from lso_client.testing import MockSeller, example_service_order


def _orders(client: AllegroClient, count: int) -> None:
    for number in range(count):
        client.service_orders.create(example_service_order(external_id=f"BUY-{number}"))


def test_a_listing_reports_items_so_far_and_the_total(mock_seller: MockSeller) -> None:
    calls: list[tuple[int, int | None]] = []
    with AllegroClient(mock_seller.url) as client:
        _orders(client, 5)
        items = list(client.service_orders.list(limit=2, progress=lambda *a: calls.append(a)))
        assert len(items) == 5
        assert calls == [(2, 5), (4, 5), (5, 5)]

        calls.clear()
        found = list(
            client.service_orders.list(limit=2, max_items=3, progress=lambda *a: calls.append(a))
        )
        assert len(found) == 3
        assert calls == [(2, 3), (3, 3)]


def test_a_listing_without_a_total_reports_none(faulty_seller: Any) -> None:
    from _faulty import Reply, minimal_order

    def answer(request: Any) -> Reply:
        offset = int(request.query.split("offset=")[1].split("&")[0])
        items = [minimal_order(n) for n in range(offset, min(offset + 2, 3))]
        return Reply.json(items)

    seller = faulty_seller(answer)
    calls: list[tuple[int, int | None]] = []
    with AllegroClient(seller.url) as client:
        list(client.service_orders.list(limit=2, progress=lambda *a: calls.append(a)))
    assert calls == [(2, None), (3, None)]


async def test_an_async_listing_reports_as_the_sync_one(mock_seller: MockSeller) -> None:
    with AllegroClient(mock_seller.url) as client:
        _orders(client, 3)
    calls: list[tuple[int, int | None]] = []
    async with AsyncAllegroClient(mock_seller.url) as client:
        pager = client.service_orders.list(limit=2, progress=lambda *a: calls.append(a))
        assert len([order async for order in pager]) == 3
    assert calls == [(2, 3), (3, 3)]


def test_a_wait_reports_each_state_it_read(mock_seller: MockSeller) -> None:
    seen: list[Any] = []
    with AllegroClient(mock_seller.url) as client:
        order = client.service_orders.create(example_service_order())
        done = client.service_orders.wait(
            order.id, timeout=30, poll_interval=0.01, progress=seen.append
        )
    assert seen[-1].state == done.state == "completed"
    assert all(item.id == order.id for item in seen)


async def test_an_async_wait_reports_each_state_it_read(mock_seller: MockSeller) -> None:
    seen: list[Any] = []
    async with AsyncAllegroClient(mock_seller.url) as client:
        order = await client.service_orders.create(example_service_order())
        done = await client.service_orders.create_and_wait(
            example_service_order(), wait_timeout=30, poll_interval=0.01, progress=seen.append
        )
    assert seen[-1].state == done.state == "completed"
    assert order.id != done.id


def test_tqdm_progress_draws_listings_and_waits(mock_seller: MockSeller) -> None:
    out = io.StringIO()
    with AllegroClient(mock_seller.url) as client:
        _orders(client, 3)
        with tqdm_progress(desc="orders", file=out) as bar:
            assert len(list(client.service_orders.list(limit=2, progress=bar))) == 3
        assert (bar.bar.n, bar.bar.total) == (3, 3)
        order = client.service_orders.create(example_service_order())
        with tqdm_progress(desc="order", file=out) as bar:
            client.service_orders.wait(order.id, timeout=30, poll_interval=0.01, progress=bar)
    assert "orders" in out.getvalue()
    assert "state=completed" in out.getvalue()


def test_a_missing_extra_names_what_to_install() -> None:
    with pytest.raises(MissingExtraError, match=r"pip install 'lso-client\[nothing\]'") as caught:
        require("nothing", "lso_client_no_such_module")
    assert isinstance(caught.value, ImportError)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (pm.CancelPerformanceJobCreate, {"performanceJob": {"performanceJobId": "j"}}),
        (performance_monitoring_v2.CancelPerformanceJobCreate, {"performanceJob": {"id": "j"}}),
        (
            fault_management_v3.CancelFaultManagementJobCreate,
            {"faultManagementJob": {"faultManagementJobId": "j"}},
        ),
        (sft.CancelTestJobCommon, {"testJob": {"id": "j"}}),
    ],
)
def test_a_cancel_body_refers_to_the_job(model: Any, expected: dict[str, Any]) -> None:
    body = ref_body(model, "j")
    assert body == expected
    model.model_validate(body)


def _cancels(client: AllegroClient, job_id: str) -> list[Any]:
    return [
        c
        for c in client.cancel_performance_jobs.list()
        if c.performance_job.performance_job_id == job_id
    ]


def _runs_on(seller: MockSeller) -> None:
    """Jobs without an end run until cancelled (not `max_periods` reports)."""
    seller.api("performance_monitoring", "allegro").max_periods = 1000


def test_an_interrupted_wait_cancels_the_job(mock_seller: MockSeller) -> None:
    _runs_on(mock_seller)
    polls = 0

    def interrupt_on_second_poll(job: pm.PerformanceJob) -> None:
        nonlocal polls
        polls += 1
        if polls == 2:
            raise KeyboardInterrupt  # what Ctrl-C raises in the waiting thread

    with AllegroClient(mock_seller.url) as client:
        job = client.performance_jobs.create(pm_job_body(later=True))
        with pytest.raises(KeyboardInterrupt):
            client.performance_jobs.wait(
                job.id,
                poll_interval=0.01,
                progress=interrupt_on_second_poll,
                cancel_on_interrupt=True,
            )
        assert len(_cancels(client, job.id)) == 1
        cancelled = client.performance_jobs.wait(job.id, timeout=30, poll_interval=0.01)
        assert cancelled.state == "cancelled"

        other = client.performance_jobs.create(pm_job_body(later=True))
        polls = 0
        with pytest.raises(KeyboardInterrupt):
            client.performance_jobs.wait(
                other.id, poll_interval=0.01, progress=interrupt_on_second_poll
            )
        assert _cancels(client, other.id) == []  # not asked for: nothing sent


async def test_a_cancelled_async_wait_cancels_the_job(mock_seller: MockSeller) -> None:
    _runs_on(mock_seller)
    polled = asyncio.Event()
    async with AsyncAllegroClient(mock_seller.url) as client:
        job = await client.performance_jobs.create(pm_job_body(later=True))
        waiting = asyncio.ensure_future(
            client.performance_jobs.wait(
                job.id,
                poll_interval=0.01,
                progress=lambda _: polled.set(),
                cancel_on_interrupt=True,
            )
        )
        await polled.wait()
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        cancels = [
            c
            async for c in client.cancel_performance_jobs.list()
            if c.performance_job.performance_job_id == job.id
        ]
        assert len(cancels) == 1
        done = await client.performance_jobs.wait(job.id, timeout=30, poll_interval=0.01)
        assert done.state == "cancelled"


def test_a_failed_cancel_leaves_the_interruption_as_it_was(
    mock_seller: MockSeller, caplog: pytest.LogCaptureFixture
) -> None:
    with AllegroClient(mock_seller.url) as client:
        job = client.performance_jobs.create(pm_job_body(later=True))

        def interrupt(_: Any) -> None:
            mock_seller.stop()  # the cancel request cannot be sent
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            client.with_options(max_retries=0).performance_jobs.wait(
                job.id, poll_interval=0.01, progress=interrupt, cancel_on_interrupt=True
            )
    assert "the request on interrupt failed" in caplog.text


async def test_the_waits_own_timeout_cancels_nothing_and_a_time_limit_around_it_does(
    mock_seller: MockSeller,
) -> None:
    from lso_client._waiting import WaitTimeoutError

    _runs_on(mock_seller)
    async with AsyncAllegroClient(mock_seller.url) as client:
        job = await client.performance_jobs.create(pm_job_body(later=True))
        with pytest.raises(WaitTimeoutError):
            await client.performance_jobs.wait(
                job.id, timeout=0.2, poll_interval=0.01, cancel_on_interrupt=True
            )
        other = await client.performance_jobs.create(pm_job_body(later=True))
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(
                client.performance_jobs.wait(
                    other.id, poll_interval=0.01, cancel_on_interrupt=True
                ),
                0.2,
            )
        cancelled = {
            c.performance_job.performance_job_id
            async for c in client.cancel_performance_jobs.list()
        }
    # As documented: the wait's own timeout is not an interruption; a limit around it is.
    assert job.id not in cancelled
    assert other.id in cancelled
