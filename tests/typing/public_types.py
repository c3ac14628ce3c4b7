"""Checked by mypy (`make test`), never run: the public model surface keeps its types."""

from __future__ import annotations

from typing_extensions import assert_type

from lso_client import AllegroClient, LegatoClient, payloads
from lso_client.types import Payload
from lso_client.types import service_ordering_v1 as so1
from lso_client.types import service_ordering_v5 as so5
from lso_client.types.service_ordering_v1 import ServiceOrderCreate


def public_models(client: AllegroClient, legato: LegatoClient, body: ServiceOrderCreate) -> None:
    # The public names are the classes the clients take and return.
    assert_type(client.service_orders.create(body), so1.ServiceOrder)
    assert_type(client.service_orders.retrieve("id"), so1.ServiceOrder)
    assert_type(legato.service_orders.retrieve("id"), so5.ServiceOrder)
    found = payloads.model_for("urn:example")
    assert_type(found, type[Payload] | None)
    if found is not None:
        assert_type(found.model_validate({}), Payload)
    for record in payloads.payload_models(technology="ip"):
        assert_type(record.model, type[Payload])


def payload_technology_modules() -> None:
    # A technology's module binds the very classes of the per-schema modules.
    from lso_client.types.payloads.allegro.carrier_ethernet import (
        CarrierEthernetEvc,
        EnabledDisabled,
    )
    from lso_client.types.payloads.allegro.carrier_ethernet import (
        carrier_ethernet_evc as evc_module,
    )
    from lso_client.types.payloads.interlude.ip import IpPerformanceMonitoringResults
    from lso_client.types.payloads.legato.ip import IpPerformanceMonitoringResults as Legato

    evc = CarrierEthernetEvc(c_tag_pcp_preservation=EnabledDisabled.enabled)
    assert_type(evc, evc_module.CarrierEthernetEvc)
    assert_type(IpPerformanceMonitoringResults.model_validate({}), Legato)
