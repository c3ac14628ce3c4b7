from __future__ import annotations

import asyncio
import base64
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import ECKey, RSAKey

from lso_client._auth import BearerToken, OAuth2ClientCredentials, TokenRequestError
from lso_client._errors import APIConnectionError, APITimeoutError, LSOError

TOKEN_URL = "https://auth.seller.example/oauth2/token"
API_URL = "https://api.seller.example/mefApi/sonata/serviceOrdering/v1/serviceOrder"
CLIENT_ID = "buyer-42"
SECRET = "s3cr3t-Value-that-must-not-leak"


def form(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.content.decode(), keep_blank_values=True)


def token_response(access_token: str = "tok-1", **extra: Any) -> httpx.Response:
    body: dict[str, Any] = {"access_token": access_token, "token_type": "Bearer"}
    body.update(extra)
    return httpx.Response(200, json=body)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def rsa_pem() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def secret_auth(**kwargs: Any) -> OAuth2ClientCredentials:
    kwargs.setdefault("token_url", TOKEN_URL)
    kwargs.setdefault("client_id", CLIENT_ID)
    kwargs.setdefault("client_secret", SECRET)
    return OAuth2ClientCredentials(**kwargs)


# -- static bearer token ----------------------------------------------------------------------


def test_bearer_token_sets_authorization_header(mock: respx.MockRouter) -> None:
    route = mock.get(API_URL).respond(200)
    with httpx.Client(auth=BearerToken("static-abc")) as client:
        client.get(API_URL)
    assert route.calls.last.request.headers["Authorization"] == "Bearer static-abc"
    assert "static-abc" not in repr(BearerToken("static-abc"))


async def test_bearer_token_async(mock: respx.MockRouter) -> None:
    route = mock.get(API_URL).respond(200)
    async with httpx.AsyncClient(auth=BearerToken("static-abc")) as client:
        await client.get(API_URL)
    assert route.calls.last.request.headers["Authorization"] == "Bearer static-abc"


def test_bearer_token_rejects_empty() -> None:
    with pytest.raises(ValueError):
        BearerToken("")


# -- client authentication --------------------------------------------------------------------


def test_client_secret_basic(mock: respx.MockRouter) -> None:
    token_route = mock.post(TOKEN_URL).mock(return_value=token_response("tok-basic"))
    api_route = mock.get(API_URL).respond(200)
    auth = secret_auth(scopes=["default"])

    with httpx.Client(auth=auth) as client:
        assert client.get(API_URL).status_code == 200

    token_request = token_route.calls.last.request
    expected = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    assert token_request.headers["Authorization"] == f"Basic {expected}"
    assert token_request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    fields = form(token_request)
    assert fields == {"grant_type": ["client_credentials"], "scope": ["default"]}
    assert api_route.calls.last.request.headers["Authorization"] == "Bearer tok-basic"


def test_client_secret_post(mock: respx.MockRouter) -> None:
    token_route = mock.post(TOKEN_URL).mock(return_value=token_response("tok-post"))
    auth = secret_auth(client_auth_method="client_secret_post")

    assert auth.token() == "tok-post"

    token_request = token_route.calls.last.request
    assert "Authorization" not in token_request.headers
    assert form(token_request) == {
        "grant_type": ["client_credentials"],
        "client_id": [CLIENT_ID],
        "client_secret": [SECRET],
    }


def test_private_key_jwt_assertion(mock: respx.MockRouter, rsa_pem: tuple[bytes, bytes]) -> None:
    private_pem, public_pem = rsa_pem
    token_route = mock.post(TOKEN_URL).mock(return_value=token_response("tok-jwt"))
    auth = OAuth2ClientCredentials(
        token_url=TOKEN_URL,
        client_id=CLIENT_ID,
        private_key=private_pem,
        key_id="key-2024",
        scopes=["createServiceOrder"],
    )
    assert auth.client_auth_method == "private_key_jwt"

    assert auth.token() == "tok-jwt"

    token_request = token_route.calls.last.request
    assert "Authorization" not in token_request.headers
    fields = form(token_request)
    assert fields["grant_type"] == ["client_credentials"]
    assert fields["scope"] == ["createServiceOrder"]
    assert fields["client_assertion_type"] == [
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    ]
    assert "client_secret" not in fields

    public_key = RSAKey.import_key(public_pem)
    decoded = jwt.decode(fields["client_assertion"][0], public_key, algorithms=["RS256"])
    assert decoded.header["alg"] == "RS256"
    assert decoded.header["kid"] == "key-2024"
    claims = decoded.claims
    assert claims["iss"] == CLIENT_ID
    assert claims["sub"] == CLIENT_ID
    assert claims["aud"] == TOKEN_URL
    assert claims["exp"] > time.time()
    assert isinstance(claims["jti"], str) and claims["jti"]

    # A key other than the client's does not verify the assertion.
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    other_pem = other.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(BadSignatureError):
        jwt.decode(
            fields["client_assertion"][0], RSAKey.import_key(other_pem), algorithms=["RS256"]
        )


