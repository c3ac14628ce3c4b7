"""Secrets stay secret: over real loopback HTTP, credentials in a URL's userinfo or query and in
headers never show in error messages, their `str`/`repr`, a client's `repr` or any log line,
and the token request never follows a redirect (which would hand the client secret or the
signed assertion to another host)."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest
from _faulty import FaultySeller, Reply, Request, Reset, Script, Stall
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from lso_client import (
    AllegroClient,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncAllegroClient,
    NotFoundError,
    OAuth2ClientCredentials,
    RequestValidationError,
    TokenRequestError,
)
from lso_client.testing import example_service_order

Start = Callable[..., FaultySeller]

USER = "buyer-user-77"
PASSWORD = "pa55-word-must-not-leak"
ACCESS_TOKEN = "qtok-must-not-leak"
API_KEY = "apikey-must-not-leak"
BEARER = "bearer-must-not-leak"
HEADER_KEY = "header-key-must-not-leak"
CLIENT_SECRET = "client-secret-must-not-leak"
SECRETS = (USER, PASSWORD, ACCESS_TOKEN, API_KEY, BEARER, HEADER_KEY, CLIENT_SECRET)
SECRET_QUERY = {"access_token": ACCESS_TOKEN, "api_key": API_KEY, "state": "visible"}


def with_userinfo(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=f"{USER}:{PASSWORD}@{parts.netloc}").geturl()


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked into {text!r}"


def not_found(request: Request) -> Reply:
    return Reply.json({"code": "notFound", "reason": "no such order"}, status=404)


# --------------------------------------------------------------------------- errors and repr


def test_a_status_error_names_the_url_without_its_secrets(faulty_seller: Start) -> None:
    seller = faulty_seller(not_found)
    with (
        AllegroClient(with_userinfo(seller.url), token=BEARER, max_retries=0) as client,
        pytest.raises(NotFoundError) as caught,
    ):
        client.service_orders.retrieve("so-1", extra_query=SECRET_QUERY)
    # The secrets were really sent, so their absence below means something.
    (request,) = seller.requests
    assert ACCESS_TOKEN in request.target and API_KEY in request.target
    assert request.headers["authorization"] == f"Bearer {BEARER}"
    error = caught.value
    for text in (str(error), repr(error), error.message, str(error.args)):
        assert_clean(text)
    assert "state=visible" in str(error) and "returned 404" in str(error)
    assert "access_token=<redacted>" in str(error) and "api_key=<redacted>" in str(error)
    assert "<redacted>@127.0.0.1" in str(error)


def test_an_async_status_error_too(faulty_seller: Start) -> None:
    seller = faulty_seller(not_found)

    async def run() -> APIStatusError:
        async with AsyncAllegroClient(with_userinfo(seller.url), max_retries=0) as client:
            try:
                await client.service_orders.retrieve("so-1", extra_query=SECRET_QUERY)
            except APIStatusError as exc:
                return exc
        raise AssertionError("no error")

    error = asyncio.run(run())
    assert_clean(str(error) + repr(error))
    assert ACCESS_TOKEN in seller.requests[0].target


def test_a_connection_error_message_has_no_secrets(faulty_seller: Start) -> None:
    seller = faulty_seller(lambda request: Reset("before_read", Reply()))
    with (
        AllegroClient(with_userinfo(seller.url), max_retries=0) as client,
        pytest.raises(APIConnectionError) as caught,
    ):
        client.service_orders.retrieve("so-1", extra_query=SECRET_QUERY)
    assert_clean(str(caught.value) + repr(caught.value))
    assert "access_token=<redacted>" in str(caught.value)


def test_a_timeout_message_has_no_secrets(faulty_seller: Start) -> None:
    seller = faulty_seller(lambda request: Stall(3))
    with (
        AllegroClient(with_userinfo(seller.url), max_retries=0, timeout=0.3) as client,
        pytest.raises(APITimeoutError) as caught,
    ):
        client.service_orders.retrieve("so-1", extra_query=SECRET_QUERY)
    assert ACCESS_TOKEN in seller.requests[0].target
    assert_clean(str(caught.value) + repr(caught.value))


def chain_text(error: BaseException) -> str:
    """The text of `error` and of every exception a traceback of it shows."""
    return "".join(traceback.format_exception(error)) + repr(error)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_header_value_http_forbids_is_refused_without_showing_it(
    faulty_seller: Start, method: str
) -> None:
    # A token read from a file keeps its line break: h11 refuses the header and quotes it.
    seller = faulty_seller(lambda request: Reply.json({"id": "so-1"}))
    with (
        AllegroClient(seller.url, token=f"{BEARER}\n") as client,
        pytest.raises(RequestValidationError, match="cannot be sent") as caught,
    ):
        if method == "GET":
            client.service_orders.retrieve("so-1")
        else:
            client.service_orders.create(example_service_order())
    assert_clean(chain_text(caught.value))
    assert seller.requests == []  # nothing left, nothing retried


def test_an_async_header_value_http_forbids_too(faulty_seller: Start) -> None:
    seller = faulty_seller(lambda request: Reply.json({"id": "so-1"}))

    async def main() -> None:
        async with AsyncAllegroClient(seller.url, token=f"{BEARER}\r\n") as client:
            with pytest.raises(RequestValidationError) as caught:
                await client.service_orders.retrieve("so-1")
            assert_clean(chain_text(caught.value))

    asyncio.run(main())
    assert seller.requests == []


@pytest.mark.parametrize("fault", ["status", "connection"])
def test_the_request_an_error_carries_shows_no_secrets(faulty_seller: Start, fault: str) -> None:
    # `exc.request` is the request as sent (its URL intact), but its repr, which a log
    # line with %r or a debugger shows, is redacted.
    seller = faulty_seller(
        not_found if fault == "status" else lambda request: Reset("before_read", Reply())
    )
    with (
        AllegroClient(with_userinfo(seller.url), max_retries=0) as client,
        pytest.raises(APIStatusError if fault == "status" else APIConnectionError) as caught,
    ):
        client.service_orders.retrieve("so-1", extra_query=SECRET_QUERY)
    request = caught.value.request
    assert request is not None and ACCESS_TOKEN in str(request.url)
    assert isinstance(request, httpx.Request)
    assert_clean(repr(request))
    assert "access_token=<redacted>" in repr(request)
    if fault == "status":
        assert isinstance(caught.value, APIStatusError)
        assert_clean(repr(caught.value.response.request))
    else:
        cause = caught.value.__cause__
        assert isinstance(cause, httpx.RequestError)
        assert_clean(repr(cause.request))


def test_client_repr_hides_userinfo_and_query_keys() -> None:
    client = AllegroClient(f"https://{USER}:{PASSWORD}@seller.example/?api_key={API_KEY}")
    text = repr(client)
    assert_clean(text)
    assert text == "AllegroClient(base_url='https://<redacted>@seller.example/?api_key=<redacted>')"
    client.close()


def test_a_url_that_does_not_parse_still_hides_its_userinfo() -> None:
    # An unbalanced "[" makes the URL unreadable to urlsplit: the userinfo is found anyway.
    client = AllegroClient(f"https://{USER}:{PASSWORD}@[::1/?api_key={API_KEY}")
    assert_clean(repr(client))
    with pytest.raises(RequestValidationError) as caught:
        client.service_orders.retrieve("so-1")
    assert_clean(chain_text(caught.value))
    assert "https://<redacted>@[::1" in str(caught.value)
    client.close()


def test_debug_log_lines_have_no_secrets(
    faulty_seller: Start, caplog: pytest.LogCaptureFixture
) -> None:
    # A 503 first, so a retry line is logged too.
    seller = faulty_seller(Script([Reply(503, {"Retry-After": "0"})], then=not_found))
    with (
        caplog.at_level(logging.DEBUG, logger="lso_client"),
        AllegroClient(
            with_userinfo(seller.url),
            token=BEARER,
            max_retries=1,
            default_headers={"X-Api-Key": HEADER_KEY},
        ) as client,
        pytest.raises(NotFoundError),
    ):
        client.service_orders.retrieve("so-1", extra_query=SECRET_QUERY)
    assert seller.requests[0].headers["x-api-key"] == HEADER_KEY
    lines = [record.getMessage() for record in caplog.records]
    assert any(line.startswith("HTTP request:") for line in lines)
    assert any(line.startswith("HTTP response:") for line in lines)
    assert any(line.startswith("Retrying GET") for line in lines)
    for line in lines:
        assert_clean(line)
    assert_clean(caplog.text)


def test_httpx_own_log_lines_have_no_secrets(
    faulty_seller: Start, caplog: pytest.LogCaptureFixture
) -> None:
    # An application logging everything at INFO also gets httpx's "HTTP Request: ..." lines.
    seller = faulty_seller(not_found)
    with (
        caplog.at_level(logging.INFO),
        caplog.at_level(logging.INFO, logger="httpx"),
        AllegroClient(with_userinfo(seller.url), max_retries=0) as client,
        pytest.raises(NotFoundError),
    ):
        client.service_orders.retrieve("so-1", extra_query=SECRET_QUERY)
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any(line.startswith("HTTP Request: GET") and "404" in line for line in lines)
    assert any("access_token=<redacted>" in line for line in lines)
    for line in lines:
        assert_clean(line)


# --------------------------------------------------------------------------- token redirects


@pytest.fixture(scope="module")
def private_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def redirecting_token_endpoint(faulty_seller: Start) -> tuple[FaultySeller, FaultySeller]:
    """A token endpoint answering 307 to another host (whose URL carries a secret)."""
    other = faulty_seller(lambda request: Reply.json({"access_token": "x", "token_type": "Bearer"}))
    target = f"{other.url}/steal?api_key={API_KEY}"
    token = faulty_seller(lambda request: Reply(307, {"Location": target}))
    return token, other


CREDENTIALS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]


def make_auth(
    method: str, token_url: str, private_pem: bytes, **clients: object
) -> OAuth2ClientCredentials:
    if method == "private_key_jwt":
        return OAuth2ClientCredentials(
            token_url=token_url,
            client_id="buyer-42",
            private_key=private_pem,
            **clients,  # type: ignore[arg-type]
        )
    return OAuth2ClientCredentials(
        token_url=token_url,
        client_id="buyer-42",
        client_secret=CLIENT_SECRET,
        client_auth_method=method,  # type: ignore[arg-type]
        **clients,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("method", CREDENTIALS)
@pytest.mark.parametrize("injected", [False, True], ids=["own-client", "follow-redirects-client"])
def test_the_token_request_never_follows_a_redirect(
    faulty_seller: Start, private_pem: bytes, method: str, injected: bool
) -> None:
    token, other = redirecting_token_endpoint(faulty_seller)
    http_client = httpx.Client(follow_redirects=True) if injected else None
    auth = make_auth(method, f"{token.url}/oauth2/token", private_pem, http_client=http_client)
    try:
        with pytest.raises(TokenRequestError) as caught:
            auth.token()
    finally:
        if http_client is not None:
            http_client.close()
    assert len(token.requests) == 1
    assert other.requests == []  # neither the secret nor the assertion went anywhere else
    error = caught.value
    assert error.status_code == 307 and "307" in str(error) and "redirect" in str(error)
    assert_clean(str(error) + repr(error))
    assert other.url not in str(error)  # the Location is not named


@pytest.mark.parametrize("method", CREDENTIALS)
@pytest.mark.parametrize("injected", [False, True], ids=["own-client", "follow-redirects-client"])
def test_the_async_token_request_never_follows_a_redirect(
    faulty_seller: Start, private_pem: bytes, method: str, injected: bool
) -> None:
    token, other = redirecting_token_endpoint(faulty_seller)

    async def run() -> TokenRequestError:
        http_client = httpx.AsyncClient(follow_redirects=True) if injected else None
        auth = make_auth(
            method, f"{token.url}/oauth2/token", private_pem, async_http_client=http_client
        )
        try:
            await auth.atoken()
        except TokenRequestError as exc:
            return exc
        finally:
            if http_client is not None:
                await http_client.aclose()
        raise AssertionError("no error")

    error = asyncio.run(run())
    assert len(token.requests) == 1 and other.requests == []
    assert error.status_code == 307
    assert_clean(str(error) + repr(error))


def test_a_call_through_a_redirecting_token_endpoint_fails_without_leaking(
    faulty_seller: Start, private_pem: bytes
) -> None:
    token, other = redirecting_token_endpoint(faulty_seller)
    api = faulty_seller(lambda request: Reply.json({"id": "so-1"}))
    auth = make_auth("client_secret_post", f"{token.url}/oauth2/token", private_pem)
    with (
        AllegroClient(api.url, auth=auth, max_retries=0) as client,
        pytest.raises(TokenRequestError) as caught,
    ):
        client.service_orders.retrieve("so-1")
    assert other.requests == [] and api.requests == []
    assert_clean(str(caught.value))


def test_token_url_secrets_stay_out_of_messages_and_repr(faulty_seller: Start) -> None:
    token = faulty_seller(lambda request: Reply.json({"error": "invalid_client"}, status=401))
    url = with_userinfo(f"{token.url}/oauth2/token?api_key={API_KEY}")
    auth = OAuth2ClientCredentials(token_url=url, client_id="buyer-42", client_secret=CLIENT_SECRET)
    assert_clean(repr(auth))
    with pytest.raises(TokenRequestError) as caught:
        auth.token()
    assert API_KEY in token.requests[0].target
    assert_clean(str(caught.value) + repr(caught.value) + caught.value.token_url)
    assert "invalid_client" in str(caught.value)
