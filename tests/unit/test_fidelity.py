"""What the seller sent comes back as sent; a request carries exactly what the caller set.

Every case goes through the real clients over loopback HTTP: the faulty seller serves
the exact bytes (date-time texts, an array for an object, `{}`, `NaN`) and records the
exact bytes of each request body."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from _faulty import FaultySeller, Reply, Request

from lso_client import (
    AllegroClient,
    AsyncAllegroClient,
    AsyncLegatoClient,
    InternalServerError,
    LegatoClient,
    RequestValidationError,
    ResponseValidationError,
    _model,
)
from lso_client._generated import fault_management_v3 as fm
from lso_client._generated import service_ordering_v1 as m1

Start = Callable[[Callable[[Request], Any]], FaultySeller]
OrderBuilder = Callable[..., dict[str, Any]]

# Texts pydantic would rewrite: milliseconds (`.382000Z`), `+00:00` (`Z`), seven fraction
# digits (one lost), nanoseconds, lower-case separators, a zero fraction (dropped).
RECEIVED = {
    "orderDate": "2023-06-01T10:00:57.382Z",
    "requestedStartDate": "2024-05-10T00:00:00+00:00",
    "requestedCompletionDate": "2024-06-01T00:00:00.9620906Z",
    "expectedCompletionDate": "2024-05-28T17:00:00.123456789-05:00",
    "startDate": "2024-05-02t08:00:00z",
    "completionDate": "2024-05-03T08:00:00.000Z",
}


def _json_reply(body: bytes, status: int = 200) -> Reply:
    return Reply(status, {"Content-Type": "application/json"}, body)


# ----------------------------------------------------------------------------- date-times


def _order_with_texts(so_allegro_order: OrderBuilder) -> dict[str, Any]:
    order = so_allegro_order()
    order.update(RECEIVED)
    order["serviceOrderItem"][0]["note"][0]["date"] = RECEIVED["orderDate"]
    return order


def _check_texts(order: m1.ServiceOrder, sent: dict[str, Any]) -> None:
    assert order.spec_deviations == []
    out = order.to_dict()
    for key, text in RECEIVED.items():
        assert out[key] == text
        assert isinstance(getattr(order, _snake(key)), datetime)
    assert out["serviceOrderItem"][0]["note"][0]["date"] == RECEIVED["orderDate"]
    assert json.loads(order.to_json()) == sent
    assert order.order_date == datetime(2023, 6, 1, 10, 0, 57, 382000, tzinfo=timezone.utc)
    assert order.requested_completion_date is not None
    assert order.requested_completion_date.microsecond == 962090


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def test_datetimes_come_back_as_the_text_received(
    faulty_seller: Start, so_allegro_order: OrderBuilder
) -> None:
    sent = _order_with_texts(so_allegro_order)
    seller = faulty_seller(lambda request: Reply.json(sent))
    with AllegroClient(seller.url, max_retries=0) as client:
        order = client.service_orders.retrieve("so-1001")
        _check_texts(order, sent)
        # Copies keep the texts too.
        assert copy.deepcopy(order).to_dict() == order.to_dict()
        assert pickle.loads(pickle.dumps(order)).to_dict() == order.to_dict()
        # Sent back unchanged in a request, they keep their text too.
        body = m1.ServiceOrderCreate.model_validate(
            {**so_allegro_order_create_from(sent), "requestedStartDate": order.requested_start_date}
        )
        client.service_orders.create(body)
    created = json.loads(seller.requests[1].body)
    assert created["requestedStartDate"] == RECEIVED["requestedStartDate"]
    assert created["requestedCompletionDate"] == RECEIVED["requestedCompletionDate"]


async def test_datetimes_come_back_as_the_text_received_async(
    faulty_seller: Start, so_allegro_order: OrderBuilder
) -> None:
    sent = _order_with_texts(so_allegro_order)
    seller = faulty_seller(lambda request: Reply.json([sent], headers={"X-Total-Count": "1"}))
    async with AsyncAllegroClient(seller.url, max_retries=0) as client:
        page = await client.service_orders.list()
    (order,) = page.items
    _check_texts(order, sent)


def so_allegro_order_create_from(order: dict[str, Any]) -> dict[str, Any]:
    body = json.loads(json.dumps(order))
    for key in ("id", "href", "state", "orderDate", "expectedCompletionDate"):
        body.pop(key, None)
    body.pop("startDate", None)
    body.pop("completionDate", None)
    for item in body["serviceOrderItem"]:
        del item["state"]
    return body


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2024, 5, 1, 9, 30, 0, 120000, tzinfo=timezone.utc), "2024-05-01T09:30:00.12Z"),
        (datetime(2024, 5, 1, 9, 30, tzinfo=timezone.utc), "2024-05-01T09:30:00Z"),
        (
            datetime(2024, 5, 1, 9, 30, 0, 1, tzinfo=timezone(timedelta(hours=2))),
            "2024-05-01T09:30:00.000001+02:00",
        ),
    ],
)
def test_a_datetime_the_caller_sets_is_rfc3339_without_padding(
    faulty_seller: Start, so_allegro_order: OrderBuilder, value: datetime, text: str
) -> None:
    seller = faulty_seller(lambda request: Reply.json(so_allegro_order(), status=201))
    body = so_allegro_order_create_from(so_allegro_order())
    body["requestedStartDate"] = value
    with AllegroClient(seller.url, max_retries=0) as client:
        client.service_orders.create(body)
    assert json.loads(seller.requests[0].body)["requestedStartDate"] == text
    assert f'"requestedStartDate":"{text}"'.encode() in seller.requests[0].body


def test_a_changed_datetime_is_written_afresh(
    faulty_seller: Start, so_allegro_order: OrderBuilder
) -> None:
    sent = _order_with_texts(so_allegro_order)
    seller = faulty_seller(lambda request: Reply.json(sent))
    with AllegroClient(seller.url, max_retries=0) as client:
        order = client.service_orders.retrieve("so-1001")
    order.order_date = order.order_date + timedelta(hours=1)
    assert order.to_dict()["orderDate"] == "2023-06-01T11:00:57.382Z"
    assert order.to_dict()["requestedStartDate"] == RECEIVED["requestedStartDate"]


def test_the_rfc3339_parser_python_310_relies_on_gives_the_same_values(
    faulty_seller: Start, so_allegro_order: OrderBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python 3.10's `fromisoformat` takes neither `Z` nor 1, 2, 4, 5 or 7+ fraction
    digits, so there `_from_text` parses most kept texts: with `fromisoformat` out of the
    way it must give the values 3.11+ gives, and keep the same texts."""
    sent = _order_with_texts(so_allegro_order)
    seller = faulty_seller(lambda request: Reply.json(sent))
    with AllegroClient(seller.url, max_retries=0) as client:
        expected = client.service_orders.retrieve("so-1001")

        def refuse(text: str) -> datetime:
            raise ValueError(text)

        monkeypatch.setattr(_model, "_fromisoformat", refuse)
        order = client.service_orders.retrieve("so-1001")
    _check_texts(order, sent)
    for key in RECEIVED:
        assert getattr(order, _snake(key)) == getattr(expected, _snake(key))
        assert getattr(order, _snake(key)).utcoffset() == getattr(expected, _snake(key)).utcoffset()


