"""The httpx shortcuts give exactly what httpx itself would, or step aside."""

from __future__ import annotations

import random
import string

import httpx
import pytest
import respx

from lso_client._errors import RequestValidationError
from lso_client._shortcuts import SetCookieJar, request_url, use_set_cookie_jar
from lso_client._transport import AsyncTransport, SyncTransport

ORIGINS = [
    "http://127.0.0.1:8080",
    "https://seller.example",
    "https://Seller.Example:443",
    "http://seller.example:80",
    "https://user:secret@seller.example:8443",
    "http://[::1]:9000",
    "https://xn--bcher-kva.example",
]

PATHS = [
    "",
    "/",
    "/mefApi/allegro/serviceOrderingManagement/v1/serviceOrder",
    "/mefApi/legato/serviceOrderingManagement/v5/serviceOrder/so-1%2F2%20x",
    "/api/v1/hub/7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "/a/b~c/d!$&'()*+,;=:@e",
    "/trailing/",
]


def _same(fast: httpx.URL | str, url: str) -> None:
    expected = httpx.URL(url)
    got = fast if isinstance(fast, httpx.URL) else httpx.URL(fast)
    assert str(got) == str(expected)
    assert got.raw_path == expected.raw_path
    assert got.host == expected.host and got.port == expected.port
    assert got.scheme == expected.scheme and got.userinfo == expected.userinfo
    assert got == expected


@pytest.mark.parametrize("origin", ORIGINS)
@pytest.mark.parametrize("path", PATHS)
def test_request_url_equals_httpx_parsing(origin: str, path: str) -> None:
    url = origin + path
    fast = request_url(url)
    assert isinstance(fast, httpx.URL)
    _same(fast, url)


@pytest.mark.parametrize(
    "url",
    [
        "https://seller.example/a/./b",
        "https://seller.example/a/../b",
        "https://seller.example/a/..",
        "https://seller.example/a b",
        "https://seller.example/caf\u00e9",
        "https://seller.example/a%zz",
        "https://seller.example/a?x=1",
        "https://seller.example/a#frag",
        "https://seller.example/a|b",
        "ftp://seller.example/a",
        "seller.example/a",
        "/relative/path",
    ],
)
def test_request_url_leaves_anything_unusual_to_httpx(url: str) -> None:
    assert request_url(url) == url


def test_a_url_too_long_for_httpx_is_refused_by_httpx() -> None:
    url = "https://seller.example/" + "a" * 66_000
    assert request_url(url) == url
    # httpx refuses it; the caller sees the SDK's error, not httpx's.
    with pytest.raises(RequestValidationError, match="too long") as caught:
        SyncTransport().request("GET", url)
    assert not isinstance(caught.value, httpx.InvalidURL)


def test_request_url_matches_httpx_on_random_segments() -> None:
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@%/ "
    for _ in range(2000):
        path = "/" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        url = "https://seller.example:8443" + path
        try:
            expected = httpx.URL(url)
        except httpx.InvalidURL:
            continue
        fast = request_url(url)
        if isinstance(fast, httpx.URL):
            assert fast == expected and fast.raw_path == expected.raw_path, url
        else:
            assert fast == url


def test_set_cookie_jar_still_stores_and_sends_cookies() -> None:
    with respx.mock(base_url="https://seller.example") as router:
        router.get("/login").respond(200, headers={"Set-Cookie": "lb=node-3; Path=/"})
        route = router.get("/orders").respond(200, json=[])
        with httpx.Client(base_url="https://seller.example") as client:
            use_set_cookie_jar(client)
            assert isinstance(client.cookies, SetCookieJar)
            client.get("/orders")
            assert route.calls.last.request.headers.get("cookie") is None
            client.get("/login")
            client.get("/orders")
            assert route.calls.last.request.headers["cookie"] == "lb=node-3"
            assert client.cookies["lb"] == "node-3"


def test_a_callers_cookies_are_left_alone() -> None:
    with httpx.Client(cookies={"session": "s-1"}) as client:
        use_set_cookie_jar(client)
        assert type(client.cookies) is httpx.Cookies
        assert client.cookies["session"] == "s-1"


def test_transport_creates_its_client_on_first_use_and_closes_it() -> None:
    transport = SyncTransport()
    assert transport._http_client is None
    with respx.mock(base_url="https://seller.example") as router:
        router.get("/x").respond(200, json={})
        transport.request("GET", "https://seller.example/x")
    client = transport.http_client
    assert isinstance(client.cookies, SetCookieJar)
    assert transport.http_client is client
    transport.close()
    assert client.is_closed


def test_a_transport_closed_before_use_has_a_closed_client() -> None:
    transport = SyncTransport()
    transport.close()
    assert transport.http_client.is_closed
    with pytest.raises(RuntimeError, match="closed"):
        transport.request("GET", "https://seller.example/x")


async def test_async_transport_creates_its_client_on_first_use_and_closes_it() -> None:
    transport = AsyncTransport()
    assert transport._http_client is None
    with respx.mock(base_url="https://seller.example") as router:
        router.get("/x").respond(200, json={})
        await transport.request("GET", "https://seller.example/x")
    client = transport.http_client
    assert isinstance(client.cookies, SetCookieJar)
    await transport.aclose()
    assert client.is_closed
