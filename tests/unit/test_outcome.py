"""A POST whose outcome is unknown says so, can be reconciled, and is never duplicated
when it carries a buyer-chosen key; 429 and Retry-After handling. Over real loopback HTTP
against the faulty seller."""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import socket
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import pytest
from _faulty import Action, Close, FaultySeller, Reply, Request, Reset, Stall

from lso_client import (
    AllegroClient,
    APIConnectionError,
    APITimeoutError,
    AsyncAllegroClient,
    InterludeClient,
    InternalServerError,
    OutcomeUnknownError,
    RateLimitError,
    RequestValidationError,
)
from lso_client.testing import example_service_order

Start = Callable[..., FaultySeller]
SO = "/mefApi/allegro/serviceOrderingManagement/v1/serviceOrder"


class OrderStore:
    """A seller keeping real service orders; `faults` answer the creates in order, after the
    order is stored (`created=True`) or without storing it."""

    def __init__(self, faults: list[tuple[Action, bool]] | None = None) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.faults = list(faults or [])
        self.posts = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def by_external_id(self, key: str) -> list[dict[str, Any]]:
        return [o for o in self.orders.values() if o.get("externalId") == key]

    def __call__(self, request: Request) -> Action:
        with self._lock:
            return self._answer(request)

    def _answer(self, request: Request) -> Action:
        path = request.path
        if request.method == "POST" and path.endswith("/serviceOrder"):
            self.posts += 1
            fault, created = self.faults.pop(0) if self.faults else (None, True)
            if created:
                order = {
                    **request.json(),
                    "id": f"so-{next(self._ids)}",
                    "state": "acknowledged",
                    "orderDate": "2030-01-01T00:00:00Z",
                }
                self.orders[order["id"]] = order
            if fault is not None:
                return fault
            return Reply.json(order, status=201)
        if request.method == "GET" and path.endswith("/serviceOrder"):
            query = parse_qs(request.query)
            offset = int(query.get("offset", ["0"])[0])
            limit = int(query.get("limit", ["100"])[0])
            items = list(self.orders.values())
            return Reply.json(
                items[offset : offset + limit], headers={"X-Total-Count": str(len(items))}
            )
        if request.method == "GET" and "/serviceOrder/" in path:
            order = self.orders.get(path.rsplit("/", 1)[1])
            if order is None:
                return Reply.json({"code": "notFound", "reason": "no such order"}, status=404)
            return Reply.json(order)
        return Reply.json({"code": "notFound", "reason": "unexpected"}, status=404)


def order_body(key: str = "buyer-key-1") -> dict[str, Any]:
    return {**example_service_order(), "externalId": key}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- unknown outcome


@pytest.mark.parametrize(
    "fault", [Reset("after_read"), Close()], ids=["reset-after-read", "closed-unanswered"]
)
def test_a_post_that_may_have_arrived_raises_outcome_unknown(
    faulty_seller: Start, fault: Action
) -> None:
    store = OrderStore([(fault, True)])
    seller = faulty_seller(store)
    with AllegroClient(seller.url) as client, pytest.raises(OutcomeUnknownError) as caught:
        client.service_orders.create(order_body())
    assert caught.value.request is not None
    assert caught.value.request.method == "POST"
    assert "may or may not have acted" in str(caught.value)
    assert store.posts == 1  # not sent again by default


def test_a_post_read_timeout_is_outcome_unknown_and_a_timeout(faulty_seller: Start) -> None:
    store = OrderStore([(Stall(5), True)])
    seller = faulty_seller(store)
    with (
        AllegroClient(seller.url, timeout=0.5) as client,
        pytest.raises(OutcomeUnknownError) as caught,
    ):
        client.service_orders.create(order_body())
    assert isinstance(caught.value, APITimeoutError)


def test_a_post_cut_by_the_deadline_is_outcome_unknown(faulty_seller: Start) -> None:
    store = OrderStore([(Stall(5), True)])
    seller = faulty_seller(store)
    with (
        AllegroClient(seller.url) as client,
        pytest.raises(OutcomeUnknownError, match=r"Deadline of 0\.5s") as caught,
    ):
        client.service_orders.create(order_body(), deadline=0.5)
    assert isinstance(caught.value, APITimeoutError)


