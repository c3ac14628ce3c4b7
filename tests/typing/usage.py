"""Checked by mypy (`make test`), never run: the public API keeps its static types."""

from __future__ import annotations

from typing_extensions import assert_type

from lso_client import AllegroClient, AsyncLegatoClient, LegatoClient, SyncPage
from lso_client._generated import (
    performance_monitoring_v2 as pm2,
)
from lso_client._generated import (
    performance_monitoring_v5 as pm5,
)
from lso_client._generated import (
    service_ordering_v1 as so1,
)
from lso_client._generated import (
    service_ordering_v5 as so5,
)
from lso_client._resource import AsyncPager


def sync_usage(client: AllegroClient, legato: LegatoClient) -> None:
    assert_type(client.service_orders.retrieve("id"), so1.ServiceOrder)
    assert_type(client.service_orders.list(state="completed"), SyncPage[so1.ServiceOrder])
    for order in client.service_orders.list(limit=500, pages_in_flight=8):
        assert_type(order, so1.ServiceOrder)
    assert_type(client.service_orders.wait("id"), so1.ServiceOrder)
    assert_type(client.performance_jobs.suspend("id"), None)
    assert_type(client.performance_reports.wait_for_job("id"), list[pm5.PerformanceReportFind])
    assert_type(client.performance_jobs.complex_query({}), list[pm5.PerformanceJob])
    assert_type(legato.service_orders.retrieve("id"), so5.ServiceOrder)
    assert_type(
        legato.performance_monitoring_v2.performance_jobs.suspend({}), pm2.SuspendPerformanceJob
    )


async def async_usage(client: AsyncLegatoClient) -> None:
    assert_type(await client.service_orders.retrieve("id"), so5.ServiceOrder)
    assert_type(client.service_orders.list(), AsyncPager[so5.ServiceOrder])
    async for order in client.service_orders.list(limit=500, pages_in_flight=8):
        assert_type(order, so5.ServiceOrder)
    assert_type(await client.service_orders.wait("id"), so5.ServiceOrder)


def configuration_usage() -> None:
    import ssl

    assert_type(AllegroClient.from_profile("acme"), AllegroClient)
    legato = AsyncLegatoClient.from_profile(config_file="lso.toml", timeout=5)
    assert_type(legato, AsyncLegatoClient)
    AllegroClient(
        "https://seller.example",
        default_params={"buyerId": "B-1"},
        verify=ssl.create_default_context(),
        proxy="http://proxy.internal:3128",
    )
    AllegroClient(verify="system", cert=("client.pem", "client.key"))
    AllegroClient(verify="/etc/lso/ca.pem", cert="client.pem").with_options(
        default_params={"sellerId": "S-1"}
    )
