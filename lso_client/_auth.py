"""Authentication for calls to the seller: a static bearer token, or OAuth 2.0 client credentials.

MEF 128.1 asks for the client credentials grant with `private_key_jwt` client authentication
(RFC 7523, RS256 in its example, `aud` = token endpoint), a client secret being the usual
fallback. Scopes are function-specific (an operationId such as `createServiceOrder`, `default`,
or "METHOD /path") and some sellers expect them comma-delimited rather than space-delimited.

Both classes are `httpx.Auth` objects, so one instance serves `httpx.Client` and
`httpx.AsyncClient` alike. The OAuth protocol work (token request body, client authentication,
JWT client assertion) is done by Authlib; this module adds caching, early refresh, one token
request for many concurrent callers, and a single re-authentication on 401.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

import httpx

from ._body import bound_reads, call_time_left
from ._errors import APIConnectionError, APITimeoutError, LSOError
from ._extras import ensure_installed
from ._logging import redact_text, redact_url
from ._tls import CertTypes, VerifyTypes, prepared_context, ssl_context

if TYPE_CHECKING:
    import asyncio

    from joserfc.jwk import ECKey, OKPKey, RSAKey

__all__ = [
    "BearerToken",
    "ClientAuthMethod",
    "OAuth2ClientCredentials",
    "TokenRequestError",
]

logger = logging.getLogger("lso_client.auth")

ClientAuthMethod = Literal["client_secret_basic", "client_secret_post", "private_key_jwt"]

_CLIENT_AUTH_METHODS: frozenset[str] = frozenset(get_args(ClientAuthMethod))

# Form fields this module sets itself; letting `extra_token_params` override them would
# silently change the grant or the client authentication.
_RESERVED_TOKEN_PARAMS = frozenset(
    {
        "grant_type",
        "scope",
        "client_id",
        "client_secret",
        "client_assertion",
        "client_assertion_type",
    }
)

# An injected client may carry an auth of its own (even this object): token requests bypass it.
_NO_AUTH = httpx.Auth()

_TOKEN_REQUEST_HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/x-www-form-urlencoded",
}


class TokenRequestError(LSOError):
    """The token endpoint refused to issue an access token, or answered unreadably.

    `error`, `error_description` and `error_uri` are the RFC 6749 §5.2 fields of the
    error response when the server sent them. The client credentials are never part
    of the message or the attributes, nor is the userinfo or a credential query value of
    the token URL (`token_url` is redacted too).
    """

    def __init__(
        self,
        message: str,
        *,
        token_url: str,
        status_code: int,
        error: str | None = None,
        error_description: str | None = None,
        error_uri: str | None = None,
    ) -> None:
        message = redact_text(message)
        super().__init__(message)
        self.message = message
        self.token_url = redact_url(token_url)
        self.status_code = status_code
        self.error = error
        self.error_description = error_description
        self.error_uri = error_uri


class BearerToken(httpx.Auth):
    """A fixed access token sent as `Authorization: Bearer <token>`."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("token must be a non-empty string")
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the bearer token to `request` (the `httpx.Auth` hook)."""
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "BearerToken(token='***')"


@dataclass(frozen=True)
class _Token:
    access_token: str = field(repr=False)
    # Clock reading after which the token is no longer handed out; None: until a 401.
    refresh_at: float | None


class OAuth2ClientCredentials(httpx.Auth):
    """OAuth 2.0 client credentials grant (RFC 6749 §4.4) with a cached access token.

    The client authenticates to the token endpoint with `private_key_jwt` when
    `private_key` is given (RFC 7523; the assertion's `aud` is `audience` or else the
    token URL) or with `client_secret` (HTTP Basic by default, or `client_secret_post`).

    The token is reused until `refresh_margin` seconds before its `expires_in` runs out
    (for very short lifetimes the margin shrinks to half the lifetime), or, when the
    server sends no `expires_in`, until an API call answers 401. Concurrent callers
    share one token request: threads wait on a lock, and coroutines on an `asyncio.Lock`
    per event loop. On a 401 from the API the token is dropped, a new one is fetched and
    the request is sent once more; a second 401 goes back to the caller.

    Without `http_client` / `async_http_client`, each token request uses a short-lived
    client of its own, which keeps this object free of event-loop ties and of anything
    to close. The token request never follows a redirect, even through a client made with
    `follow_redirects=True`: it carries the client secret or a signed assertion, which must
    not go to another address. A 3xx answer raises `TokenRequestError`. `verify`, `cert`
    and `proxy` configure those short-lived clients as a client's own (see `_tls`): the
    CA to trust, a client certificate for mutual TLS, a proxy.

    Needs the `oauth` extra (Authlib, joserfc, cryptography): without it, constructing
    one raises `MissingExtraError`.
    """

    requires_request_body = True  # a request re-sent after a 401 needs its body again

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str | None = None,
        private_key: str | bytes | None = None,
        key_id: str | None = None,
        signing_algorithm: str = "RS256",
        client_auth_method: ClientAuthMethod | None = None,
        scopes: Sequence[str] = (),
        scope_delimiter: str = " ",
        audience: str | None = None,
        extra_token_params: Mapping[str, str] | None = None,
        refresh_margin: float = 30.0,
        timeout: float = 30.0,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] | None = None,
        verify: VerifyTypes = True,
        cert: CertTypes | None = None,
        proxy: str | httpx.URL | httpx.Proxy | None = None,
    ) -> None:
        ensure_installed("oauth", "authlib", "joserfc", "cryptography")
        if not token_url:
            raise ValueError("token_url must be a non-empty URL")
        if not httpx.URL(token_url).is_absolute_url:
            raise ValueError("token_url must be an absolute URL")
        if not client_id:
            raise ValueError("client_id must be a non-empty string")
        if client_secret is not None and private_key is not None:
            raise ValueError("client_secret and private_key are mutually exclusive")
        if refresh_margin < 0:
            raise ValueError("refresh_margin must not be negative")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        # Loaded now to refuse files that do not load; each token request loads them again
        # (a certificate renewed on disk is used from the next one).
        prepared_context(verify, cert)

        method = client_auth_method
        if method is None:
            if private_key is not None:
                method = "private_key_jwt"
            elif client_secret is not None:
                method = "client_secret_basic"
            else:
                raise ValueError("either client_secret or private_key is required")
        if method not in _CLIENT_AUTH_METHODS:
            raise ValueError(
                f"client_auth_method must be one of {sorted(_CLIENT_AUTH_METHODS)}, got {method!r}"
            )

        self._key: RSAKey | ECKey | OKPKey | None = None
        if method == "private_key_jwt":
            if private_key is None:
                raise ValueError("client_auth_method='private_key_jwt' needs private_key")
            self._key = _load_private_key(private_key, signing_algorithm)
        else:
            if client_secret is None:
                raise ValueError(f"client_auth_method={method!r} needs client_secret")
            if key_id is not None or audience is not None:
                raise ValueError(
                    "key_id and audience apply to private_key_jwt only; "
                    "send other token parameters with extra_token_params"
                )

        if isinstance(scopes, str):
            # A plain string is one ready-made scope value, not a sequence of characters.
            scopes = (scopes,)
        extra = dict(extra_token_params or {})
        reserved = _RESERVED_TOKEN_PARAMS.intersection(extra)
        if reserved:
            raise ValueError(
                f"extra_token_params must not set {sorted(reserved)}; "
                "use the dedicated arguments (scopes, client credentials)"
            )

        self.token_url = token_url
        self.client_id = client_id
        self.scopes: tuple[str, ...] = tuple(scopes)
        self.client_auth_method: ClientAuthMethod = method
        self._client_secret = client_secret
        self._key_id = key_id
        self._signing_algorithm = signing_algorithm
        self._scope = scope_delimiter.join(self.scopes)
        self._audience = audience
        self._extra_params = extra
        self._refresh_margin = refresh_margin
        self._timeout = timeout
        self._http_client = http_client
        self._async_http_client = async_http_client
        self._clock: Callable[[], float] = clock if clock is not None else time.monotonic
        self._verify = verify
        self._cert = cert
        self._proxy = proxy

        self._token: _Token | None = None
        # Held across the (sync) token request so that threads wait for one fetch.
        self._fetch_lock = threading.Lock()
        # Held only for a few attribute operations, never across I/O, so coroutines
        # may take it without blocking their event loop.
        self._state_lock = threading.Lock()
        # asyncio.Lock objects must not be shared between event loops.
        self._async_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(token_url={redact_url(self.token_url)!r}, "
            f"client_id={self.client_id!r}, scopes={list(self.scopes)!r})"
        )

    # -- token cache -------------------------------------------------------------------------

    def token(self) -> str:
        """Return a valid access token, requesting a new one when needed (blocking)."""
        current = self._valid_token()
        if current is not None:
            return current
        with self._fetch_lock:
            # Another thread may have fetched while this one waited.
            current = self._valid_token()
            if current is not None:
                return current
            new = self._fetch_sync()
            self._token = new
            return new.access_token

    async def atoken(self) -> str:
        """Return a valid access token, requesting a new one when needed."""
        current = self._valid_token()
        if current is not None:
            return current
        async with self._async_lock():
            current = self._valid_token()
            if current is not None:
                return current
            new = await self._fetch_async()
            self._token = new
            return new.access_token

    def invalidate(self) -> None:
        """Forget the cached token; the next call requests a new one."""
        with self._state_lock:
            self._token = None

    def _invalidate_if_current(self, rejected: str) -> None:
        # Several requests may be rejected with the same token: only the first drops it, so
        # a token fetched meanwhile by another caller survives and is reused.
        with self._state_lock:
            if self._token is not None and self._token.access_token == rejected:
                self._token = None

    def _valid_token(self) -> str | None:
        token = self._token
        if token is None:
            return None
        if token.refresh_at is not None and self._clock() >= token.refresh_at:
            return None
        return token.access_token

    def _async_lock(self) -> asyncio.Lock:
        import asyncio  # only async token fetches need it: keeps it out of import time

        loop = asyncio.get_running_loop()
        with self._state_lock:
            lock = self._async_locks.get(loop)
            if lock is None:
                lock = self._async_locks[loop] = asyncio.Lock()
            return lock

    # -- httpx.Auth --------------------------------------------------------------------------

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Send `request` with a cached or freshly fetched token (the `httpx.Auth` hook).

        On a 401 the token is dropped, unless another caller renewed it since, and the
        request is sent once more with a new one.
        """
        request.read()
        token = self.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        stream = _unread(response)
        if isinstance(stream, httpx.SyncByteStream):
            stream.close()
        self._invalidate_if_current(token)
        request.headers["Authorization"] = f"Bearer {self.token()}"
        yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """The async twin of `sync_auth_flow`: the token is fetched without blocking the loop."""
        await request.aread()
        token = await self.atoken()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        stream = _unread(response)
        if isinstance(stream, httpx.AsyncByteStream):
            await stream.aclose()
        self._invalidate_if_current(token)
        request.headers["Authorization"] = f"Bearer {await self.atoken()}"
        yield request

    # -- token endpoint ----------------------------------------------------------------------

    def _prepare_token_request(self) -> tuple[str, dict[str, str], bytes]:
        # Authlib is imported when a token is first needed: it costs ~90 ms at import.
        from authlib.oauth2.auth import ClientAuth
        from authlib.oauth2.rfc6749.parameters import prepare_token_request
        from authlib.oauth2.rfc7523 import PrivateKeyJWT

        params: dict[str, Any] = dict(self._extra_params)
        if self._scope:
            params["scope"] = self._scope
        body: str = prepare_token_request("client_credentials", **params)

        auth_method: Any = self.client_auth_method
        credential: Any = self._client_secret
        if self.client_auth_method == "private_key_jwt":
            auth_method = PrivateKeyJWT(
                token_endpoint=self._audience or self.token_url,
                headers={"kid": self._key_id} if self._key_id else None,
                alg=self._signing_algorithm,
            )
            credential = self._key
        client_auth = ClientAuth(self.client_id, credential, auth_method)
        url, headers, body = client_auth.prepare(
            "POST", self.token_url, dict(_TOKEN_REQUEST_HEADERS), body
        )
        return url, headers, body.encode()

    def _fetch_sync(self) -> _Token:
        url, headers, content = self._prepare_token_request()
        started = self._clock()
        # Asked for inside a call with a deadline: the token request ends by it too (the
        # async flow is cut by the call's cancel scope).
        left = call_time_left()
        timeout = self._timeout if left is None else max(min(self._timeout, left), 0.001)
        try:
            if self._http_client is not None:
                response = self._http_client.post(
                    url,
                    content=content,
                    headers=headers,
                    timeout=timeout,
                    auth=_NO_AUTH,
                    follow_redirects=False,
                )
            else:
                with httpx.Client(timeout=timeout, **self._client_settings()) as client:
                    bound_reads(client)  # a dripping answer ends by the deadline too
                    response = client.post(
                        url, content=content, headers=headers, follow_redirects=False
                    )
        except httpx.TransportError as exc:
            raise self._connection_error(exc) from exc
        return self._parse_token_response(response, started)

    async def _fetch_async(self) -> _Token:
        url, headers, content = self._prepare_token_request()
        started = self._clock()
        try:
            if self._async_http_client is not None:
                response = await self._async_http_client.post(
                    url,
                    content=content,
                    headers=headers,
                    timeout=self._timeout,
                    auth=_NO_AUTH,
                    follow_redirects=False,
                )
            else:
                async with httpx.AsyncClient(
                    timeout=self._timeout, **self._client_settings()
                ) as client:
                    response = await client.post(
                        url, content=content, headers=headers, follow_redirects=False
                    )
        except httpx.TransportError as exc:
            raise self._connection_error(exc) from exc
        return self._parse_token_response(response, started)

    def _client_settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = {"verify": ssl_context(self._verify, self._cert)}
        if self._proxy is not None:
            settings["proxy"] = self._proxy
        return settings

    def _connection_error(self, exc: httpx.TransportError) -> APIConnectionError:
        # request=None: the token request carries the client credentials.
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(
                f"Token request to {self.token_url} timed out: {type(exc).__name__}",
                request=None,
            )
        return APIConnectionError(
            f"Token request to {self.token_url} failed: {type(exc).__name__}: {exc}",
            request=None,
        )

    def _parse_token_response(self, response: httpx.Response, started: float) -> _Token:
        status = response.status_code
        if 300 <= status < 400:
            # Not followed: where it points is not named either (it may carry secrets).
            raise TokenRequestError(
                f"Token request to {self.token_url} answered HTTP {status} (a redirect), which "
                f"is not followed: the request carries the client credentials. Give the "
                f"final token URL as token_url",
                token_url=self.token_url,
                status_code=status,
            )
        try:
            data: Any = response.json()
        except (ValueError, RecursionError):  # not JSON, or nested too deep for the parser
            data = None

        if not response.is_success or not isinstance(data, dict) or "error" in data:
            error = description = uri = None
            if isinstance(data, dict):
                error = _str_or_none(data.get("error"))
                description = _str_or_none(data.get("error_description"))
                uri = _str_or_none(data.get("error_uri"))
            message = f"Token request to {self.token_url} failed with HTTP {status}"
            if error:
                message += f": {error}"
                if description:
                    message += f" ({description})"
            elif data is None:
                content_type = response.headers.get("content-type", "no content type")
                message += f" and a body that is not JSON ({content_type})"
            raise TokenRequestError(
                message,
                token_url=self.token_url,
                status_code=status,
                error=error,
                error_description=description,
                error_uri=uri,
            )

        access_token = data.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise TokenRequestError(
                f"Token response from {self.token_url} has no access_token",
                token_url=self.token_url,
                status_code=status,
            )
        token_type = data.get("token_type", "bearer")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise TokenRequestError(
                f"Token response from {self.token_url} has unsupported token_type {token_type!r}",
                token_url=self.token_url,
                status_code=status,
            )

        expires_in = _seconds_or_none(data.get("expires_in"))
        refresh_at = None
        if expires_in is not None:
            # A margin larger than the lifetime itself would refetch on every call.
            margin = min(self._refresh_margin, expires_in / 2)
            refresh_at = started + expires_in - margin
        logger.debug(
            "Obtained an access token from %s (expires_in=%s)",
            redact_url(self.token_url),
            expires_in,
        )
        return _Token(access_token=access_token, refresh_at=refresh_at)


