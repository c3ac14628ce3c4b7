"""How models, pages, errors and model classes show themselves: short bounded reprs, `str()`
in full, HTML tables for notebooks with everything a seller sent escaped, and
`lso_client.model(...)` as a field table."""

from __future__ import annotations

import json

import httpx
import pytest

import lso_client
from lso_client import AllegroClient, NotFoundError, UnprocessableEntityError
from lso_client._errors import PaginationError, error_for_response
from lso_client.testing import MockSeller, example_service_order
from lso_client.types.payloads.allegro.carrier_ethernet import CarrierEthernetEvc
from lso_client.types.service_ordering_v1 import ServiceOrder, ServiceOrderCreate

MARKUP = "<script>alert('x')</script>\"'><img src=x onerror=alert(1)>"


def _order(seller: MockSeller, **changes: object) -> ServiceOrder:
    body = example_service_order("allegro")
    body.update(changes)
    with AllegroClient(seller.url, token="t") as client:
        created = client.service_orders.create(body)
        return client.service_orders.wait(created.id, timeout=10)


def test_an_order_repr_is_short_and_names_it(mock_seller: MockSeller) -> None:
    order = _order(mock_seller)
    text = repr(order)
    assert len(text) <= 400 and "\n" not in text
    assert text.startswith(f"ServiceOrder(id='{order.id}', state='completed', ")
    assert "external_id='BUY-00000000'" in text
    assert "note=[1 NoteBusSof]" in text  # a nested list, summarised
    assert text.endswith(" fields)") and "+" in text  # how many were left out
    # The old repr printed every nested field: kilobytes.
    assert len(str(order)) > 4000


def test_str_keeps_every_field_nested_ones_in_full(mock_seller: MockSeller) -> None:
    order = _order(mock_seller)
    text = str(order)
    configuration = order.service_order_item[0].service.service_configuration
    assert isinstance(configuration, CarrierEthernetEvc)
    # Deep inside: the item, its service and its typed payload, each with every field.
    assert "ServiceOrderItem(id='1'" in text
    assert f"identifier='{configuration.identifier}'" in text
    assert "Install during the maintenance window." in text
    assert "fields)" not in text
    assert order.to_json() == json.dumps(order.to_dict(), separators=(",", ":"))


def test_a_repr_is_bounded_whatever_the_data() -> None:
    huge = "x" * 100_000
    evc = CarrierEthernetEvc(identifier="EVC-1", evc_type="POINT_TO_POINT", sellerNote=huge)
    order = ServiceOrderCreate.model_validate(
        {
            "externalId": huge,
            "description": huge,
            "requestedCompletionDate": "2026-01-01T00:00:00Z",
            "requestedStartDate": "2026-01-01T00:00:00Z",
            "serviceOrderItem": [
                {"id": str(i), "action": "add", "service": {"serviceConfiguration": evc}}
                for i in range(1000)
            ],
            **{f"unknown{i}{huge[:50]}": huge for i in range(50)},
        }
    )
    for value in (evc, order):
        assert len(repr(value)) <= 400 and "\n" not in repr(value)
    assert "service_order_item=[1000 ServiceOrderItemCreate]" in repr(order)
    assert "fields)" in repr(order)
    # The HTML table is bounded too: rows, items, depth and text are capped.
    page = order._repr_html_()
    assert len(page) < 300_000
    assert "... +980 more" in page


def test_a_repr_never_fails_on_what_a_seller_sent() -> None:
    evc = CarrierEthernetEvc(identifier="EVC-1", evc_type="POINT_TO_POINT", big=10**6000)
    # Past Python's digit limit `repr(int)` raises: the number is described instead.
    assert repr(evc).endswith(", big=<19932-bit integer>)")
    assert "&lt;19932-bit integer&gt;" in evc._repr_html_()


def test_a_payload_model_repr_shows_its_fields_not_its_urn() -> None:
    evc = CarrierEthernetEvc(identifier="EVC-1", evc_type="POINT_TO_POINT")
    assert repr(evc) == "CarrierEthernetEvc(identifier='EVC-1', evc_type='POINT_TO_POINT')"


def test_a_page_repr_is_one_line(mock_seller: MockSeller) -> None:
    mock_seller.seed_orders(30, realistic=True)
    with AllegroClient(mock_seller.url, token="t") as client:
        page = client.service_orders.list(limit=20)
        text = repr(page)
    assert text == (
        "SyncPage(offset=0, limit=20, count=20, total_count=30, throttled=False, "
        "has_next_page=True, items=[20 ServiceOrder])"
    )