def test_private_key_jwt_fresh_jti_and_audience_override(
    mock: respx.MockRouter, rsa_pem: tuple[bytes, bytes]
) -> None:
    private_pem, public_pem = rsa_pem
    token_route = mock.post(TOKEN_URL).mock(return_value=token_response())
    auth = OAuth2ClientCredentials(
        token_url=TOKEN_URL,
        client_id=CLIENT_ID,
        private_key=private_pem.decode(),
        audience="https://auth.seller.example",
    )
    auth.token()
    auth.invalidate()
    auth.token()

    public_key = RSAKey.import_key(public_pem)
    claims = [
        jwt.decode(form(call.request)["client_assertion"][0], public_key).claims
        for call in token_route.calls
    ]
    assert len(claims) == 2
    assert all(c["aud"] == "https://auth.seller.example" for c in claims)
    assert claims[0]["jti"] != claims[1]["jti"]


def test_private_key_jwt_es256(mock: respx.MockRouter) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    token_route = mock.post(TOKEN_URL).mock(return_value=token_response())
    auth = OAuth2ClientCredentials(
        token_url=TOKEN_URL,
        client_id=CLIENT_ID,
        private_key=private_pem,
        signing_algorithm="ES256",
    )
    auth.token()
    assertion = form(token_route.calls.last.request)["client_assertion"][0]
    decoded = jwt.decode(assertion, ECKey.import_key(public_pem), algorithms=["ES256"])
    assert decoded.header["alg"] == "ES256"
    assert decoded.claims["sub"] == CLIENT_ID


# -- scopes and extra parameters --------------------------------------------------------------


def test_comma_delimited_scopes(mock: respx.MockRouter) -> None:
    token_route = mock.post(TOKEN_URL).mock(return_value=token_response())
    auth = secret_auth(scopes=["createServiceOrder", "retrieveServiceOrder"], scope_delimiter=",")
    auth.token()
    assert form(token_route.calls.last.request)["scope"] == [
        "createServiceOrder,retrieveServiceOrder"
    ]


def test_space_delimited_scopes_and_extra_params(mock: respx.MockRouter) -> None:
    token_route = mock.post(TOKEN_URL).mock(return_value=token_response())
    auth = secret_auth(
        scopes=["POST /serviceOrder", "GET /hub"],
        extra_token_params={"resource": "https://api.seller.example"},
    )
    auth.token()
    fields = form(token_route.calls.last.request)
    assert fields["scope"] == ["POST /serviceOrder GET /hub"]
    assert fields["resource"] == ["https://api.seller.example"]


def test_no_scopes_sends_no_scope_param(mock: respx.MockRouter) -> None:
    token_route = mock.post(TOKEN_URL).mock(return_value=token_response())
    secret_auth().token()
    assert "scope" not in form(token_route.calls.last.request)


def test_single_string_scope_is_not_split(mock: respx.MockRouter) -> None:
    token_route = mock.post(TOKEN_URL).mock(return_value=token_response())
    secret_auth(scopes="default", scope_delimiter=",").token()
    assert form(token_route.calls.last.request)["scope"] == ["default"]


# -- caching and refresh ----------------------------------------------------------------------


def test_token_cached_across_calls(mock: respx.MockRouter) -> None:
    token_route = mock.post(TOKEN_URL).mock(return_value=token_response(expires_in=3600))
    api_route = mock.get(API_URL).respond(200)
    with httpx.Client(auth=secret_auth()) as client:
        for _ in range(3):
            client.get(API_URL)
    assert token_route.call_count == 1
    assert api_route.call_count == 3
    assert all(c.request.headers["Authorization"] == "Bearer tok-1" for c in api_route.calls)