def test_an_async_post_cut_by_the_deadline_after_it_was_sent_is_outcome_unknown(
    faulty_seller: Start,
) -> None:
    store = OrderStore([(Stall(5), True)])
    seller = faulty_seller(store)

    async def main() -> None:
        async with AsyncAllegroClient(seller.url) as client:
            with pytest.raises(OutcomeUnknownError, match=r"Deadline of 0\.5s") as caught:
                await client.service_orders.create(order_body(), deadline=0.5)
            assert isinstance(caught.value, APITimeoutError)

    asyncio.run(main())
    assert store.posts == 1


def test_a_post_never_sent_is_a_plain_connection_error() -> None:
    with (
        AllegroClient(f"http://127.0.0.1:{free_port()}", max_retries=0) as client,
        pytest.raises(APIConnectionError, match="before the request was sent") as caught,
    ):
        client.service_orders.create(order_body())
    assert not isinstance(caught.value, OutcomeUnknownError)


def test_a_patch_that_may_have_arrived_raises_outcome_unknown(faulty_seller: Start) -> None:
    seller = faulty_seller(lambda request: Reset("after_read"))
    with AllegroClient(seller.url) as client, pytest.raises(OutcomeUnknownError):
        client.performance_profiles.update("pp-1", {"description": "x"})
    assert len(seller.requests) == 1


def test_a_get_reset_is_retried_as_before(faulty_seller: Start) -> None:
    store = OrderStore()
    store.orders["so-9"] = {"id": "so-9", "state": "acknowledged"}
    answers = iter([Reset("after_read")])
    seller = faulty_seller(lambda request: next(answers, None) or store(request))
    with AllegroClient(seller.url) as client:
        assert client.service_orders.retrieve("so-9").id == "so-9"


# --------------------------------------------------------------------------- reconcile


def test_retry_non_idempotent_reconciles_instead_of_duplicating(faulty_seller: Start) -> None:
    store = OrderStore([(Reset("after_read"), True)])
    seller = faulty_seller(store)
    with AllegroClient(seller.url, retry_non_idempotent=True) as client:
        raw = client.service_orders.with_raw_response.create(order_body("k-1"))
        order = raw.parse()
    assert len(store.by_external_id("k-1")) == 1
    assert store.posts == 1
    assert order.id == store.by_external_id("k-1")[0]["id"]
    assert raw.http_response.extensions["lso_reconciled"] is True


def test_retry_non_idempotent_resends_when_nothing_was_created(faulty_seller: Start) -> None:
    store = OrderStore([(Reset("after_read"), False)])
    seller = faulty_seller(store)
    with AllegroClient(seller.url, retry_non_idempotent=True) as client:
        order = client.service_orders.create(order_body("k-2"))
    assert store.posts == 2
    assert [o["id"] for o in store.by_external_id("k-2")] == [order.id]


def test_a_5xx_create_is_reconciled_before_it_is_resent(faulty_seller: Start) -> None:
    failure = Reply.json({"code": "internalError", "reason": "oops"}, status=503)
    store = OrderStore([(failure, True)])
    seller = faulty_seller(store)
    with AllegroClient(seller.url, retry_non_idempotent=True) as client:
        order = client.service_orders.create(order_body("k-3"), max_retries=1)
    assert store.posts == 1
    assert [o["id"] for o in store.by_external_id("k-3")] == [order.id]


def test_without_a_key_retry_non_idempotent_resends(faulty_seller: Start) -> None:
    store = OrderStore([(Reset("after_read"), True)])
    seller = faulty_seller(store)
    body = example_service_order()
    body.pop("externalId", None)
    with AllegroClient(seller.url, retry_non_idempotent=True) as client:
        client.service_orders.create(body)
    assert store.posts == 2  # nothing to look up by: the documented risk


def test_a_failed_lookup_is_not_followed_by_a_resend(faulty_seller: Start) -> None:
    store = OrderStore([(Reset("after_read"), True)])
    listing_fails = Reply.json({"code": "internalError", "reason": "down"}, status=500)

    def handler(request: Request) -> Action:
        if request.method == "GET":
            return listing_fails
        return store(request)

    seller = faulty_seller(handler)
    with (
        AllegroClient(seller.url, retry_non_idempotent=True, max_retries=1) as client,
        pytest.raises(OutcomeUnknownError, match="looking up"),
    ):
        client.service_orders.create(order_body("k-4"))
    assert store.posts == 1


