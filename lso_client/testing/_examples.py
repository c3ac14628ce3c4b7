"""Realistic request bodies, for demos, tests and benchmarks.

`example_service_order()` builds a `ServiceOrder_Create` body the way a buyer's
OSS would: a few items, each with a Carrier Ethernet access E-Line payload of
two dozen nested fields, notes and contacts. The same seed gives the same body.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = ["example_service_configuration", "example_service_order"]

_SPEEDS = (100, 200, 500, 1000, 10000)


def example_service_configuration(rng: random.Random | None = None) -> dict[str, Any]:
    """A Carrier Ethernet access E-Line configuration: 20+ nested fields."""
    rng = rng or random.Random(0)
    speed = rng.choice(_SPEEDS)
    return {
        "@type": "urn:mef:lso:spec:allegro:carrier-ethernet-access-eline:v1.0.0:all",
        "evcType": "POINT_TO_POINT",
        "maximumFrameSize": rng.choice((1522, 2000, 9216)),
        "cevlanIdPreservation": True,
        "cevlanCosPreservation": rng.random() > 0.5,
        "sVlanId": rng.randint(2, 4094),
        "bandwidthProfile": {
            "cir": {"amount": speed, "units": "Mbps"},
            "cbs": {"amount": rng.choice((12, 64, 128)), "units": "KBytes"},
            "eir": {"amount": 0, "units": "Mbps"},
            "ebs": {"amount": 0, "units": "KBytes"},
            "colorMode": "COLOR_BLIND",
            "couplingFlag": False,
        },
        "serviceLevelSpecification": {
            "type": "DEFAULT",
            "startTime": "2026-01-01T00:00:00Z",
            "period": {"value": 1, "unit": "MONTHS"},
            "objectives": [
                {"metric": "ONE_WAY_FRAME_DELAY", "percentile": 99.9, "maxMs": 10},
                {"metric": "ONE_WAY_FRAME_LOSS_RATIO", "maxPercent": 0.01},
                {"metric": "ONE_WAY_AVAILABILITY", "minPercent": 99.95},
            ],
        },
        "endPoints": [
            {
                "role": side,
                "uniId": f"UNI-{rng.randint(10000, 99999)}",
                "ceVlanIds": [rng.randint(2, 4094) for _ in range(3)],
                "l2cpAddressSet": "CTB",
                "physicalLayer": rng.choice(("1000BASE-LX", "10GBASE-LR")),
                "egressEquivalenceClass": {"pcp": [0, 1, 2], "name": "H"},
            }
            for side in ("A", "Z")
        ],
        "connectionType": "VIRTUAL",
        "listOfTags": ["production", f"region-{rng.randint(1, 9)}"],
    }


def example_service_order(
    reference_point: str = "allegro",
    *,
    items: int = 2,
    seed: int = 0,
    external_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A `ServiceOrder_Create` body for Allegro (v1) or Legato (v5) ordering."""
    if reference_point not in ("allegro", "interlude", "legato"):
        raise ValueError(f"unknown reference point {reference_point!r}")
    rng = random.Random(seed)
    now = now or datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
    contact = {
        "role": "technicalContact",
        "name": "Network Operations",
        "emailAddress": "noc@buyer.example",
        "number": "+44 20 7946 0000",
        "organization": "Buyer Networks Ltd",
    }
    note = {
        "id": f"note-{seed}",
        "author": "ops-automation",
        "date": _iso(now),
        "source": "bus",
        "text": "Install during the maintenance window.",
    }
    order: dict[str, Any] = {
        "externalId": external_id or f"BUY-{seed:08d}",
        "description": "Access E-Line between two data centres",
        "requestedStartDate": _iso(now + timedelta(days=7)),
        "requestedCompletionDate": _iso(now + timedelta(days=30)),
        "note": [note],
        "relatedContactInformation": [contact],
        "serviceOrderItem": [],
    }
    for index in range(1, items + 1):
        site = {"@type": "GeographicSiteRef", "id": f"site-{rng.randint(1000, 9999)}"}
        place = (
            {**site, "role": "INSTALL_LOCATION"}
            if reference_point == "legato"
            else {"role": "INSTALL_LOCATION", "place": site}
        )
        item: dict[str, Any] = {
            "id": str(index),
            "action": "add",
            "note": [{**note, "id": f"note-{seed}-{index}"}],
            "service": {
                "externalId": f"SVC-{seed:06d}-{index}",
                "description": f"Access E-Line leg {index}",
                "place": [place],
                "serviceConfiguration": example_service_configuration(rng),
            },
        }
        if reference_point != "legato":
            item["relatedContactInformation"] = [contact]
        order["serviceOrderItem"].append(item)
    return order


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