def test_refresh_before_expiry(mock: respx.MockRouter) -> None:
    clock = FakeClock()
    token_route = mock.post(TOKEN_URL).mock(
        side_effect=[
            token_response("tok-1", expires_in=100),
            token_response("tok-2", expires_in=100),
        ]
    )
    auth = secret_auth(refresh_margin=30, clock=clock)

    assert auth.token() == "tok-1"
    clock.now += 69.9  # still outside the 30 s margin
    assert auth.token() == "tok-1"
    assert token_route.call_count == 1
    clock.now += 0.1  # 30 s before expiry: refresh
    assert auth.token() == "tok-2"
    assert token_route.call_count == 2


def test_short_lifetime_shrinks_margin(mock: respx.MockRouter) -> None:
    clock = FakeClock()
    token_route = mock.post(TOKEN_URL).mock(return_value=token_response(expires_in="20"))
    auth = secret_auth(refresh_margin=30, clock=clock)
    auth.token()
    clock.now += 9
    auth.token()
    assert token_route.call_count == 1
    clock.now += 1
    auth.token()
    assert token_route.call_count == 2


def test_token_without_expires_in_kept_until_invalidated(mock: respx.MockRouter) -> None:
    clock = FakeClock()
    token_route = mock.post(TOKEN_URL).mock(
        side_effect=[token_response("tok-1"), token_response("tok-2")]
    )
    auth = secret_auth(clock=clock)
    assert auth.token() == "tok-1"
    clock.now += 10 * 24 * 3600
    assert auth.token() == "tok-1"
    auth.invalidate()
    assert auth.token() == "tok-2"
    assert token_route.call_count == 2


async def test_sync_and_async_share_the_cache(mock: respx.MockRouter) -> None:
    token_route = mock.post(TOKEN_URL).mock(return_value=token_response(expires_in=3600))
    auth = secret_auth()
    assert auth.token() == "tok-1"
    assert await auth.atoken() == "tok-1"
    assert token_route.call_count == 1


# -- concurrency ------------------------------------------------------------------------------


def test_concurrent_threads_make_one_token_request(mock: respx.MockRouter) -> None:
    def slow_token(request: httpx.Request) -> httpx.Response:
        time.sleep(0.2)  # keep the other threads waiting on the fetch
        return token_response("tok-threads", expires_in=3600)

    token_route = mock.post(TOKEN_URL).mock(side_effect=slow_token)
    api_route = mock.get(API_URL).respond(200)
    auth = secret_auth()
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def worker(client: httpx.Client) -> None:
        try:
            barrier.wait()
            statuses.append(client.get(API_URL).status_code)
        except BaseException as exc:
            errors.append(exc)

    with httpx.Client(auth=auth) as client:
        threads = [threading.Thread(target=worker, args=(client,)) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)

    assert errors == []
    assert statuses == [200] * 20
    assert token_route.call_count == 1
    assert api_route.call_count == 20
    assert {c.request.headers["Authorization"] for c in api_route.calls} == {"Bearer tok-threads"}


async def test_concurrent_tasks_make_one_token_request(mock: respx.MockRouter) -> None:
    async def slow_token(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.1)
        return token_response("tok-tasks", expires_in=3600)

    token_route = mock.post(TOKEN_URL).mock(side_effect=slow_token)
    api_route = mock.get(API_URL).respond(200)
    async with httpx.AsyncClient(auth=secret_auth()) as client:
        responses = await asyncio.gather(*(client.get(API_URL) for _ in range(20)))

    assert [r.status_code for r in responses] == [200] * 20
    assert token_route.call_count == 1
    assert {c.request.headers["Authorization"] for c in api_route.calls} == {"Bearer tok-tasks"}


def test_async_use_across_event_loops(mock: respx.MockRouter) -> None:
    # asyncio.Lock objects are bound to one loop; the auth object must survive a new loop.
    async def slow_token(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01)
        return token_response(expires_in=3600)

    token_route = mock.post(TOKEN_URL).mock(side_effect=slow_token)
    auth = secret_auth()

    async def burst() -> set[str]:
        auth.invalidate()
        return set(await asyncio.gather(*(auth.atoken() for _ in range(5))))

    assert asyncio.run(burst()) == {"tok-1"}
    assert asyncio.run(burst()) == {"tok-1"}
    assert token_route.call_count == 2


# -- 401 handling -----------------------------------------------------------------------------


