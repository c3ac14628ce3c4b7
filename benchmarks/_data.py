"""Seeded, realistic Allegro service orders and the checksum every contender must match.

An order is what a seller returns for a buyer's `example_service_order()` body: 2 or 3
items, each with a Carrier Ethernet EVC payload of two dozen nested fields, plus the ids,
states, dates and hrefs the seller adds (about 8.5 KB of JSON). The same seed gives
the same orders in every process, so the server process and the benchmark agree on
the data without shipping it between them.

The checksum covers ids, states and values deep inside `serviceConfiguration`: a
contender that drops the payload (or anything else it covers) fails instead of winning.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from lso_client.testing import example_service_order

__all__ = [
    "BASE_PATH",
    "POOL",
    "Checksum",
    "allegro_ordering_spec",
    "create_body",
    "dict_fields",
    "generated_id",
    "order_fields",
    "seller_order",
    "template",
    "template_bytes",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
BASE_PATH = "/mefApi/allegro/serviceOrderingManagement/v1/"
# Orders of the generator server repeat this many templates under fresh ids.
POOL = 1000
# Stands in for the id in a generator template; replaced byte-wise per order.
ID_MARK = "@@ORDER-ID@@"
_EPOCH = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)


def allegro_ordering_spec() -> Path:
    """The Allegro ordering spec: `$LSO_SPECS_DIR`, else `<repo>/../shared/mef`."""
    root = Path(os.environ.get("LSO_SPECS_DIR") or REPO_ROOT.parent / "shared" / "mef")
    path = root / "allegro" / "serviceApi" / "order" / "serviceOrderingManagement.api.yaml"
    if not path.is_file():
        raise SystemExit(f"Allegro ordering spec not found at {path}: set LSO_SPECS_DIR")
    return path


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def seller_order(index: int, seed: int = 0) -> dict[str, Any]:
    """Order `index` as a seller returns it (GET), deterministic in (`index`, `seed`)."""
    rng = random.Random(seed * 1_000_003 + index)
    items = rng.choice((2, 3))
    ordered = _EPOCH + timedelta(minutes=index)
    body = example_service_order("allegro", items=items, seed=seed * 1_000_003 + index, now=ordered)
    order_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    href = f"{BASE_PATH}serviceOrder/{order_id}"
    completed = rng.random() < 0.7
    order: dict[str, Any] = {
        "id": order_id,
        "href": href,
        **body,
        "state": "completed" if completed else "inProgress",
        "orderDate": _iso(ordered),
        "startDate": _iso(ordered + timedelta(minutes=2)),
        "expectedCompletionDate": _iso(ordered + timedelta(days=21)),
    }
    if completed:
        order["completionDate"] = _iso(ordered + timedelta(days=rng.randint(3, 20)))
    # What the seller's people and systems add along the way: notes and a contact.
    order["note"] += [_seller_note(f"{order_id}-{n}", ordered, n) for n in range(2)]
    order["relatedContactInformation"].append(_SELLER_CONTACT)
    for item in order["serviceOrderItem"]:
        service_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        item["state"] = "completed" if completed else rng.choice(("inProgress", "completed"))
        item["note"].append(_seller_note(f"{service_id}-0", ordered, 2))
        item["relatedContactInformation"].append(_SELLER_CONTACT)
        item["service"]["place"][0]["contact"] = [_site_contact(rng)]
        if item["id"] != "1":
            item["serviceOrderItemRelationship"] = [
                {
                    "relationshipType": "RELIES_ON",
                    "orderItem": {
                        "itemId": "1",
                        "serviceOrderId": order_id,
                        "serviceOrderHref": href,
                    },
                }
            ]
        item["service"] = {
            "id": service_id,
            "href": f"/mefApi/allegro/serviceInventory/v1/service/{service_id}",
            "state": "active" if item["state"] == "completed" else "designed",
            "startDate": order["startDate"],
            **item["service"],
        }
    return order


_SELLER_CONTACT = {
    "role": "sellerTechnicalContact",
    "name": "Service Delivery Desk",
    "emailAddress": "delivery@seller.example",
    "number": "+44 20 7946 0999",
    "organization": "Seller Carrier plc",
}
_SELLER_NOTES = (
    "Order validated; access design started for both sites.",
    "Customer premises survey booked with the building manager.",
    "Circuit tested end to end; frame loss and delay within the service objectives.",
)


def _site_contact(rng: random.Random) -> dict[str, Any]:
    return {
        "name": "Site Access Desk",
        "number": f"+44 161 496 {rng.randint(1000, 9999)}",
        "emailAddress": "site-access@buyer.example",
        "organization": "Buyer Networks Ltd",
    }


def _seller_note(note_id: str, ordered: datetime, n: int) -> dict[str, Any]:
    return {
        "id": f"sof-{note_id}",
        "author": "seller-delivery",
        "date": _iso(ordered + timedelta(hours=4 + 20 * n)),
        "source": "sof",
        "text": _SELLER_NOTES[n],
    }


def generated_id(index: int) -> str:
    return f"gen-{index:012d}"


def template(position: int) -> dict[str, Any]:
    """Generator template `position`: a seller order whose id is `ID_MARK`."""
    order = seller_order(position, seed=7)
    order["id"] = ID_MARK
    order["href"] = f"{BASE_PATH}serviceOrder/{ID_MARK}"
    return order


def template_bytes() -> list[list[bytes]]:
    """The generator server's templates, each split at its id marks."""
    return [
        json.dumps(template(position)).encode().split(ID_MARK.encode()) for position in range(POOL)
    ]