# Texts pydantic accepts but would rewrite, none of them RFC 3339: no seconds, `_` for
# `T`, an offset without its colon, a number of seconds since the epoch.
NOT_RFC3339 = {
    "orderDate": "2023-06-01T10:00Z",
    "requestedStartDate": "2024-05-10_00:00:00z",
    "requestedCompletionDate": "2024-06-01T00:00:00+0530",
    "expectedCompletionDate": 1685613657,
}
LEAP_SECOND = "2016-12-31T23:59:60Z"


def _order_with(so_allegro_order: OrderBuilder, **texts: Any) -> dict[str, Any]:
    order = so_allegro_order()
    order.update(texts)
    return order


def test_a_date_time_that_is_not_rfc3339_stays_as_received_and_is_a_deviation(
    faulty_seller: Start, so_allegro_order: OrderBuilder
) -> None:
    sent = _order_with(so_allegro_order, **NOT_RFC3339)
    seller = faulty_seller(lambda request: Reply.json(sent))
    with AllegroClient(seller.url, max_retries=0) as client:
        order = client.service_orders.retrieve("so-1001")
        with pytest.raises(ResponseValidationError):
            client.service_orders.retrieve("so-1001", strict=True)
    out = order.to_dict()
    for key, text in NOT_RFC3339.items():
        assert out[key] == text
    assert sorted(d["loc"][0] for d in order.spec_deviations) == sorted(NOT_RFC3339)
    assert json.loads(order.to_json()) == sent