def test_reconcile_helper_finds_or_not(faulty_seller: Start) -> None:
    store = OrderStore([(Reset("after_read"), True)])
    seller = faulty_seller(store)
    with AllegroClient(seller.url) as client:
        with pytest.raises(OutcomeUnknownError):
            client.service_orders.create(order_body("k-5"))
        found = client.service_orders.reconcile(order_body("k-5"))
        assert found is not None and found.external_id == "k-5"
        assert client.service_orders.reconcile(order_body("never-sent")) is None
        with pytest.raises(RequestValidationError, match="externalId"):
            client.service_orders.reconcile({"description": "no key"})
        with pytest.raises(TypeError, match="no buyer-chosen key"):
            client.test_jobs.reconcile({})


def test_async_reconcile_and_retry(faulty_seller: Start) -> None:
    store = OrderStore([(Reset("after_read"), True), (Reset("after_read"), True)])
    seller = faulty_seller(store)

    async def main() -> None:
        async with AsyncAllegroClient(seller.url) as client:
            with pytest.raises(OutcomeUnknownError):
                await client.service_orders.create(order_body("a-1"))
            found = await client.service_orders.reconcile(order_body("a-1"))
            assert found is not None and found.external_id == "a-1"
            again = await client.service_orders.create(order_body("a-2"), retry_non_idempotent=True)
            assert again.external_id == "a-2"

    asyncio.run(main())
    assert len(store.by_external_id("a-1")) == 1
    assert len(store.by_external_id("a-2")) == 1
    assert store.posts == 2


def test_performance_jobs_are_found_by_buyer_job_id(faulty_seller: Start) -> None:
    jobs: list[dict[str, Any]] = []

    def handler(request: Request) -> Action:
        if request.method == "POST":
            jobs.append({**request.json(), "id": f"pj-{len(jobs) + 1}", "state": "acknowledged"})
            return Reset("after_read")
        if request.path.endswith("/performanceJob"):
            wanted = parse_qs(request.query).get("buyerJobId", [None])[0]
            return Reply.json([j for j in jobs if j.get("buyerJobId") == wanted])
        return Reply.json(jobs[0])

    seller = faulty_seller(handler)
    body = {
        "buyerJobId": "bj-1",
        "monitoredObject": {"@type": "ServiceRef", "serviceId": "evc-1"},
        "performanceProfile": {"@type": "PerformanceProfileRef", "performanceProfileId": "pp-1"},
        "scheduleDefinition": {},
    }
    with InterludeClient(seller.url, retry_non_idempotent=True) as client:
        job = client.performance_jobs.create(body)
    assert job.id == "pj-1"
    assert len(jobs) == 1
    assert "buyerJobId=bj-1" in next(r for r in seller.requests if r.method == "GET").query


# --------------------------------------------------------------------------- 429


def test_a_post_answered_429_is_sent_again_after_retry_after(faulty_seller: Start) -> None:
    store = OrderStore([(Reply.json({"code": "tooMany"}, 429, {"Retry-After": "0.2"}), False)])
    seller = faulty_seller(store)
    with AllegroClient(seller.url) as client:
        order = client.service_orders.create(order_body("k-429"))
    assert store.posts == 2
    assert [o["id"] for o in store.by_external_id("k-429")] == [order.id]


def test_a_retry_after_given_as_an_http_date_is_honoured(faulty_seller: Start) -> None:
    # An HTTP-date has whole seconds: two seconds ahead is at least one second away.
    when = email.utils.formatdate(time.time() + 2, usegmt=True)
    store = OrderStore([(Reply.json({"code": "tooMany"}, 429, {"Retry-After": when}), False)])
    seller = faulty_seller(store)
    with AllegroClient(seller.url) as client:
        started = time.monotonic()
        order = client.service_orders.create(order_body("k-429-date"))
        waited = time.monotonic() - started
    assert store.posts == 2
    assert waited >= 0.9
    assert [o["id"] for o in store.by_external_id("k-429-date")] == [order.id]


def test_max_retry_after_is_set_per_client(faulty_seller: Start) -> None:
    seller = faulty_seller(lambda r: Reply.json({"code": "tooMany"}, 429, {"Retry-After": "5"}))
    with AllegroClient(seller.url, max_retry_after=1) as client:
        started = time.monotonic()
        with pytest.raises(RateLimitError, match="max_retry_after=1s"):
            client.service_orders.retrieve("so-1")
        assert time.monotonic() - started < 1.5
        patient = client.with_options(max_retry_after=10, max_retries=1)
        assert patient._transport.max_retry_after == 10
    assert len(seller.requests) == 1