def test_401_refetches_token_and_resends_once(mock: respx.MockRouter) -> None:
    token_route = mock.post(TOKEN_URL).mock(
        side_effect=[
            token_response("tok-old", expires_in=3600),
            token_response("tok-new", expires_in=3600),
        ]
    )
    api_route = mock.post(API_URL).mock(side_effect=[httpx.Response(401), httpx.Response(201)])
    with httpx.Client(auth=secret_auth()) as client:
        response = client.post(API_URL, json={"externalId": "PO-1"})

    assert response.status_code == 201
    assert token_route.call_count == 2
    assert api_route.call_count == 2
    first, second = (c.request for c in api_route.calls)
    assert first.headers["Authorization"] == "Bearer tok-old"
    assert second.headers["Authorization"] == "Bearer tok-new"
    assert second.content == first.content == b'{"externalId":"PO-1"}'


def test_second_401_is_returned(mock: respx.MockRouter) -> None:
    token_route = mock.post(TOKEN_URL).mock(
        side_effect=[token_response("tok-a"), token_response("tok-b"), token_response("tok-c")]
    )
    api_route = mock.get(API_URL).respond(401, json={"code": "unauthorized"})
    with httpx.Client(auth=secret_auth()) as client:
        response = client.get(API_URL)

    assert response.status_code == 401
    assert api_route.call_count == 2
    assert token_route.call_count == 2


async def test_401_async(mock: respx.MockRouter) -> None:
    token_route = mock.post(TOKEN_URL).mock(
        side_effect=[token_response("tok-a"), token_response("tok-b"), token_response("tok-c")]
    )
    api_route = mock.get(API_URL).mock(
        side_effect=[httpx.Response(401), httpx.Response(401), httpx.Response(200)]
    )
    async with httpx.AsyncClient(auth=secret_auth()) as client:
        response = await client.get(API_URL)

    assert response.status_code == 401
    assert api_route.call_count == 2
    assert token_route.call_count == 2
    assert api_route.calls[1].request.headers["Authorization"] == "Bearer tok-b"


async def test_concurrent_401s_share_one_refetch(mock: respx.MockRouter) -> None:
    token_route = mock.post(TOKEN_URL).mock(
        side_effect=[token_response("tok-old"), token_response("tok-new")]
    )

    rejected = 0

    async def api(request: httpx.Request) -> httpx.Response:
        nonlocal rejected
        if request.headers["Authorization"] == "Bearer tok-new":
            return httpx.Response(200)
        # Stagger the rejections so that later ones arrive after the new token is cached.
        rejected += 1
        await asyncio.sleep(0.02 * rejected)
        return httpx.Response(401)

    mock.get(API_URL).mock(side_effect=api)
    auth = secret_auth()
    await auth.atoken()  # every task starts with the same, soon rejected, token
    async with httpx.AsyncClient(auth=auth) as client:
        responses = await asyncio.gather(*(client.get(API_URL) for _ in range(10)))

    assert [r.status_code for r in responses] == [200] * 10
    assert token_route.call_count == 2


# -- token endpoint failures ------------------------------------------------------------------


def test_invalid_client_raises_token_request_error(mock: respx.MockRouter) -> None:
    mock.post(TOKEN_URL).respond(
        400, json={"error": "invalid_client", "error_description": "Client authentication failed"}
    )
    api_route = mock.get(API_URL).respond(200)
    auth = secret_auth()
    with httpx.Client(auth=auth) as client, pytest.raises(TokenRequestError) as info:
        client.get(API_URL)

    error = info.value
    assert isinstance(error, LSOError)
    assert error.status_code == 400
    assert error.error == "invalid_client"
    assert error.error_description == "Client authentication failed"
    assert "invalid_client" in str(error)
    assert SECRET not in str(error)
    assert SECRET not in repr(error)
    assert SECRET not in repr(vars(error))
    assert api_route.call_count == 0


async def test_token_error_async(mock: respx.MockRouter) -> None:
    mock.post(TOKEN_URL).respond(401, json={"error": "invalid_client"})
    with pytest.raises(TokenRequestError) as info:
        await secret_auth().atoken()
    assert info.value.status_code == 401
    assert info.value.error == "invalid_client"


def test_non_json_error_response(mock: respx.MockRouter) -> None:
    mock.post(TOKEN_URL).respond(503, text="<html>Service Unavailable</html>")
    with pytest.raises(TokenRequestError) as info:
        secret_auth().token()
    assert info.value.status_code == 503
    assert info.value.error is None
    assert "503" in str(info.value)