async def test_a_leap_second_is_a_date_time_that_comes_back_as_received_async(
    faulty_seller: Start, so_allegro_order: OrderBuilder
) -> None:
    sent = _order_with(so_allegro_order, orderDate=LEAP_SECOND)
    seller = faulty_seller(lambda request: Reply.json(sent))
    async with AsyncAllegroClient(seller.url, max_retries=0, strict=True) as client:
        order = await client.service_orders.retrieve("so-1001")
    assert order.order_date == datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)
    assert order.to_dict()["orderDate"] == LEAP_SECOND
    assert pickle.loads(pickle.dumps(order)).to_dict()["orderDate"] == LEAP_SECOND


# ----------------------------------------------------------------------------- @type mapping


def _legato_with_place_type(so_legato_order: OrderBuilder, place_type: str) -> dict[str, Any]:
    order = so_legato_order()
    order["serviceOrderItem"][0]["service"]["place"].append(
        {"@type": place_type, "role": "INSTALL_LOCATION", "cage": "C-12"}
    )
    return order


def test_type_outside_the_mapping_is_a_recorded_deviation(
    faulty_seller: Start, so_legato_order: OrderBuilder
) -> None:
    sent = _legato_with_place_type(so_legato_order, "DataCentreCage")
    seller = faulty_seller(lambda request: Reply.json(sent))
    with LegatoClient(seller.url, max_retries=0) as client:
        order = client.service_orders.retrieve("so-5001")
        place = order.service_order_item[0].service.place
        assert place is not None
        assert place[2].to_dict() == sent["serviceOrderItem"][0]["service"]["place"][2]
        assert order.to_dict() == sent
        (deviation,) = order.spec_deviations
        assert deviation["loc"][:5] == ["serviceOrderItem", 0, "service", "place", 2]
        assert "@type" in deviation["msg"]
        with pytest.raises(ResponseValidationError, match="@type"):
            client.service_orders.retrieve("so-5001", strict=True)


async def test_type_outside_the_mapping_is_refused_in_strict_mode_async(
    faulty_seller: Start, so_legato_order: OrderBuilder
) -> None:
    sent = _legato_with_place_type(so_legato_order, "DataCentreCage")
    seller = faulty_seller(lambda request: Reply.json(sent))
    async with AsyncLegatoClient(seller.url, max_retries=0, strict=True) as client:
        with pytest.raises(ResponseValidationError) as caught:
            await client.service_orders.retrieve("so-5001")
        order = await client.service_orders.retrieve("so-5001", strict=False)
    assert any(list(e["loc"])[3:5] == ["place", 2] for e in caught.value.errors)
    assert order.spec_deviations


def test_types_in_the_mapping_conform(faulty_seller: Start, so_legato_order: OrderBuilder) -> None:
    sent = so_legato_order()
    seller = faulty_seller(lambda request: Reply.json(sent))
    with LegatoClient(seller.url, max_retries=0, strict=True) as client:
        order = client.service_orders.retrieve("so-5001")
    assert order.spec_deviations == []
    assert order.to_dict() == sent


# ----------------------------------------------------------------------------- constraints


def _order_with_address_query(so_allegro_order: OrderBuilder) -> dict[str, Any]:
    order = so_allegro_order()
    # GeographicAddress_Query has minProperties 2: `@type` alone is not a query.
    order["serviceOrderItem"][0]["service"]["place"][0]["place"] = {
        "@type": "GeographicAddress_Query"
    }
    return order


