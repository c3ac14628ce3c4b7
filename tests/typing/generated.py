"""Checked by mypy (`make test`), never run: generated resources keep their static types,
raw responses included."""

from __future__ import annotations

from collections.abc import Awaitable

from typing_extensions import assert_type

from lso_client import AllegroClient, AsyncAllegroClient, AsyncLegatoClient, LegatoClient, SyncPage
from lso_client._generated import performance_monitoring_v2 as pm2
from lso_client._generated import performance_monitoring_v2_resources as pm2_resources
from lso_client._generated import performance_monitoring_v5 as pm5
from lso_client._generated import service_ordering_v1 as so1
from lso_client._generated import service_ordering_v1_resources as so1_resources
from lso_client._generated import service_ordering_v5 as so5
from lso_client._generated import service_ordering_v5_resources as so5_resources
from lso_client._resource import AsyncPager, RawResponse


def raw_sync(client: AllegroClient, legato: LegatoClient) -> None:
    raw = client.service_orders.with_raw_response
    assert_type(raw, so1_resources.ServiceOrdersWithRawResponse)
    assert_type(raw.create({}), RawResponse[so1.ServiceOrder])
    assert_type(raw.retrieve("id", timeout=5), RawResponse[so1.ServiceOrder])
    assert_type(raw.retrieve("id").parse(), so1.ServiceOrder)
    assert_type(raw.list(state="completed"), SyncPage[so1.ServiceOrder])
    assert_type(client.hubs.service_ordering.with_raw_response.unregister("id"), RawResponse[None])
    assert_type(
        client.performance_jobs.with_raw_response.complex_query({}),
        RawResponse[list[pm5.PerformanceJob]],
    )
    assert_type(
        legato.performance_monitoring_v2,
        pm2_resources.PerformanceMonitoringV2Api,
    )
    assert_type(
        legato.performance_monitoring_v2.performance_jobs.with_raw_response.suspend({}),
        RawResponse[pm2.SuspendPerformanceJob],
    )


async def raw_async(client: AsyncLegatoClient) -> None:
    raw = client.service_orders.with_raw_response
    assert_type(raw, so5_resources.AsyncServiceOrdersWithRawResponse)
    assert_type(raw.create({}), Awaitable[RawResponse[so5.ServiceOrder]])
    response = await raw.retrieve("id")
    assert_type(response, RawResponse[so5.ServiceOrder])
    assert_type(response.parse(), so5.ServiceOrder)
    assert_type(raw.list(), AsyncPager[so5.ServiceOrder])


async def waits(client: AllegroClient, async_client: AsyncAllegroClient) -> None:
    # `wait_timeout` bounds the wait; `timeout` stays the per-call option of the create.
    assert_type(
        client.service_orders.create_and_wait({}, wait_timeout=60, timeout=5), so1.ServiceOrder
    )
    assert_type(
        await async_client.service_orders.create_and_wait({}, wait_timeout=60, timeout=5),
        so1.ServiceOrder,
    )
