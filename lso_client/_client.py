"""Client configuration shared by the generated per-reference-point clients."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from functools import cached_property
from types import TracebackType
from typing import Any, ClassVar, TypedDict

import httpx
from typing_extensions import Self, Unpack

from ._auth import BearerToken
from ._logging import redact_url
from ._operations import api_definition
from ._options import PayloadTyping, payloads_at_once
from ._tls import CertTypes, VerifyTypes
from ._transport import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    AsyncTransport,
    SyncTransport,
)

__all__ = ["AsyncBaseClient", "AsyncHubs", "SyncBaseClient", "SyncHubs"]


class ClientSettings(TypedDict, total=False):
    """Keyword settings of every client (see `_ClientConfig`)."""

    token: str | None
    auth: httpx.Auth | None
    timeout: float | httpx.Timeout | None
    max_retries: int
    deadline: float | None
    retry_non_idempotent: bool
    max_retry_after: float
    max_response_bytes: int | None
    strict: bool
    payloads: PayloadTyping
    default_headers: Mapping[str, str] | None
    api_base_urls: Mapping[str, str] | None
    default_params: Mapping[str, object] | None
    verify: VerifyTypes
    cert: CertTypes | None
    proxy: str | httpx.URL | httpx.Proxy | None


class CallSettings(TypedDict, total=False):
    """What `with_options()` may change on a copy of a client."""

    timeout: float | httpx.Timeout | None
    max_retries: int
    deadline: float | None
    retry_non_idempotent: bool
    max_retry_after: float
    max_response_bytes: int | None
    strict: bool
    payloads: PayloadTyping
    default_headers: Mapping[str, str] | None
    default_params: Mapping[str, object] | None


class _ClientConfig:
    """What sync and async clients share: where the APIs are and how to call them.

    `base_url` is the seller's (`https://seller.example`), or `LSO_BASE_URL`. `token` is a
    static bearer token; `auth` any `httpx.Auth`, such as `OAuth2ClientCredentials`.
    `strict=True` raises on responses that depart from the spec instead of recording
    the departures. `payloads` is when the service payloads of responses become their
    models: `"on_read"` (the default) when the field holding one is first read, so a
    listing that never reads them does not pay for them; `"at_once"` while the response
    is parsed, which is faster when every payload is read (strict parsing always does).
    `api_base_urls` maps an API family (`"service_ordering"`) or a generated module to a
    full base URL, for sellers that deviate from the MEF paths.
    `max_retry_after` is the longest `Retry-After` wait honoured (longer: the 429 is
    raised); `max_response_bytes` the largest response body accepted, after decompression
    (`ResponseTooLargeError` beyond; None: no limit).

    `default_params` are query parameters sent on every call (a seller that wants the
    buyer's and its own id on each request: `{"buyerId": ..., "sellerId": ...}`); a call's
    own value for one wins. `verify` is whom to trust: `True` (`SSL_CERT_FILE` or
    `SSL_CERT_DIR` when set, else certifi), a CA bundle or directory path, `"system"` (the
    operating system's store; the `truststore` extra), an `ssl.SSLContext`, or `False`.
    `cert` is a client certificate for mutual TLS: a PEM file with its key, or
    `(certificate, key)` or `(certificate, key, password)`. `proxy` is an HTTP(S) proxy URL
    (without it, httpx's `HTTPS_PROXY` / `ALL_PROXY` / `NO_PROXY` apply). These three
    configure the client's own httpx client: with `http_client`, set them there.
    `from_profile()` builds a client from a profiles file (`lso_client._profiles`).
    """

    reference_point: ClassVar[str]
    default_apis: ClassVar[dict[str, str]]  # family -> generated module

    def __init__(
        self,
        base_url: str | None = None,
        *,
        token: str | None = None,
        auth: httpx.Auth | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        deadline: float | None = None,
        retry_non_idempotent: bool = False,
        max_retry_after: float = 60.0,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        strict: bool = False,
        payloads: PayloadTyping = "on_read",
        default_headers: Mapping[str, str] | None = None,
        api_base_urls: Mapping[str, str] | None = None,
        default_params: Mapping[str, object] | None = None,
        verify: VerifyTypes = True,
        cert: CertTypes | None = None,
        proxy: str | httpx.URL | httpx.Proxy | None = None,
    ) -> None:
        base_url = base_url or os.environ.get("LSO_BASE_URL")
        if not base_url:
            raise ValueError("a seller base URL is required (argument or LSO_BASE_URL)")
        if token is not None and auth is not None:
            raise ValueError("give either token or auth, not both")
        self.base_url = base_url.rstrip("/")
        self.strict = strict
        payloads_at_once(payloads)  # refused now, not at the first call
        self.payloads: PayloadTyping = payloads
        self.api_base_urls = dict(api_base_urls or {})
        self._auth: httpx.Auth | None = BearerToken(token) if token is not None else auth
        self._transport_settings: dict[str, Any] = {
            "auth": self._auth,
            "timeout": timeout,
            "max_retries": max_retries,
            "deadline": deadline,
            "retry_non_idempotent": retry_non_idempotent,
            "max_retry_after": max_retry_after,
            "max_response_bytes": max_response_bytes,
            "default_headers": dict(default_headers or {}),
            "default_params": dict(default_params or {}),
            "verify": verify,
            "cert": cert,
            "proxy": proxy,
        }
        self._listeners: dict[str, list[Any]] = {}
        self._listeners_lock = threading.Lock()

    @classmethod
    def from_profile(
        cls,
        name: str | None = None,
        *,
        config_file: str | os.PathLike[str] | None = None,
        **overrides: Any,
    ) -> Self:
        """A client configured by a seller profile (see `docs/real-seller.md`).

        `name` is a profile of the profiles file (`config_file`, else `$LSO_CONFIG`, else
        `~/.config/lso/config.toml`); None: `$LSO_PROFILE`, else the file's `default`,
        else the environment alone (`LSO_BASE_URL`, `LSO_TOKEN`, ...). Environment variables
        override the file (`LSO_TIMEOUT`; for one profile `LSO_PROFILES__<NAME>__TIMEOUT`).
        `overrides` are keyword arguments of the client (`timeout=5`, `http_client=...`)
        and win over the profile. Raises `ProfileError` naming the file, profile and key
        of a missing or bad setting, never a secret's value.
        """
        from ._profiles import ProfileError, load_profile

        profile = load_profile(name, config_file=config_file)
        # The overrides apply to the OAuth token requests too (their verify, cert, proxy).
        settings = profile.client_settings(overrides)
        base_url = settings.pop("base_url", None)
        if base_url is None and name is not None:
            # Not `LSO_BASE_URL`: a named profile is never sent to another seller.
            raise ProfileError(f"{profile.where}: base_url: not set")
        return cls(base_url, **settings)

    def api_base_url(self, module: str) -> str:
        """The base URL of one API: an override (by module or family), else the seller's
        base URL plus the API's base path at this reference point."""
        definition = api_definition(module)
        for key in (module, definition.family):
            if key in self.api_base_urls:
                return self.api_base_urls[key].rstrip("/") + "/"
        try:
            path = definition.reference_points[self.reference_point]
        except KeyError:
            raise ValueError(
                f"{definition.family} {definition.version} is not published for "
                f"{self.reference_point}; give its URL in api_base_urls"
            ) from None
        return self.base_url + path

    # Listeners subscribed through this client, so waits can use their events.
    def _attach_listener(self, module: str, listener: Any) -> None:
        if hasattr(listener, "add_tap"):
            with self._listeners_lock:
                self._listeners.setdefault(api_definition(module).family, []).append(listener)

    def _detach_listener(self, module: str, listener: Any) -> None:
        with self._listeners_lock:
            found = self._listeners.get(api_definition(module).family, [])
            if listener in found:
                found.remove(listener)

    def _listeners_for(self, module: str) -> list[Any]:
        with self._listeners_lock:
            return list(self._listeners.get(api_definition(module).family, []))

    _transport: Any  # SyncTransport or AsyncTransport, as the subclass declares

    def with_options(self, **settings: Unpack[CallSettings]) -> Self:
        """A copy with other settings (timeout, max_retries, strict, payloads, ...) sharing the
        connection pool. Resources cached on this client hold it; the copy builds its own."""
        cls = type(self)
        cached = {n for n in dir(cls) if isinstance(getattr(cls, n, None), cached_property)}
        clone = object.__new__(cls)
        clone.__dict__.update({k: v for k, v in self.__dict__.items() if k not in cached})
        clone.strict = settings.get("strict", self.strict)
        if "payloads" in settings:
            payloads_at_once(settings["payloads"])
        clone.payloads = settings.get("payloads", self.payloads)
        changes: dict[str, Any] = {
            k: v for k, v in settings.items() if k not in ("strict", "payloads")
        }
        clone._transport = self._transport.with_options(**changes)
        return clone

    def __repr__(self) -> str:
        # The base URL may carry userinfo or a key in its query: never shown.
        return f"{type(self).__name__}(base_url={redact_url(self.base_url)!r})"


class SyncBaseClient(_ClientConfig):
    _transport: SyncTransport

    def __init__(
        self,
        base_url: str | None = None,
        *,
        http_client: httpx.Client | None = None,
        **settings: Unpack[ClientSettings],
    ) -> None:
        super().__init__(base_url, **settings)
        self._transport = SyncTransport(http_client=http_client, **self._transport_settings)

    def close(self) -> None:
        """Close the connection pool (not an `http_client` you passed in); `with` does it."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncBaseClient(_ClientConfig):
    _transport: AsyncTransport

    def __init__(
        self,
        base_url: str | None = None,
        *,
        http_client: httpx.AsyncClient | None = None,
        **settings: Unpack[ClientSettings],
    ) -> None:
        super().__init__(base_url, **settings)
        self._transport = AsyncTransport(http_client=http_client, **self._transport_settings)

    async def close(self) -> None:
        """Close the connection pool (unless it is an `http_client` you passed in); `async with`
        does it.
        """
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class SyncHubs:
    """`client.hubs.<family>`: the notification hub of each API family."""

    def __init__(self, client: SyncBaseClient) -> None:
        self._client = client


class AsyncHubs:
    def __init__(self, client: AsyncBaseClient) -> None:
        self._client = client