def test_a_deadline_cutting_a_retry_after_wait_says_429(faulty_seller: Start) -> None:
    seller = faulty_seller(lambda r: Reply.json({"code": "tooMany"}, 429, {"Retry-After": "5"}))
    with AllegroClient(seller.url) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="429") as caught:
            client.service_orders.retrieve("so-1", deadline=2)
        assert time.monotonic() - started < 2 + 1.5
    assert isinstance(caught.value.__cause__, RateLimitError)
    assert "asking to wait 5s" in str(caught.value)


def test_an_unknown_outcome_is_not_hidden_by_a_later_answer(faulty_seller: Start) -> None:
    # Sent blindly again (no key), the second attempt gets a 500: what the first did is
    # still unknown, and the error says so.
    failure = Reply.json({"code": "internalError", "reason": "oops"}, status=500)
    store = OrderStore([(Reset("after_read"), True), (failure, False)])
    seller = faulty_seller(store)
    body = example_service_order()
    body.pop("externalId", None)
    with (
        AllegroClient(seller.url, retry_non_idempotent=True, max_retries=1) as client,
        pytest.raises(OutcomeUnknownError, match="earlier attempt") as caught,
    ):
        client.service_orders.create(body)
    assert isinstance(caught.value.__cause__, InternalServerError)
    assert store.posts == 2


def crowded_store(monkeypatch: pytest.MonkeyPatch) -> OrderStore:
    """A store whose next create is stored unanswered, listed after 4 other orders, while
    a lookup reads 3 orders at the most."""
    monkeypatch.setattr("lso_client._reconcile.SCAN_LIMIT", 3)
    store = OrderStore([(Reset("after_read"), True)])
    for n in range(4):
        store.orders[f"other-{n}"] = {**order_body(f"other-{n}"), "id": f"other-{n}"}
    return store


def test_a_lookup_that_reads_its_whole_budget_does_not_conclude_nothing_was_created(
    faulty_seller: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    # More recent orders than a lookup reads, the one created listed last: not finding it
    # within the budget says nothing, so the create is not sent again (a duplicate).
    store = crowded_store(monkeypatch)
    seller = faulty_seller(store)
    with AllegroClient(seller.url, retry_non_idempotent=True) as client:
        with pytest.raises(OutcomeUnknownError, match="looking up"):
            client.service_orders.create(order_body("k-6"))
        assert store.posts == 1
        with pytest.raises(OutcomeUnknownError, match="3 "):
            client.service_orders.reconcile(order_body("k-6"))
    assert len(store.by_external_id("k-6")) == 1


def test_an_async_lookup_that_reads_its_whole_budget_does_not_conclude(
    faulty_seller: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = crowded_store(monkeypatch)
    seller = faulty_seller(store)

    async def main() -> None:
        async with AsyncAllegroClient(seller.url, retry_non_idempotent=True) as client:
            with pytest.raises(OutcomeUnknownError, match="looking up"):
                await client.service_orders.create(order_body("k-7"))
            with pytest.raises(OutcomeUnknownError):
                await client.service_orders.reconcile(order_body("k-7"))

    asyncio.run(main())
    assert store.posts == 1


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_post_whose_connection_never_opened_by_the_deadline_was_not_sent(
    faulty_seller: Start, mode: str
) -> None:
    # https:// to a plain HTTP seller: the TLS handshake hangs (part of connecting), so the
    # POST never left. Cut by the deadline, it is a deadline error, not an unknown outcome.
    seller = faulty_seller(lambda request: Reply.json({"id": "so-1"}))
    url = seller.url.replace("http://", "https://")

    async def create_async() -> None:
        async with AsyncAllegroClient(url, max_retries=0) as client:
            await client.service_orders.create(order_body(), deadline=1)

    started = time.monotonic()
    with pytest.raises(APITimeoutError, match=r"Deadline of 1s") as caught:
        if mode == "sync":
            with AllegroClient(url, max_retries=0) as client:
                client.service_orders.create(order_body(), deadline=1)
        else:
            asyncio.run(create_async())
    assert time.monotonic() - started < 1 + 1.0
    assert not isinstance(caught.value, OutcomeUnknownError)
    assert seller.requests == []