def _unread(response: httpx.Response) -> httpx.SyncByteStream | httpx.AsyncByteStream:
    """Give a 401 an empty body and return the one it had, for the caller to close unread:
    httpx reads the body of a response an auth flow answers whole (no size or time bound:
    a gzip bomb inflates in memory) before sending the next request, and it is not needed."""
    stream = response.stream
    response.stream = httpx.ByteStream(b"")
    return stream


def _load_private_key(data: str | bytes, algorithm: str) -> RSAKey | ECKey | OKPKey:
    from joserfc.jwk import import_key

    key_type: Literal["RSA", "EC", "OKP"]
    if algorithm.startswith(("RS", "PS")):
        key_type = "RSA"
    elif algorithm.startswith("ES"):
        key_type = "EC"
    elif algorithm in ("EdDSA", "Ed25519", "Ed448"):
        key_type = "OKP"
    else:
        raise ValueError(f"unsupported signing_algorithm {algorithm!r}")
    try:
        key = import_key(data, key_type)
    except Exception as exc:
        # `from None` and only the exception type: the key material must not leak via messages.
        raise ValueError(
            f"private_key could not be loaded as a PEM {key_type} key for {algorithm} "
            f"({type(exc).__name__})"
        ) from None
    if not key.is_private:
        raise ValueError("private_key holds a public key; a private key is needed to sign")
    return key


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _seconds_or_none(value: Any) -> float | None:
    # Some servers send expires_in as a string; a bad value means "no expiry known".
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None
