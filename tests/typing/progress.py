"""Checked by mypy (`make test`), never run: progress callbacks and cancel_on_interrupt are
typed by what they see."""

from __future__ import annotations

from typing_extensions import assert_type

from lso_client import AllegroClient, AsyncAllegroClient
from lso_client._generated import performance_monitoring_v5 as pm5
from lso_client._generated import service_ordering_v1 as so1
from lso_client.progress import tqdm_progress


def listed(done: int, total: int | None) -> None: ...


def polled(job: pm5.PerformanceJob) -> None: ...


def sync_progress(client: AllegroClient) -> None:
    client.service_orders.list(progress=listed)
    client.service_orders.wait("id", progress=lambda order: assert_type(order, so1.ServiceOrder))
    client.performance_jobs.wait("id", progress=polled, cancel_on_interrupt=True)
    client.performance_jobs.create_and_wait({}, cancel_on_interrupt=True)
    client.performance_reports.wait_for_job("id", progress=lambda reports: len(reports))
    client.service_orders.wait("id", cancel_on_interrupt=True)  # type: ignore[call-arg]
    client.service_orders.list(progress=polled)  # type: ignore[arg-type]
    bar = tqdm_progress()
    client.service_orders.list(progress=bar)
    client.performance_jobs.wait("id", progress=bar)


async def async_progress(client: AsyncAllegroClient) -> None:
    client.service_orders.list(progress=listed)
    await client.performance_jobs.wait("id", progress=polled, cancel_on_interrupt=True)
    await client.test_jobs.wait("id", cancel_on_interrupt=True)
    await client.fault_management_jobs.wait("id", cancel_on_interrupt=True)