def create_body(index: int) -> dict[str, Any]:
    """A buyer's `ServiceOrder_Create` body (2 or 3 items), as an OSS would build it."""
    items = 2 + index % 2
    return example_service_order("allegro", items=items, seed=50_000 + index)


# -- checksum -------------------------------------------------------------------------

Fields = tuple[Any, ...]


def _plain(value: Any) -> Any:
    # Enums of generated models compare as their wire value.
    return value.value if isinstance(value, Enum) else value


def _payload_fields(config: Any) -> Fields:
    """Five values from deep inside a Carrier Ethernet EVC payload: a wire-named
    mapping, a generic payload model (its fields kept as extras) or the typed model."""
    if not config:
        return (None,)
    try:
        if not isinstance(config, Mapping):
            if not config.model_extra:
                return _typed_payload_fields(config)
            config = config.model_extra
        entry = config["carrierEthernetServiceLevelSpecification"]["slsCosNameEntry"][0]
        delay = entry["oneWayFrameDelayPmMetric"][0]
        return (
            config["identifier"],
            config["maximumFrameSize"],
            entry["consecutiveIntervalN"],
            delay["orderedPairList"][1]["toCarrierEthernetServiceEndPoint"],
            delay["oneWayFdObjective"]["timeDurationValue"],
        )
    except (KeyError, IndexError, TypeError, AttributeError):
        return (None,)


def _typed_payload_fields(config: Any) -> Fields:
    entry = config.carrier_ethernet_service_level_specification.sls_cos_name_entry[0]
    delay = entry.one_way_frame_delay_pm_metric[0]
    return (
        config.identifier,
        config.maximum_frame_size,
        entry.consecutive_interval_n,
        delay.ordered_pair_list[1].to_carrier_ethernet_service_end_point,
        delay.one_way_fd_objective.time_duration_value,
    )


def order_fields(order_id: Any, state: Any, items: Iterable[tuple[Any, Any, Any, Any]]) -> Fields:
    """The checksummed fields of one order: ids and states, and per item its id, state,
    service id and five values from inside the service payload (`config` a mapping or
    a payload model)."""
    return (
        order_id,
        _plain(state),
        tuple(
            (item_id, _plain(item_state), service_id, *_payload_fields(config))
            for item_id, item_state, service_id, config in items
        ),
    )


def dict_fields(order: Mapping[str, Any], *, payload: bool = True) -> Fields:
    """`order_fields` of an order decoded to plain dicts (without the payload's values
    when `payload` is false)."""
    return order_fields(
        order.get("id"),
        order.get("state"),
        (
            (
                item.get("id"),
                item.get("state"),
                item.get("service", {}).get("id"),
                item.get("service", {}).get("serviceConfiguration") if payload else None,
            )
            for item in order.get("serviceOrderItem", ())
        ),
    )


class Checksum:
    """A running count and digest of order fields (constant memory, for huge lists)."""

    def __init__(self) -> None:
        self.count = 0
        self._hash = hashlib.sha256()

    def add(self, fields: Fields) -> None:
        self.count += 1
        self._hash.update(repr(fields).encode())

    def add_all(self, rows: Sequence[Fields]) -> None:
        for row in rows:
            self.add(row)

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()[:16]