def test_min_properties_is_checked_in_responses(
    faulty_seller: Start, so_allegro_order: OrderBuilder
) -> None:
    sent = _order_with_address_query(so_allegro_order)
    seller = faulty_seller(lambda request: Reply.json(sent))
    with AllegroClient(seller.url, max_retries=0) as client:
        order = client.service_orders.retrieve("so-1001")
        with pytest.raises(ResponseValidationError, match="at least 2"):
            client.service_orders.retrieve("so-1001", strict=True)
    assert order.to_dict() == sent
    assert any(d["type"] == "min_properties" for d in order.spec_deviations)


async def test_min_properties_is_checked_in_requests_async(
    faulty_seller: Start, so_allegro_order: OrderBuilder
) -> None:
    seller = faulty_seller(lambda request: Reply.json(so_allegro_order(), status=201))
    body = so_allegro_order_create_from(_order_with_address_query(so_allegro_order))
    async with AsyncAllegroClient(seller.url, max_retries=0) as client:
        with pytest.raises(RequestValidationError, match="at least 2"):
            await client.service_orders.create(body)
        place = body["serviceOrderItem"][0]["service"]["place"][0]["place"]
        place["formattedAddressRepresentation"] = [{"formattedAddress": "1 Main St"}]
        await client.service_orders.create(body)
    assert len(seller.requests) == 1
    assert json.loads(seller.requests[0].body)["serviceOrderItem"][0]["service"]["place"][0][
        "place"
    ] == {
        "@type": "GeographicAddress_Query",
        "formattedAddressRepresentation": [{"formattedAddress": "1 Main St"}],
    }


# ----------------------------------------------------------------------------- not the resource


NOT_THE_RESOURCE = [
    pytest.param("retrieve", b"{}", "empty object", id="empty-object"),
    pytest.param("retrieve", b"[]", "expected a JSON object", id="array-for-object"),
    pytest.param("list", b'{"id": "so-1"}', "expected a JSON array", id="object-for-array"),
    pytest.param("list", b"[[]]", "expected a JSON object", id="array-item"),
    pytest.param("list", b"[{}]", "empty object", id="empty-item"),
    pytest.param("list", b'["so-1"]', "got a string", id="string-item"),
    pytest.param("retrieve", b'{"id": "so-1", "state": NaN}', "NaN is not JSON", id="nan"),
    pytest.param("retrieve", b'{"id": "so-1", "x": -Infinity}', "Infinity is not JSON", id="inf"),
    pytest.param("list", b'[{"id": "so-1", "x": Infinity}]', "Infinity is not JSON", id="inf-list"),
]


def _call(client: Any, how: str) -> Any:
    if how == "retrieve":
        return client.service_orders.retrieve("so-1")
    return client.service_orders.list().items


@pytest.mark.parametrize(("how", "body", "message"), NOT_THE_RESOURCE)
@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
def test_a_body_that_is_not_the_resource_is_a_typed_error(
    faulty_seller: Start, how: str, body: bytes, message: str, strict: bool
) -> None:
    seller = faulty_seller(lambda request: _json_reply(body))
    with (
        AllegroClient(seller.url, max_retries=0, strict=strict) as client,
        pytest.raises(ResponseValidationError, match=message) as caught,
    ):
        _call(client, how)
    assert caught.value.response.content == body


@pytest.mark.parametrize(("how", "body", "message"), NOT_THE_RESOURCE[::3])
async def test_a_body_that_is_not_the_resource_is_a_typed_error_async(
    faulty_seller: Start, how: str, body: bytes, message: str
) -> None:
    seller = faulty_seller(lambda request: _json_reply(body))
    async with AsyncAllegroClient(seller.url, max_retries=0) as client:
        with pytest.raises(ResponseValidationError, match=message):
            if how == "retrieve":
                await client.service_orders.retrieve("so-1")
            else:
                await client.service_orders.list()


def test_a_real_resource_missing_fields_stays_lenient(
    faulty_seller: Start, so_allegro_order: OrderBuilder
) -> None:
    order = so_allegro_order()
    del order["serviceOrderItem"]
    order["note"] = [{"text": "NaN and Infinity in a string are fine"}]
    sent = json.dumps(order).encode()
    seller = faulty_seller(lambda request: _json_reply(sent))
    with AllegroClient(seller.url, max_retries=0) as client:
        found = client.service_orders.retrieve("so-1001")
    assert found.to_dict() == order
    assert ["serviceOrderItem"] in [d["loc"] for d in found.spec_deviations]