def test_an_error_repr_is_one_bounded_line(mock_seller: MockSeller) -> None:
    with (
        AllegroClient(mock_seller.url, token="t") as client,
        pytest.raises(NotFoundError) as caught,
    ):
        client.service_orders.retrieve("no-such-order")
    text = repr(caught.value)
    assert text.startswith("NotFoundError('GET http://127.0.0.1:") and text.endswith(
        ", status_code=404)"
    )
    request = httpx.Request("POST", "http://127.0.0.1/serviceOrder")
    body = [
        {"code": "invalidValue", "reason": "line one\nline two " * 20, "propertyPath": f"/x/{i}"}
        for i in range(200)
    ]
    error = error_for_response(httpx.Response(422, json=body, request=request))
    assert isinstance(error, UnprocessableEntityError)
    assert "\n" not in repr(error) and len(repr(error)) <= 450
    assert len(str(error)) > 10_000  # the message itself is kept whole
    stopped = PaginationError("stopped", reason="no_new_items", offset=10, pages=2, items=20)
    assert repr(stopped) == "PaginationError('stopped')"
    assert "<td><code>no_new_items</code></td>" in stopped._repr_html_()


def test_html_escapes_what_a_seller_sent(mock_seller: MockSeller) -> None:
    order = _order(mock_seller, description=MARKUP, externalId=MARKUP)
    with AllegroClient(mock_seller.url, token="t") as client:
        page = client.service_orders.list()
    request = httpx.Request("GET", "http://127.0.0.1/serviceOrder/1")
    error = error_for_response(
        httpx.Response(404, json={"code": "notFound", "reason": MARKUP}, request=request)
    )
    for text in (order._repr_html_(), page._repr_html_(), error._repr_html_()):
        assert "<script" not in text and "<img" not in text
        assert "&lt;script&gt;" in text
    assert "<details open>" in order._repr_html_()  # collapsible, nested tables inside
    assert order._repr_html_().count("<table") > 5


def test_a_page_shows_as_a_table_of_its_items(mock_seller: MockSeller) -> None:
    ids = mock_seller.seed_orders(3)
    with AllegroClient(mock_seller.url, token="t") as client:
        page = client.service_orders.list()
    text = page._repr_html_()
    assert text.count("<tr>") == 4  # a header and one row per order
    assert all(f"<td>{order_id}</td><td>completed</td>" in text for order_id in ids)
    assert "<th>id</th><th>state</th>" in text


def test_model_returns_the_class_and_describes_its_fields() -> None:
    found = lso_client.model("allegro", "service_ordering", "ServiceOrder_Create")
    assert found is ServiceOrderCreate  # what code gets is still the class
    table = found.describe()
    text = repr(table)
    assert text.splitlines()[0] == (
        "from lso_client.types.service_ordering_v1 import ServiceOrderCreate: 9 fields"
    )
    lines = {line.split()[0]: line.split() for line in text.splitlines()[2:]}
    assert lines["requested_completion_date"] == [
        "requested_completion_date",
        "requestedCompletionDate",
        "datetime",
        "yes",
    ]
    assert lines["service_order_item"][1:] == [
        "serviceOrderItem",
        "list[ServiceOrderItemCreate]",
        "yes",
    ]
    assert lines["external_id"][1:] == ["externalId", "str", "|", "None"]
    record = next(r for r in table if r.name == "note")
    assert (record.wire_name, record.type, record.required) == (
        "note",
        "list[NoteBusSof] | None",
        False,
    )
    payload = CarrierEthernetEvc.describe()
    assert payload.import_path == (
        "from lso_client.types.payloads.allegro.carrier_ethernet import CarrierEthernetEvc"
    )


def test_a_notebook_shows_a_model_class_as_its_field_table() -> None:
    formatters = pytest.importorskip("IPython.core.formatters")
    html = formatters.HTMLFormatter()
    found = lso_client.model("allegro", "service_ordering", "ServiceOrder_Create")
    shown = html(found)
    assert shown is not None and "<th>wire_name</th>" in shown
    assert "<td>requestedCompletionDate</td><td>datetime</td><td>yes</td>" in shown
    # An instance shows its values instead.
    evc = CarrierEthernetEvc(identifier="EVC-1", evc_type="POINT_TO_POINT")
    instance = html(evc)
    assert instance is not None and "EVC-1" in instance and "wire_name" not in instance
    plain = formatters.PlainTextFormatter()
    assert plain(evc) == repr(evc)
