"""The example orders carry service payloads of shipped schemas, valid against their
generated models with no field the schema does not declare, and the benchmark orders
built from them keep their size and a checksum that covers the payload."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest

from benchmarks._data import dict_fields, order_fields, seller_order
from lso_client._generated.payloads._registry import REGISTRY
from lso_client._model import Payload
from lso_client.testing import example_service_configuration, example_service_order
from lso_client.testing._examples import (
    PAYLOAD_URNS,
    TECHNOLOGIES,
    Technology,
    minimal_service_configuration,
)
from lso_client.testing._payloads import check_payload, undeclared_fields

REFERENCE_POINTS = ("allegro", "interlude", "legato")
CASES = [(rp, t) for rp in REFERENCE_POINTS for t in TECHNOLOGIES]


def _strictly_valid(body: dict[str, Any]) -> None:
    model = check_payload(body)
    assert model is not None, f"{body['@type']} has no shipped model"
    assert list(undeclared_fields(model)) == []
    assert model.to_dict() == body


def test_every_example_urn_is_a_shipped_payload() -> None:
    assert set(PAYLOAD_URNS.values()) <= set(REGISTRY)


@pytest.mark.parametrize(("reference_point", "technology"), CASES)
@pytest.mark.parametrize("seed", range(4))
def test_an_example_configuration_is_valid_against_its_model(
    reference_point: str, technology: Technology, seed: int
) -> None:
    body = example_service_configuration(
        random.Random(seed), reference_point=reference_point, technology=technology
    )
    family = "legato" if reference_point == "legato" else "allegro"
    assert body["@type"] == PAYLOAD_URNS[family, technology]
    _strictly_valid(body)


def test_the_default_configuration_is_a_carrier_ethernet_evc_of_two_dozen_fields() -> None:
    body = example_service_configuration()
    assert body["@type"] == "urn:mef:lso:spec:service:carrier-ethernet-evc:v1.0.0:all"

    def leaves(value: Any) -> int:
        if isinstance(value, dict):
            return sum(leaves(v) for v in value.values())
        if isinstance(value, list):
            return sum(leaves(v) for v in value)
        return 1

    assert leaves(body) >= 24


@pytest.mark.parametrize("reference_point", REFERENCE_POINTS)
def test_the_minimal_configuration_is_valid(reference_point: str) -> None:
    _strictly_valid(minimal_service_configuration(reference_point))


@pytest.mark.parametrize(("reference_point", "technology"), CASES)
def test_every_item_of_an_example_order_carries_a_valid_payload(
    reference_point: str, technology: Technology
) -> None:
    order = example_service_order(reference_point, items=3, seed=9, technology=technology)
    configs = [item["service"]["serviceConfiguration"] for item in order["serviceOrderItem"]]
    assert len(configs) == 3
    for config in configs:
        _strictly_valid(config)
    assert len({json.dumps(c, sort_keys=True) for c in configs}) == 3  # seeded, not copies


def test_the_strict_check_finds_a_field_the_schema_does_not_declare() -> None:
    body = example_service_configuration()
    body["carrierEthernetServiceLevelSpecification"]["slsCosNameEntry"][0]["colour"] = "red"
    model = check_payload(body)
    assert model is not None
    assert list(undeclared_fields(model)) == [
        "carrierEthernetServiceLevelSpecification.slsCosNameEntry.0.colour"
    ]


def test_unknown_technology_or_reference_point_is_refused() -> None:
    with pytest.raises(ValueError, match="technology"):
        example_service_configuration(technology="l1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reference point"):
        example_service_order("cantata")


# ----------------------------------------------------------------------------- benchmark data


def test_benchmark_orders_stay_about_eight_and_a_half_kilobytes() -> None:
    sizes = [len(json.dumps(seller_order(index))) for index in range(100)]
    assert 8000 <= sum(sizes) / len(sizes) <= 9000


def test_the_benchmark_checksum_covers_values_deep_inside_the_payload() -> None:
    order = seller_order(3)
    fields = dict_fields(order)
    for item in fields[2]:
        assert None not in item
    dropped = copy.deepcopy(order)
    for item in dropped["serviceOrderItem"]:
        item["service"]["serviceConfiguration"] = {
            "@type": item["service"]["serviceConfiguration"]["@type"]
        }
    assert dict_fields(dropped) != fields
    changed = copy.deepcopy(order)
    entry = changed["serviceOrderItem"][0]["service"]["serviceConfiguration"][
        "carrierEthernetServiceLevelSpecification"
    ]["slsCosNameEntry"][0]
    entry["oneWayFrameDelayPmMetric"][0]["oneWayFdObjective"]["timeDurationValue"] += 1
    assert dict_fields(changed) != fields


def test_the_checksum_reads_a_typed_payload_as_its_wire_form() -> None:
    order = seller_order(5)
    typed = [
        (
            item["id"],
            item["state"],
            item["service"]["id"],
            check_payload(item["service"]["serviceConfiguration"]),
        )
        for item in order["serviceOrderItem"]
    ]
    assert order_fields(order["id"], order["state"], typed) == dict_fields(order)
    # A payload of a URN no model is known for keeps its fields as extras.
    generic = [
        (*row[:3], Payload.model_validate({**row[3].to_dict(), "@type": "urn:acme:evc:v1"}))
        for row in typed
        if row[3]
    ]
    assert all(row[3].model_extra for row in generic)  # the fields are kept as extras
    assert order_fields(order["id"], order["state"], generic) == dict_fields(order)