@pytest.mark.parametrize(
    "body",
    [
        {"token_type": "Bearer", "expires_in": 300},
        {"access_token": "", "token_type": "Bearer"},
        {"access_token": "tok", "token_type": "DPoP"},
    ],
)
def test_unusable_success_response(mock: respx.MockRouter, body: dict[str, Any]) -> None:
    mock.post(TOKEN_URL).respond(200, json=body)
    with pytest.raises(TokenRequestError) as info:
        secret_auth().token()
    assert info.value.status_code == 200


def test_connection_error(mock: respx.MockRouter) -> None:
    mock.post(TOKEN_URL).mock(side_effect=httpx.ConnectError("connection refused"))
    with pytest.raises(APIConnectionError) as info:
        secret_auth().token()
    assert not isinstance(info.value, APITimeoutError)
    assert TOKEN_URL in str(info.value)
    assert info.value.request is None


async def test_timeout_error(mock: respx.MockRouter) -> None:
    mock.post(TOKEN_URL).mock(side_effect=httpx.ReadTimeout("too slow"))
    with pytest.raises(APITimeoutError):
        await secret_auth().atoken()


def test_failed_fetch_is_retried_on_next_call(mock: respx.MockRouter) -> None:
    token_route = mock.post(TOKEN_URL).mock(
        side_effect=[httpx.Response(500, json={"error": "server_error"}), token_response("tok")]
    )
    auth = secret_auth()
    with pytest.raises(TokenRequestError):
        auth.token()
    assert auth.token() == "tok"
    assert token_route.call_count == 2


# -- injected clients -------------------------------------------------------------------------


def test_injected_clients_are_used_and_their_auth_bypassed() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url == TOKEN_URL:
            return token_response("tok-injected")
        return httpx.Response(200)

    transport = httpx.MockTransport(handler)
    with httpx.Client(transport=transport) as token_client:
        auth = secret_auth(http_client=token_client)
        # The same client carries this auth: the token request must not recurse into it.
        token_client.auth = auth
        assert token_client.get(API_URL).status_code == 200

    assert [str(r.url) for r in seen] == [TOKEN_URL, API_URL]
    assert seen[0].headers["Authorization"].startswith("Basic ")
    assert seen[1].headers["Authorization"] == "Bearer tok-injected"


async def test_injected_async_client_is_used() -> None:
    seen: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return token_response("tok-async-injected")

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        auth = secret_auth(async_http_client=client)
        assert await auth.atoken() == "tok-async-injected"
    assert seen == [TOKEN_URL]


# -- secrets and configuration ----------------------------------------------------------------


def test_repr_hides_credentials(mock: respx.MockRouter, rsa_pem: tuple[bytes, bytes]) -> None:
    mock.post(TOKEN_URL).mock(return_value=token_response("tok-very-secret"))
    auth = secret_auth(scopes=["default"])
    auth.token()
    text = repr(auth)
    assert TOKEN_URL in text and CLIENT_ID in text and "default" in text
    assert SECRET not in text
    assert "tok-very-secret" not in text

    private_pem, _ = rsa_pem
    key_auth = OAuth2ClientCredentials(
        token_url=TOKEN_URL, client_id=CLIENT_ID, private_key=private_pem
    )
    assert "PRIVATE KEY" not in repr(key_auth)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},  # no credential
        {"client_secret": SECRET, "private_key": "pem"},
        {"client_secret": SECRET, "client_auth_method": "private_key_jwt"},
        {"client_secret": SECRET, "key_id": "k1"},
        {"client_secret": SECRET, "extra_token_params": {"grant_type": "password"}},
        {"client_secret": SECRET, "refresh_margin": -1},
        {"private_key": "not a pem", "client_auth_method": "client_secret_post"},
    ],
)
def test_invalid_configuration(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        OAuth2ClientCredentials(token_url=TOKEN_URL, client_id=CLIENT_ID, **kwargs)


def test_bad_private_key_message_hides_key() -> None:
    garbage = (
        "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n"
    )
    with pytest.raises(ValueError) as info:
        OAuth2ClientCredentials(token_url=TOKEN_URL, client_id=CLIENT_ID, private_key=garbage)
    assert "c2VjcmV0" not in str(info.value)
    assert info.value.__cause__ is None
