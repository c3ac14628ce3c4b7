"""Every Service Ordering operation, at Allegro and Legato, driven through the SDK
against Prism started from the patched spec documents the code generator emits
(`python -m codegen --emit-specs`): their discriminator mappings are spelt out, so Prism
only invents `@type` values the spec allows there.

Prism validates each request we send against the spec (zero violations allowed) and,
in dynamic mode, answers with random valid responses, which must all parse in
strict mode (a valid response the models reject is a bug of ours).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from _prism import PrismServer, emitted_specs

from lso_client import (
    AllegroClient,
    AsyncAllegroClient,
    AsyncLegatoClient,
    LegatoClient,
    UnprocessableEntityError,
)
from lso_client.testing import example_service_order

# Reference point: (generated module, whose patched document Prism serves; sync client).
SPECS = {
    "allegro": ("service_ordering_v1", AllegroClient),
    "legato": ("service_ordering_v5", LegatoClient),
}
ASYNC_CLIENTS = {"allegro": AsyncAllegroClient, "legato": AsyncLegatoClient}
SEEDS = [None, 1, 2, 3, 4]  # None: static responses built from the schema

SINCE = datetime(2026, 1, 1, tzinfo=timezone.utc)
UNTIL = datetime(2026, 12, 31, tzinfo=timezone.utc)


@pytest.fixture(scope="session")
def patched_specs(tmp_path_factory: pytest.TempPathFactory, specs_dir: Path) -> Path:
    """Every patched, bundled API definition as `<dir>/<module>.yaml` (written once)."""
    return emitted_specs(specs_dir, tmp_path_factory.getbasetemp())


def _client(cls: Any, prism: PrismServer) -> Any:
    # Prism serves the spec's paths at its root, not under the server's base path.
    return cls(
        "http://seller.invalid",
        api_base_urls={"service_ordering": prism.base_url},
        strict=True,
        max_retries=0,
    )


def _every_operation(client: Any, reference_point: str) -> None:
    created = client.service_orders.create(example_service_order(reference_point, items=3))
    assert created.id

    page = client.service_orders.list(
        state="inProgress",
        order_date_gt=SINCE,
        order_date_lt=UNTIL,
        completion_date_gt=SINCE,
        completion_date_lt=UNTIL,
        expected_completion_date_gt=SINCE,
        expected_completion_date_lt=UNTIL,
        start_date_gt=SINCE,
        start_date_lt=UNTIL,
        offset=0,
        limit=5,
    )
    assert isinstance(page.items, list)

    order = client.service_orders.retrieve(created.id)
    assert order.id

    hub = client.hubs.service_ordering
    registration = hub.register(
        {
            "callback": "https://buyer.example/listener",
            "query": "eventType=serviceOrderStateChangeEvent",
        }
    )
    assert registration.id
    assert hub.retrieve(registration.id).callback
    assert hub.unregister(registration.id) is None


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: "static" if s is None else f"seed{s}")
@pytest.mark.parametrize("reference_point", sorted(SPECS))
def test_every_ordering_operation_conforms(
    prism_factory: Any, patched_specs: Path, reference_point: str, seed: int | None
) -> None:
    module, client_class = SPECS[reference_point]
    prism = prism_factory(patched_specs / f"{module}.yaml", dynamic=seed is not None, seed=seed)
    with _client(client_class, prism) as client:
        _every_operation(client, reference_point)
    assert prism.violations() == []
    assert prism.response_violations() == []


@pytest.mark.parametrize("reference_point", sorted(SPECS))
async def test_async_client_conforms(
    prism_factory: Any, patched_specs: Path, reference_point: str
) -> None:
    module, _ = SPECS[reference_point]
    prism = prism_factory(patched_specs / f"{module}.yaml", dynamic=True, seed=7)
    async with _client(ASYNC_CLIENTS[reference_point], prism) as client:
        created = await client.service_orders.create(example_service_order(reference_point))
        first = await client.service_orders.list(state="completed", limit=3)
        assert isinstance(first.items, list)
        assert (await client.service_orders.retrieve(created.id)).id
        registration = await client.hubs.service_ordering.register(
            {"callback": "https://buyer.example/listener"}
        )
        await client.hubs.service_ordering.unregister(registration.id)
    assert prism.violations() == []


def test_prism_reports_what_the_sdk_would_otherwise_miss(
    prism_factory: Any, patched_specs: Path
) -> None:
    """The check above can fail: a request the SDK's own validation lets through only
    because the caller bypassed it (a raw extra query parameter of the wrong type) is
    reported by Prism."""
    module, client_class = SPECS["allegro"]
    prism = prism_factory(patched_specs / f"{module}.yaml")
    with _client(client_class, prism) as client, pytest.raises(UnprocessableEntityError):
        client.service_orders.list(extra_query={"limit": "ten"})
    assert [v["location"] for v in prism.violations()] == ["request.query.limit"]
