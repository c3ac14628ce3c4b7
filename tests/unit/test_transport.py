from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest
import respx

from lso_client._errors import (
    APIConnectionError,
    APITimeoutError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    NotSupportedError,
    RateLimitError,
    RequestValidationError,
    ResponseTooLargeError,
    UnprocessableEntityError,
)
from lso_client._transport import (
    DEFAULT_TIMEOUT,
    NOT_GIVEN,
    RETRYABLE_STATUSES,
    AsyncTransport,
    NotGiven,
    RequestOptions,
    SyncTransport,
    backoff_delay,
    cap_timeout,
    encode_query,
    encode_query_value,
    is_retryable_error,
    parse_retry_after,
)

URL = "https://seller.example/mefApi/allegro/serviceOrderingManagement/v1/serviceOrder"


class FakeClock:
    """Monotonic clock that only moves when the transport sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def make_sync(clock: FakeClock, *, rand: float = 1.0, **kwargs: object) -> SyncTransport:
    transport = SyncTransport(**kwargs)  # type: ignore[arg-type]
    transport._clock = clock
    transport._sleep = clock.sleep
    transport._random = lambda: rand
    return transport


def make_async(clock: FakeClock, *, rand: float = 1.0, **kwargs: object) -> AsyncTransport:
    transport = AsyncTransport(**kwargs)  # type: ignore[arg-type]
    transport._clock = clock
    transport._sleep = clock.asleep
    transport._random = lambda: rand
    return transport


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


# --------------------------------------------------------------------------- pure functions


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


def test_not_given_is_a_falsy_singleton() -> None:
    assert NotGiven() is NOT_GIVEN
    assert not NOT_GIVEN
    assert repr(NOT_GIVEN) == "NOT_GIVEN"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc", ["abc"]),
        (5, ["5"]),
        (1.5, ["1.5"]),
        (True, ["true"]),
        (False, ["false"]),
        (Colour.RED, ["red"]),
        (Level.HIGH, ["3"]),
        (date(2024, 2, 29), ["2024-02-29"]),
        (
            datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            ["2024-01-02T03:04:05+02:00"],
        ),
        (["a", Colour.RED, None, 2], ["a", "red", "2"]),
        (("x", "y"), ["x", "y"]),
        (None, []),
    ],
)
def test_encode_query_value(value: object, expected: list[str]) -> None:
    assert encode_query_value("p", value) == expected


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(RequestValidationError, match=r"orderDate\.gt.*offset"):
        encode_query_value("orderDate.gt", datetime(2024, 1, 1))


def test_unsupported_query_type_is_rejected() -> None:
    with pytest.raises(RequestValidationError, match="unsupported"):
        encode_query_value("p", object())


def test_encode_query_merges_and_repeats() -> None:
    pairs = encode_query({"state": ["acknowledged", "inProgress"], "a": 1, "gone": None}, {"a": 2})
    assert pairs == [("state", "acknowledged"), ("state", "inProgress"), ("a", "2")]


def test_parse_retry_after_forms() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after(httpx.Headers({"Retry-After": "3"}), now=now) == 3.0
    assert parse_retry_after(httpx.Headers({"retry-after-ms": "250"}), now=now) == 0.25
    # retry-after-ms is more precise and wins over Retry-After
    both = httpx.Headers({"retry-after-ms": "1500", "Retry-After": "9"})
    assert parse_retry_after(both, now=now) == 1.5
    when = datetime.fromtimestamp(now + 30, tz=timezone.utc)
    dated = httpx.Headers({"Retry-After": format_datetime(when, usegmt=True)})
    assert parse_retry_after(dated, now=now) == pytest.approx(30.0)
    past = httpx.Headers({"Retry-After": format_datetime(when, usegmt=True)})
    assert parse_retry_after(past, now=now + 100) == 0.0
    assert parse_retry_after(httpx.Headers({"Retry-After": "soon"}), now=now) is None
    assert parse_retry_after(httpx.Headers({"retry-after-ms": "x"}), now=now) is None
    assert parse_retry_after(httpx.Headers(), now=now) is None


def test_backoff_is_exponential_capped_and_jittered() -> None:
    full = [backoff_delay(n, max_delay=3.0, rand=lambda: 1.0) for n in range(5)]
    assert full == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert backoff_delay(2, max_delay=8.0, rand=lambda: 0.25) == 0.5
    assert backoff_delay(2, max_delay=8.0, rand=lambda: 0.0) == 0.0


def test_cap_timeout() -> None:
    capped = cap_timeout(httpx.Timeout(60.0, connect=5.0), 2.0)
    assert (capped.connect, capped.read, capped.write, capped.pool) == (2.0, 2.0, 2.0, 2.0)
    unbounded = cap_timeout(httpx.Timeout(None), 1.5)
    assert unbounded.read == 1.5
    assert cap_timeout(DEFAULT_TIMEOUT, None) is DEFAULT_TIMEOUT


def _status_error(status: int, method: str) -> Exception:
    from lso_client._errors import error_for_response

    request = httpx.Request(method, URL)
    return error_for_response(httpx.Response(status, request=request))


def _connection_error(cause: Exception) -> APIConnectionError:
    error = APIConnectionError(request=None)
    error.__cause__ = cause
    return error


@pytest.mark.parametrize("status", sorted(RETRYABLE_STATUSES - {429}))
def test_retryable_statuses_for_get_only(status: int) -> None:
    assert is_retryable_error(_status_error(status, "GET"), "GET", retry_non_idempotent=False)
    assert not is_retryable_error(_status_error(status, "POST"), "POST", retry_non_idempotent=False)
    assert is_retryable_error(_status_error(status, "POST"), "POST", retry_non_idempotent=True)


def test_429_is_retried_for_every_method() -> None:
    # The seller says it did not act: resending a POST cannot duplicate anything.
    for method in ("GET", "POST", "PATCH"):
        assert is_retryable_error(_status_error(429, method), method, retry_non_idempotent=False)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501])
def test_non_retryable_statuses(status: int) -> None:
    assert not is_retryable_error(_status_error(status, "GET"), "GET", retry_non_idempotent=True)


def test_connection_errors_retry_rules() -> None:
    request = httpx.Request("POST", URL)
    for never_sent in (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
        error = _connection_error(never_sent("x", request=request))
        assert is_retryable_error(error, "POST", retry_non_idempotent=False)
        assert is_retryable_error(error, "PATCH", retry_non_idempotent=False)
    for maybe_sent in (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError):
        error = _connection_error(maybe_sent("x", request=request))
        assert not is_retryable_error(error, "POST", retry_non_idempotent=False)
        assert is_retryable_error(error, "POST", retry_non_idempotent=True)
        assert is_retryable_error(error, "GET", retry_non_idempotent=False)
    assert not is_retryable_error(ValueError("x"), "GET", retry_non_idempotent=True)


# --------------------------------------------------------------------------- request building


def test_default_headers_query_and_retries_taken(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.get(URL).respond(200, json=[])
    with make_sync(clock, default_headers={"X-Tenant": "t1"}) as transport:
        response = transport.request(
            "GET",
            URL,
            params={
                "@type": "ServiceOrder",
                "orderDate.gt": datetime(2024, 1, 1, tzinfo=timezone.utc),
            },
        )
    assert response.extensions["lso_retries_taken"] == 0
    sent = route.calls.last.request
    assert sent.headers["accept"] == "application/json"
    assert sent.headers["user-agent"].startswith("lso-client/")
    assert sent.headers["x-tenant"] == "t1"
    assert "content-type" not in sent.headers
    assert "x-retry-count" not in sent.headers
    # httpx percent-encodes "@" in names; servers decode it back to "@type".
    assert sent.url.query == b"%40type=ServiceOrder&orderDate.gt=2024-01-01T00%3A00%3A00%2B00%3A00"
    assert sent.url.params["@type"] == "ServiceOrder"


def test_json_content_type_and_header_precedence(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.post(URL).respond(201, json={"id": "1"})
    transport = make_sync(clock, default_headers={"X-A": "default", "X-B": "default"})
    transport.request(
        "POST",
        URL,
        content=b"{}",
        headers={"X-A": "call"},
        options=RequestOptions(extra_headers={"X-B": "extra"}, extra_query={"q": 1}),
    )
    sent = route.calls.last.request
    assert sent.headers["content-type"] == "application/json;charset=utf-8"
    assert (sent.headers["x-a"], sent.headers["x-b"]) == ("call", "extra")
    assert sent.url.params["q"] == "1"
    assert sent.content == b"{}"

    transport.request(
        "POST", URL, content=b"{}", headers={"Content-Type": "application/merge+json"}
    )
    assert route.calls.last.request.headers["content-type"] == "application/merge+json"


def test_naive_datetime_fails_before_sending(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.get(URL).respond(200)
    with pytest.raises(RequestValidationError):
        make_sync(clock).request("GET", URL, params={"at": datetime(2024, 1, 1)})
    assert route.call_count == 0


def test_timeout_defaults_and_overrides(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.get(URL).respond(200)
    transport = make_sync(clock)
    transport.request("GET", URL)
    assert route.calls.last.request.extensions["timeout"] == DEFAULT_TIMEOUT.as_dict()
    transport.request("GET", URL, options=RequestOptions(timeout=None))
    assert set(route.calls.last.request.extensions["timeout"].values()) == {None}
    transport.request("GET", URL, options=RequestOptions(timeout=3.0))
    assert set(route.calls.last.request.extensions["timeout"].values()) == {3.0}


def test_transport_auth_is_applied(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.get(URL).respond(200)
    make_sync(clock, auth=httpx.BasicAuth("buyer", "pw")).request("GET", URL)
    assert route.calls.last.request.headers["authorization"].startswith("Basic ")


# --------------------------------------------------------------------------- errors


def test_status_errors_are_typed(mock: respx.MockRouter, clock: FakeClock) -> None:
    mock.get(URL + "/1").respond(404, json={"code": "notFound", "reason": "no such order"})
    mock.get(URL + "/2").respond(501, json={"code": "notImplemented", "reason": "optional"})
    transport = make_sync(clock)
    with pytest.raises(NotFoundError, match="no such order") as info:
        transport.request("GET", URL + "/1")
    assert info.value.body == {"code": "notFound", "reason": "no such order"}
    with pytest.raises(NotSupportedError):
        transport.request("GET", URL + "/2")
    assert clock.sleeps == []  # 404 and 501 are not retried


def test_422_list_body_becomes_errors(mock: respx.MockRouter, clock: FakeClock) -> None:
    body = [
        {"code": "missingProperty", "reason": "r1", "propertyPath": "/productOrderItem"},
        {"code": "invalidValue", "reason": "r2", "propertyPath": "/externalId"},
    ]
    route = mock.post(URL).respond(422, json=body)
    with pytest.raises(UnprocessableEntityError) as info:
        make_sync(clock).request("POST", URL, content=b"{}")
    assert info.value.errors == body
    assert "missingProperty" in str(info.value)
    assert route.call_count == 1


def test_html_error_page_and_malformed_json(mock: respx.MockRouter, clock: FakeClock) -> None:
    mock.get(URL + "/html").respond(
        502, text="<html><body>Bad Gateway</body></html>", headers={"content-type": "text/html"}
    )
    mock.get(URL + "/bad").respond(
        400, content=b'{"code": "inval', headers={"content-type": "application/json"}
    )
    transport = make_sync(clock, max_retries=0)
    with pytest.raises(InternalServerError, match="Bad Gateway") as html:
        transport.request("GET", URL + "/html")
    assert html.value.status_code == 502 and html.value.body is None
    with pytest.raises(BadRequestError, match="non-JSON body") as bad:
        transport.request("GET", URL + "/bad")
    assert bad.value.body is None and bad.value.errors == []


def test_timeout_maps_to_api_timeout_error(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.get(URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(APITimeoutError, match="timed out") as info:
        make_sync(clock, max_retries=1).request("GET", URL)
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    assert info.value.request is not None
    assert route.call_count == 2


def test_connect_error_maps_to_connection_error(mock: respx.MockRouter, clock: FakeClock) -> None:
    mock.get(URL).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(APIConnectionError) as info:
        make_sync(clock, max_retries=0).request("GET", URL)
    assert not isinstance(info.value, APITimeoutError)
    assert isinstance(info.value.__cause__, httpx.ConnectError)


# --------------------------------------------------------------------------- retries


def test_get_503_retried_with_retry_count_header(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.get(URL).mock(
        side_effect=[httpx.Response(503), httpx.Response(503), httpx.Response(200, json=[])]
    )
    response = make_sync(clock).request("GET", URL)
    assert response.status_code == 200
    assert response.extensions["lso_retries_taken"] == 2
    counts = [call.request.headers.get("x-retry-count") for call in route.calls]
    assert counts == [None, "1", "2"]
    assert clock.sleeps == [0.5, 1.0]  # full jitter with rand() == 1.0: the ceiling


def test_retries_exhausted_raise_last_error(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.get(URL).respond(500, json={"code": "internalError", "reason": "boom"})
    with pytest.raises(InternalServerError, match="boom"):
        make_sync(clock, max_retries=3, max_retry_delay=0.75).request("GET", URL)
    assert route.call_count == 4
    assert clock.sleeps == [0.5, 0.75, 0.75]


def test_max_retries_zero_disables(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.get(URL).respond(503)
    with pytest.raises(InternalServerError):
        make_sync(clock).request("GET", URL, options=RequestOptions(max_retries=0))
    assert route.call_count == 1


def test_post_that_reached_server_is_sent_once(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.post(URL).respond(500)
    with pytest.raises(InternalServerError):
        make_sync(clock).request("POST", URL, content=b"{}")
    assert route.call_count == 1


def test_post_retried_when_opted_in(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.post(URL).respond(500)
    with pytest.raises(InternalServerError):
        make_sync(clock).request(
            "POST", URL, content=b"{}", options=RequestOptions(retry_non_idempotent=True)
        )
    assert route.call_count == 3
    patch = mock.patch(URL).respond(502)
    with pytest.raises(InternalServerError):
        make_sync(clock, retry_non_idempotent=True).request("PATCH", URL, content=b"{}")
    assert patch.call_count == 3


def test_post_on_connect_error_is_retried(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.post(URL).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(201, json={"id": "o1"})]
    )
    response = make_sync(clock).request("POST", URL, content=b"{}")
    assert response.json() == {"id": "o1"}
    assert route.call_count == 2
    assert response.extensions["lso_retries_taken"] == 1


def test_post_read_timeout_is_not_retried(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.post(URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(APITimeoutError):
        make_sync(clock).request("POST", URL, content=b"{}")
    assert route.call_count == 1


def test_post_429_is_retried_after_retry_after(mock: respx.MockRouter, clock: FakeClock) -> None:
    # 429: the seller did not act, so even a POST is sent again, after the wait it asked for.
    route = mock.post(URL).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(201)]
    )
    assert make_sync(clock).request("POST", URL, content=b"{}").status_code == 201
    assert route.call_count == 2
    assert clock.sleeps == [1.0]


def test_post_500_is_not_retried_by_default(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.post(URL).respond(500)
    with pytest.raises(InternalServerError):
        make_sync(clock).request("POST", URL, content=b"{}")
    assert route.call_count == 1


@pytest.mark.parametrize("method", ["PUT", "DELETE", "HEAD", "OPTIONS"])
def test_other_idempotent_methods_are_retried(
    mock: respx.MockRouter, clock: FakeClock, method: str
) -> None:
    route = mock.route(method=method, url=URL).respond(504)
    with pytest.raises(InternalServerError):
        make_sync(clock).request(method, URL)
    assert route.call_count == 3


def test_retry_after_seconds_is_honoured(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.get(URL).mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": "1"}), httpx.Response(200)]
    )
    make_sync(clock).request("GET", URL)
    assert route.call_count == 2
    assert clock.sleeps == [1.0]


def test_retry_after_ms_and_date(mock: respx.MockRouter, clock: FakeClock) -> None:
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=20), usegmt=True)
    mock.get(URL).mock(
        side_effect=[
            httpx.Response(429, headers={"retry-after-ms": "120"}),
            httpx.Response(503, headers={"Retry-After": when}),
            httpx.Response(200),
        ]
    )
    make_sync(clock).request("GET", URL)
    assert clock.sleeps[0] == pytest.approx(0.12)
    assert 17.0 <= clock.sleeps[1] <= 20.0


def test_retry_after_above_ceiling_raises(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.get(URL).respond(429, headers={"Retry-After": "120"})
    with pytest.raises(RateLimitError):
        make_sync(clock, max_retry_after=60.0).request("GET", URL)
    assert route.call_count == 1
    assert clock.sleeps == []


def test_malformed_retry_after_falls_back_to_backoff(
    mock: respx.MockRouter, clock: FakeClock
) -> None:
    mock.get(URL).mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": "later"}), httpx.Response(200)]
    )
    make_sync(clock, rand=0.5).request("GET", URL)
    assert clock.sleeps == [0.25]


def test_retry_is_logged_at_info(
    mock: respx.MockRouter, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    mock.get(URL).mock(side_effect=[httpx.Response(503), httpx.Response(200)])
    with caplog.at_level("INFO", logger="lso_client"):
        make_sync(clock).request("GET", URL)
    infos = [r for r in caplog.records if r.levelname == "INFO"]
    assert len(infos) == 1
    assert "retry 1 of 2" in infos[0].getMessage() and "503" in infos[0].getMessage()


# --------------------------------------------------------------------------- deadline


def test_deadline_stops_retries(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.get(URL).respond(503)
    transport = make_sync(clock, max_retries=10, deadline=1.2)
    with pytest.raises(
        APITimeoutError, match=r"Deadline of 1\.2s reached after 2 attempts"
    ) as info:
        transport.request("GET", URL)
    # attempt, sleep 0.5 (0.7 left), attempt, next sleep 1.0 would pass the deadline: stop.
    assert route.call_count == 2
    assert clock.sleeps == [0.5]
    assert isinstance(info.value.__cause__, InternalServerError)


def test_deadline_caps_each_attempt_timeout(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.get(URL).mock(side_effect=[httpx.Response(503), httpx.Response(200)])
    make_sync(clock).request("GET", URL, options=RequestOptions(deadline=4.0))
    first, second = (call.request.extensions["timeout"] for call in route.calls)
    assert set(first.values()) == {4.0}
    assert set(second.values()) == {3.5}  # 0.5 s were spent sleeping


def test_deadline_reached_during_attempt(mock: respx.MockRouter, clock: FakeClock) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        clock.now += request.extensions["timeout"]["read"]
        raise httpx.ReadTimeout("slow", request=request)

    route = mock.get(URL).mock(side_effect=slow)
    with pytest.raises(APITimeoutError, match="Deadline of 2s reached"):
        make_sync(clock, deadline=2.0).request("GET", URL)
    assert route.call_count == 1


def test_expired_deadline_sends_nothing(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.get(URL).respond(200)
    with pytest.raises(APITimeoutError, match="Deadline"):
        make_sync(clock).request("GET", URL, options=RequestOptions(deadline=0))
    assert route.call_count == 0


def test_retry_after_longer_than_deadline(mock: respx.MockRouter, clock: FakeClock) -> None:
    mock.get(URL).respond(503, headers={"Retry-After": "5"})
    with pytest.raises(APITimeoutError, match="Deadline"):
        make_sync(clock, deadline=3.0).request("GET", URL)
    assert clock.sleeps == []


# --------------------------------------------------------------------------- lifecycle


def test_with_options_shares_the_client(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.get(URL).respond(503)
    base = make_sync(clock, default_headers={"X-A": "1"})
    copy = base.with_options(max_retries=0, default_headers={"X-B": "2"})
    assert copy.http_client is base.http_client
    assert (base.max_retries, copy.max_retries) == (2, 0)
    with pytest.raises(InternalServerError):
        copy.request("GET", URL)
    assert route.call_count == 1
    sent = route.calls.last.request.headers
    assert (sent["x-a"], sent["x-b"]) == ("1", "2")
    copy.close()
    assert not base.http_client.is_closed
    base.close()
    assert base.http_client.is_closed


def test_injected_client_is_not_closed() -> None:
    client = httpx.Client()
    with SyncTransport(http_client=client):
        pass
    assert not client.is_closed
    client.close()


def test_real_connection_refused_post_is_retried(clock: FakeClock) -> None:
    # Nothing listens on port 1 of the loopback: the connect phase fails, so POST is retried.
    transport = make_sync(clock, rand=0.0)
    with pytest.raises(APIConnectionError):
        transport.request("POST", "http://127.0.0.1:1/x", content=b"{}")
    assert len(clock.sleeps) == 2
    transport.close()


# --------------------------------------------------------------------------- async


async def test_async_retries_and_headers(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.get(URL).mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "1"}),
            httpx.Response(200, json=[1]),
        ]
    )
    async with make_async(clock) as transport:
        response = await transport.request("GET", URL, params={"flag": True})
    assert response.json() == [1]
    assert response.extensions["lso_retries_taken"] == 1
    assert clock.sleeps == [1.0]
    assert route.calls.last.request.headers["x-retry-count"] == "1"
    assert route.calls.last.request.url.params["flag"] == "true"


async def test_async_post_not_retried_unless_opted_in(
    mock: respx.MockRouter, clock: FakeClock
) -> None:
    route = mock.post(URL).respond(500)
    transport = make_async(clock)
    with pytest.raises(InternalServerError):
        await transport.request("POST", URL, content=b"{}")
    assert route.call_count == 1
    with pytest.raises(InternalServerError):
        await transport.with_options(retry_non_idempotent=True).request("POST", URL, content=b"{}")
    assert route.call_count == 4
    await transport.aclose()
    assert transport.http_client.is_closed


async def test_async_post_connect_error_retried(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.post(URL).mock(side_effect=[httpx.ConnectTimeout("t"), httpx.Response(201)])
    response = await make_async(clock).request("POST", URL, content=b"{}")
    assert response.status_code == 201 and route.call_count == 2


async def test_async_errors_and_deadline(mock: respx.MockRouter, clock: FakeClock) -> None:
    mock.get(URL + "/t").mock(side_effect=httpx.ReadTimeout("slow"))
    mock.get(URL + "/422").respond(422, json=[{"code": "invalidQuery", "reason": "bad"}])
    mock.get(URL + "/503").respond(503)
    transport = make_async(clock, max_retries=0)
    with pytest.raises(APITimeoutError):
        await transport.request("GET", URL + "/t")
    with pytest.raises(UnprocessableEntityError) as info:
        await transport.request("GET", URL + "/422")
    assert info.value.errors == [{"code": "invalidQuery", "reason": "bad"}]
    with pytest.raises(APITimeoutError, match="Deadline"):
        await transport.request(
            "GET", URL + "/503", options=RequestOptions(max_retries=5, deadline=0.4)
        )
    assert clock.sleeps == []


def test_request_body_is_passed_through(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.put(URL).respond(200)
    body = json.dumps({"note": [{"text": "é"}]}).encode()
    make_sync(clock).request("PUT", URL, content=body)
    assert route.calls.last.request.content == body


# --------------------------------------------------------------------------- bodies read already


def _mock_client(body: bytes) -> httpx.Client:
    return httpx.Client(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    )


def test_a_body_read_by_the_transport_is_taken_as_is_within_the_limit() -> None:
    # A mocked transport answers with content httpx has read already: no stream to read.
    transport = SyncTransport(http_client=_mock_client(b'{"id": "1"}'))
    assert transport.request("GET", URL).content == b'{"id": "1"}'
    small = transport.with_options(max_response_bytes=5)
    with pytest.raises(ResponseTooLargeError):
        small.request("GET", URL)


async def test_async_a_body_read_by_the_transport_is_taken_as_is_within_the_limit() -> None:
    body = b'{"id": "1"}'
    client = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    )
    transport = AsyncTransport(http_client=client)
    assert (await transport.request("GET", URL)).content == body
    with pytest.raises(ResponseTooLargeError):
        await transport.request("GET", URL, options=RequestOptions(max_response_bytes=5))
