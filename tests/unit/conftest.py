"""Realistic Service Ordering payloads shared by the client-layer tests.

The shapes follow the Allegro (v1) and Legato (v5) `serviceOrderingManagement` specs.
Every builder returns a fresh object, so a test may mutate what it gets.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

SELLER_URL = "https://seller.example"
ALLEGRO_ORDERING_URL = SELLER_URL + "/mefApi/allegro/serviceOrderingManagement/v1"
LEGATO_ORDERING_URL = SELLER_URL + "/mefApi/legato/serviceOrderingManagement/v5"

OrderBuilder = Callable[..., dict[str, Any]]

# A Carrier Ethernet EVC configuration as a product schema would describe it: 25 fields at the
# top, objects, lists of objects, integers, a float, booleans, a null and a 64-bit-sized number.
_EVC_CONFIGURATION: dict[str, Any] = {
    "@type": "urn:mef:lso:spec:allegro:carrier-ethernet-evc:v1.0.0:all",
    "evcType": "POINT_TO_POINT",
    "maxNumOfEvcEndPoint": 2,
    "ceVlanIdPreservation": True,
    "ceVlanPcpPreservation": False,
    "ceVlanDeiPreservation": False,
    "evcMaxFrameSize": 9212,
    "availableMegLevel": 5,
    "unicastFrameDelivery": {"deliveryType": "CONDITIONALLY", "conditions": ["macLearned"]},
    "multicastFrameDelivery": {"deliveryType": "UNCONDITIONALLY"},
    "broadcastFrameDelivery": {"deliveryType": "DISCARD"},
    "subscriberMegMip": "NONE",
    "sourceMacAddressLimit": None,
    "totalBandwidthBps": 10_000_000_000,
    "availabilityObjective": 0.9995,
    "l2cpPeeringEnabled": True,
    "cTagVlanIds": [100, 200, 300],
    "evcPerformance": [
        {"cos": "H", "oneWayFrameDelay": {"percentile": 99.9, "objectiveMs": 10}},
        {"cos": "M", "oneWayFrameLossRatio": {"objective": 0.001, "interval": "PT15M"}},
    ],
    "evcEndPoints": [
        {
            "identifier": "EP-A",
            "uniRef": {"id": "uni-17", "href": "/uni/uni-17"},
            "ingressBwp": {"cir": 1000, "cbs": 12176, "eir": 0, "ebs": 0, "colorMode": "BLIND"},
            "egressBwp": None,
            "ceVlanIds": [{"lower": 1, "upper": 4094}],
        },
        {
            "identifier": "EP-B",
            "uniRef": {"id": "uni-18"},
            "ingressBwp": {"cir": 1000, "cbs": 12176, "eir": 0, "ebs": 0, "colorMode": "AWARE"},
            "ceVlanIds": [],
        },
    ],
    "protection": {"type": "1+1", "revertive": True, "waitToRestoreMin": 5},
    "testMegEnabled": False,
    "maintenanceWindow": {"weekday": 2, "startUtc": "02:00", "durationMin": 120},
    "tags": ["gold", "datacentre"],
    "vendorExtension": {"x-seller-sku": "EVC-10G-P2P", "rev": 3},
    "emptyObject": {},
}


def evc_configuration() -> dict[str, Any]:
    return copy.deepcopy(_EVC_CONFIGURATION)


def _allegro_item(item_id: str, state: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "action": "add",
        "state": state,
        "note": [
            {
                "author": "Seller NOC",
                "date": "2024-05-02T08:15:00Z",
                "id": f"note-{item_id}",
                "source": "sof",
                "text": "Site survey scheduled",
            }
        ],
        "service": {
            "serviceType": "carrier-ethernet-evc",
            "place": [
                {
                    "role": "INSTALL_LOCATION",
                    "place": {"@type": "GeographicSiteRef", "id": "site-42"},
                }
            ],
            "serviceConfiguration": evc_configuration(),
        },
    }


def allegro_order(
    order_id: str = "so-1001", state: str = "acknowledged", *, items: int = 1
) -> dict[str, Any]:
    """An Allegro `ServiceOrder` as a seller would return it."""
    return {
        "id": order_id,
        "href": f"{ALLEGRO_ORDERING_URL}/serviceOrder/{order_id}",
        "externalId": "BUYER-PO-7788",
        "description": "10G EVC between two data centres",
        "state": state,
        "orderDate": "2024-05-01T09:30:00Z",
        "requestedStartDate": "2024-05-10T00:00:00+02:00",
        "requestedCompletionDate": "2024-06-01T00:00:00Z",
        "expectedCompletionDate": "2024-05-28T17:00:00-05:00",
        "relatedContactInformation": [
            {
                "role": "buyerContact",
                "name": "Ada Buyer",
                "number": "+44 20 7946 0000",
                "emailAddress": "ada@buyer.example",
                "organization": "Buyer Ltd",
            }
        ],
        "serviceOrderItem": [_allegro_item(str(i + 1), state) for i in range(items)],
    }


def allegro_order_create() -> dict[str, Any]:
    """An Allegro `ServiceOrder_Create` request body (wire names)."""
    order = allegro_order()
    for key in ("id", "href", "state", "orderDate", "expectedCompletionDate"):
        del order[key]
    for item in order["serviceOrderItem"]:
        del item["state"]
    return order


def legato_order(order_id: str = "so-5001", state: str = "acknowledged") -> dict[str, Any]:
    """A Legato `ServiceOrder` (v5): places are a flat, `@type`-discriminated list."""
    order = allegro_order(order_id, state)
    order["href"] = f"{LEGATO_ORDERING_URL}/serviceOrder/{order_id}"
    order["serviceOrderItem"][0]["service"]["place"] = [
        {"@type": "GeographicSiteRef", "role": "INSTALL_LOCATION", "id": "site-42"},
        {
            "@type": "FormattedAddress",
            "role": "BILLING_ADDRESS",
            "addrLine1": "1 Canal Street",
            "city": "Manchester",
            "country": "GB",
        },
    ]
    return order


@pytest.fixture
def so_allegro_order() -> OrderBuilder:
    return allegro_order


@pytest.fixture
def so_allegro_order_create() -> Callable[[], dict[str, Any]]:
    return allegro_order_create


@pytest.fixture
def so_legato_order() -> OrderBuilder:
    return legato_order


@pytest.fixture
def so_evc_configuration() -> Callable[[], dict[str, Any]]:
    return evc_configuration