# ----------------------------------------------------------------------------- request bodies

FM_JOB = {"@type": "FaultManagementJobRef", "faultManagementJobId": "fmj-1"}


def _modified() -> dict[str, Any]:
    return {
        "id": "mod-1",
        "state": "acknowledged",
        "creationDateTime": "2024-05-01T09:30:00Z",
        "faultManagementJob": FM_JOB,
        "description": "shorter period",
    }


def test_no_spec_default_is_added_to_a_request(faulty_seller: Start) -> None:
    """`jobPriority` defaults to 5 in the spec: a modify that never set it must not change
    the job's priority, a complex query must not narrow to priority 5. A required
    single-valued `@type` the caller left out is filled in."""
    seller = faulty_seller(
        lambda request: Reply.json(_modified() if "modify" in request.path.lower() else [])
    )
    with AllegroClient(seller.url, max_retries=0) as client:
        client.modify_fault_management_jobs.create(
            {"faultManagementJob": {"faultManagementJobId": "fmj-1"}, "description": "x"}
        )
        client.fault_management_jobs.complex_query({"state": "completed"})
        client.modify_fault_management_jobs.create(
            fm.ModifyFaultManagementJobCreate(
                fault_management_job=fm.FaultManagementJobRef(fault_management_job_id="fmj-1")
            )
        )
    modify, query, modify_model = (json.loads(r.body) for r in seller.requests)
    assert modify == {"faultManagementJob": FM_JOB, "description": "x"}
    assert query == {"state": "completed"}
    assert modify_model == {"faultManagementJob": FM_JOB}


async def test_no_spec_default_is_added_to_a_request_async(faulty_seller: Start) -> None:
    seller = faulty_seller(lambda request: Reply.json([]))
    async with AsyncAllegroClient(seller.url, max_retries=0) as client:
        await client.fault_management_jobs.complex_query({"jobType": "proactive"})
    assert seller.requests[0].body == b'{"jobType":"proactive"}'


class _TaggedNote(m1.NoteBusSof):
    """A caller's own subclass of a generated model, with a field of its own."""

    ticket: str | None = None


def test_a_subclass_the_caller_sets_goes_out_with_its_own_fields(
    faulty_seller: Start, so_allegro_order: OrderBuilder
) -> None:
    seller = faulty_seller(lambda request: Reply.json(so_allegro_order(), status=201))
    model = m1.ServiceOrderCreate.model_validate(so_allegro_order_create_from(so_allegro_order()))
    note = _TaggedNote(
        author="Buyer", date="2024-05-01T09:30:00Z", id="n-1", source="bus", text="t"
    )
    note.ticket = "T-7"
    model.service_order_item[0].note = [note]
    with AllegroClient(seller.url, max_retries=0) as client:
        client.service_orders.create(model)
    (sent,) = json.loads(seller.requests[0].body)["serviceOrderItem"][0]["note"]
    assert sent == {
        "author": "Buyer",
        "date": "2024-05-01T09:30:00Z",
        "id": "n-1",
        "source": "bus",
        "text": "t",
        "ticket": "T-7",
    }


def test_a_null_the_caller_set_on_a_declared_field_is_refused(
    faulty_seller: Start, so_allegro_order: OrderBuilder
) -> None:
    seller = faulty_seller(lambda request: Reply.json(so_allegro_order(), status=201))
    body = so_allegro_order_create_from(so_allegro_order())
    body["serviceOrderItem"][0]["service"]["serviceType"] = None
    with AllegroClient(seller.url, max_retries=0) as client:
        with pytest.raises(
            RequestValidationError, match=r"serviceOrderItem\.0\.service\.serviceType"
        ):
            client.service_orders.create(body)
        model = m1.ServiceOrderCreate.model_validate(
            so_allegro_order_create_from(so_allegro_order())
        )
        model.description = None
        with pytest.raises(RequestValidationError) as caught:
            client.service_orders.create(model)
        assert [e["loc"] for e in caught.value.errors] == [("description",)]
        assert seller.requests == []
        # Unknown fields go out as set, nulls included; a declared field left unset is absent.
        model = m1.ServiceOrderCreate.model_validate(
            so_allegro_order_create_from(so_allegro_order())
        )
        model.buyer_note = None
        client.service_orders.create(model)
    sent = json.loads(seller.requests[0].body)
    assert sent["buyer_note"] is None
    assert "description" in sent and "externalId" in sent


async def test_a_null_the_caller_set_is_refused_async(
    faulty_seller: Start, so_allegro_order: OrderBuilder
) -> None:
    seller = faulty_seller(lambda request: Reply.json(so_allegro_order(), status=201))
    body = so_allegro_order_create_from(so_allegro_order())
    body["externalId"] = None
    async with AsyncAllegroClient(seller.url, max_retries=0) as client:
        with pytest.raises(RequestValidationError, match="externalId"):
            await client.service_orders.create(body)
    assert seller.requests == []


def _report_body(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "granularity": {"timeDurationValue": 15, "timeDurationUnits": "MIN"},
        "monitoredObject": objects,
        "outputFormat": "json",
        "reportingTimeframe": {"reportingStartDate": "2024-05-01T00:00:00.000Z"},
        "resultFormat": "payload",
        "serviceSpecificConfiguration": {"@type": "urn:mef:lso:spec:pm:ethernet"},
    }


def test_unique_items_is_checked_in_requests(faulty_seller: Start) -> None:
    """PerformanceReport_Create's `monitoredObject` is `uniqueItems`: a repeated object is
    refused before anything is sent; distinct ones go out as set."""
    seller = faulty_seller(lambda request: Reply(500))
    ref = {"@type": "ServiceRef", "serviceId": "svc-1"}
    with AllegroClient(seller.url, max_retries=0) as client:
        with pytest.raises(RequestValidationError, match="unique"):
            client.performance_reports.create(_report_body([ref, dict(ref)]))
        assert seller.requests == []
        with pytest.raises(InternalServerError):
            client.performance_reports.create(_report_body([ref, {**ref, "serviceId": "svc-2"}]))
    assert json.loads(seller.requests[0].body) == _report_body([ref, {**ref, "serviceId": "svc-2"}])


@pytest.mark.parametrize(
    ("how", "body"),
    [("retrieve", b"{}"), ("list", b'[{"id": "s-1"}, {}]')],
)
def test_an_empty_object_is_refused_where_the_spec_requires_nothing(
    faulty_seller: Start, how: str, body: bytes
) -> None:
    """Legato's `Service` has no required property, so `{}` validates as one: it is
    still not a service. (An object with any property is one, next test.)"""
    seller = faulty_seller(lambda request: _json_reply(body))
    with (
        LegatoClient(seller.url, max_retries=0) as client,
        pytest.raises(ResponseValidationError, match="expected Service"),
    ):
        if how == "retrieve":
            client.services.retrieve("s-1")
        else:
            client.services.list().items  # noqa: B018


def test_a_service_with_one_property_is_a_service(faulty_seller: Start) -> None:
    # Legato's Service does not even declare `id`: unknown properties only, still kept.
    seller = faulty_seller(lambda request: _json_reply(b'[{"id": "s-1", "x": 1}]'))
    with LegatoClient(seller.url, max_retries=0, strict=True) as client:
        (service,) = client.services.list().items
    assert service.to_dict() == {"id": "s-1", "x": 1}


def test_an_object_with_only_unknown_properties_stays_a_lenient_deviation(
    faulty_seller: Start,
) -> None:
    sent = {"error": "maintenance"}
    seller = faulty_seller(lambda request: Reply.json(sent))
    with AllegroClient(seller.url, max_retries=0) as client:
        order = client.service_orders.retrieve("so-1")
        with pytest.raises(ResponseValidationError, match="Field required"):
            client.service_orders.retrieve("so-1", strict=True)
    assert order.to_dict() == sent
    assert ["id"] in [d["loc"] for d in order.spec_deviations]
