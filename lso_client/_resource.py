"""The one mechanism behind every generated resource method.

A generated method names its operation and models; everything else (URL
composition, request validation, the HTTP call, response parsing, pagination,
raw access) happens here, once, for sync and async alike.
"""

from __future__ import annotations

import json
import logging
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Generator,
    Iterator,
    Mapping,
)
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar, cast, overload

import httpx
from pydantic import BaseModel, ValidationError
from typing_extensions import ParamSpec, Self, Unpack

from . import _reconcile
from ._bodies import serialise_body
from ._errors import RequestValidationError, ResponseValidationError
from ._operations import Operation
from ._options import PayloadTyping, payloads_at_once
from ._pagination import AsyncPage, ListProgress, SyncPage
from ._parsing import Parsed, parse_json
from ._transport import NO_OPTIONS, RequestOptions
from ._waiting import Goal, wait_async, wait_sync

if TYPE_CHECKING:
    from datetime import datetime

    from ._client import AsyncBaseClient, SyncBaseClient

__all__ = [
    "AsyncApi",
    "AsyncHubResource",
    "AsyncPager",
    "AsyncResource",
    "CallOptions",
    "RawResponse",
    "Subscription",
    "SyncApi",
    "SyncHubResource",
    "SyncResource",
    "async_raw_method",
    "event_query",
    "raw_method",
]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
P = ParamSpec("P")


class CallOptions(TypedDict, total=False):
    """Per-call options accepted by every resource method."""

    timeout: float | httpx.Timeout | None
    max_retries: int
    deadline: float | None
    extra_headers: Mapping[str, str]
    extra_query: Mapping[str, object]
    retry_non_idempotent: bool
    max_response_bytes: int | None
    strict: bool
    payloads: PayloadTyping


_TRANSPORT_OPTIONS = frozenset(
    {
        "timeout",
        "max_retries",
        "deadline",
        "extra_headers",
        "extra_query",
        "retry_non_idempotent",
        "max_response_bytes",
    }
)


@dataclass
class RawResponse(Generic[T]):
    """The HTTP response of a call, with the parsed value on demand."""

    http_response: httpx.Response
    _parse: Callable[[], T]

    @property
    def status_code(self) -> int:
        """The HTTP status of the answer."""
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        """The headers of the answer."""
        return self.http_response.headers

    @property
    def retries_taken(self) -> int:
        """How many times the request was sent again before this answer."""
        return int(self.http_response.extensions.get("lso_retries_taken", 0))

    def parse(self) -> T:
        """The response body parsed as the operation's model (None without a body)."""
        return self._parse()


def raw_method(method: Callable[P, T]) -> Callable[P, RawResponse[T]]:
    """`method` of a resource copy in raw mode (`with_raw_response`), typed as what it
    returns there: the `RawResponse` in place of the parsed value."""
    if not getattr(getattr(method, "__self__", None), "_raw", False):
        raise TypeError("raw_method() takes a method of a resource in raw mode")
    return cast("Callable[P, RawResponse[T]]", method)


def async_raw_method(
    method: Callable[P, Awaitable[T]],
) -> Callable[P, Awaitable[RawResponse[T]]]:
    """`raw_method` for the methods of an async resource."""
    if not getattr(getattr(method, "__self__", None), "_raw", False):
        raise TypeError("async_raw_method() takes a method of a resource in raw mode")
    return cast("Callable[P, Awaitable[RawResponse[T]]]", method)


def _list_of(model: type[M]) -> type[list[M]]:
    """`list[model]` as a type to parse with."""
    return list[model]  # type: ignore[valid-type]


@dataclass(frozen=True)
class _Prepared:
    method: str
    url: str
    params: dict[str, object]
    content: bytes | None
    options: RequestOptions
    strict: bool
    at_once: bool  # service payloads typed while parsing


def _accepted(options: CallOptions) -> str | None:
    """The media type the caller's `extra_headers` ask for first, if they set `Accept`."""
    for name, value in (options.get("extra_headers") or {}).items():
        if name.lower() == "accept":
            return value.split(",", 1)[0].split(";", 1)[0].strip().lower()
    return None


def _in_form(options: CallOptions, media_type: str) -> CallOptions:
    """`options` asking for the answer in `media_type`."""
    headers = {
        name: value
        for name, value in (options.get("extra_headers") or {}).items()
        if name.lower() != "accept"
    }
    headers["accept"] = media_type
    return {**options, "extra_headers": headers}


def _refuse_other_forms(op: Operation, options: CallOptions) -> None:
    """A listing reads the JSON form: asking it (through `extra_headers`) for another form
    the operation answers in is refused before anything is sent; that form has a method
    of its own (`list_asyncapi()` for AsyncAPI)."""
    wanted = _accepted(options)
    if wanted is not None and wanted in op.forms:
        raise RequestValidationError(
            f"{op.operation_id}: this method reads the JSON form of the answer; the "
            f"{wanted} form is read by the resource's method for it (list_asyncapi() for "
            "AsyncAPI)"
        )


def _is_json(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return kind in ("", "application/json") or kind.endswith("+json")


class _BaseResource:
    def __init__(self, client: Any, module: str, *, raw: bool = False) -> None:
        self._client = client
        self._module = module
        self._raw = raw

    def _raw_copy(self) -> Self:
        """This resource in raw mode: its operation methods answer with a `RawResponse`
        (the generated `with_raw_response` twin types them so)."""
        return type(self)(self._client, self._module, raw=True)

    def _prepare(
        self,
        op: Operation,
        *,
        path_params: Mapping[str, str] | None,
        query: Mapping[str, object] | None,
        body: Any,
        body_model: type[BaseModel] | None,
        options: CallOptions,
        page: tuple[int, int | None] | None = None,
    ) -> _Prepared:
        if options:
            unknown = set(options) - _TRANSPORT_OPTIONS - {"strict", "payloads"}
            if unknown:
                raise TypeError(f"unknown call options: {', '.join(sorted(unknown))}")
        try:
            path = op.render_path(path_params) if path_params else op.path
        except ValueError as exc:
            raise RequestValidationError(f"{op.operation_id}: {exc}") from None
        url = self._client.api_base_url(self._module).rstrip("/") + path
        params: dict[str, object] = {k: v for k, v in (query or {}).items() if v is not None}
        if page is not None:
            offset, limit = page
            params["offset"] = offset
            if limit is not None:
                params["limit"] = limit
        content = None
        if body_model is not None:
            content = serialise_body(op.operation_id, body, body_model)
        transport_options = {k: v for k, v in options.items() if k in _TRANSPORT_OPTIONS}
        if op.method == "POST" and body is not None:
            hook = self._reconcile_hook(op, body, options)
            if hook is not None:
                transport_options["reconcile"] = hook
        return _Prepared(
            method=op.method,
            url=url,
            params=params,
            content=content,
            options=RequestOptions(**transport_options)  # type: ignore[arg-type]
            if transport_options
            else NO_OPTIONS,
            strict=bool(options.get("strict", self._client.strict)),
            at_once=payloads_at_once(options.get("payloads", self._client.payloads)),
        )

    def _reconcile_hook(self, op: Operation, body: Any, options: CallOptions) -> Any:
        """For a create carrying a buyer-chosen key, sent with retry_non_idempotent: the
        lookup the transport runs before sending it again (see `_reconcile`)."""
        spec = _reconcile.for_create(self._module, op.operation_id)
        if spec is None or not options.get(
            "retry_non_idempotent", self._client._transport.retry_non_idempotent
        ):
            return None
        key = _reconcile.key_of(body, spec)
        return None if key is None else self._lookup_hook(spec, key)

    def _lookup_hook(self, spec: _reconcile.CreateKey, key: str) -> Any:
        raise NotImplementedError

    def _parse(
        self,
        op: Operation,
        response: httpx.Response,
        model: type[T] | None,
        strict: bool,
        *,
        at_once: bool = False,
    ) -> T | None:
        if model is None:
            return None
        return self._parse_value(op, response, model, strict, at_once=at_once)

    def _parse_value(
        self,
        op: Operation,
        response: httpx.Response,
        model: type[T],
        strict: bool,
        *,
        at_once: bool = False,
    ) -> T:
        if not response.content:
            raise ResponseValidationError(
                f"{op.operation_id}: empty response body (status {response.status_code})",
                response=response,
            )
        if not _is_json(response):
            raise ResponseValidationError(
                f"{op.operation_id}: expected JSON, got {response.headers.get('content-type')}: "
                f"{response.text[:120]!r}",
                response=response,
            )
        try:
            parsed: Parsed[T] = parse_json(
                model, response.content, strict=strict, payloads_at_once=at_once
            )
        except json.JSONDecodeError as exc:
            raise ResponseValidationError(
                f"{op.operation_id}: response is not valid JSON: {exc.msg}", response=response
            ) from None
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            raise ResponseValidationError(
                f"{op.operation_id}: response does not match the spec: "
                + "; ".join(
                    f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in errors[:5]
                ),
                response=response,
                errors=[dict(e) for e in errors],
            ) from None
        return parsed.value


class SyncApi:
    """All resources of one API definition (see `client.<module>`)."""

    def __init__(self, client: Any, module: str) -> None:
        self._client = client
        self._module = module


class AsyncApi(SyncApi):
    """All resources of one API definition, async (see `client.<module>`)."""


class SyncResource(_BaseResource):
    """The base of every generated resource: the shared request path, waits, `reconcile`."""

    _client: SyncBaseClient

    def reconcile(
        self, body: Any, /, *, since: datetime | None = None, **options: Unpack[CallOptions]
    ) -> Any | None:
        """What `create(body)` created, or None if it created nothing: for a create whose
        outcome is unknown (`OutcomeUnknownError`). Looks the object up by the key the
        buyer chose in `body` (a service order's `externalId`, a performance job's
        `buyerJobId`); `since` bounds the search by creation date where the seller offers
        no filter on the key. Resources whose creates carry no such key raise `TypeError`;
        a listing longer than a lookup reads without the object raises
        `OutcomeUnknownError` (it may be further on).
        """
        return _reconcile.reconcile_sync(self, body, since, options)

    def _lookup_hook(self, spec: _reconcile.CreateKey, key: str) -> Any:
        return _reconcile.hook_sync(self, spec, key)

    def _send(self, prepared: _Prepared) -> httpx.Response:
        return self._client._transport.request(
            prepared.method,
            prepared.url,
            params=prepared.params,
            content=prepared.content,
            options=prepared.options,
        )

    @overload
    def _request(
        self,
        op: Operation,
        model: None,
        *,
        path_params: Mapping[str, str] | None = ...,
        query: Mapping[str, object] | None = ...,
        body: Any = ...,
        body_model: type[BaseModel] | None = ...,
        options: CallOptions,
    ) -> None: ...

    @overload
    def _request(
        self,
        op: Operation,
        model: type[T],
        *,
        path_params: Mapping[str, str] | None = ...,
        query: Mapping[str, object] | None = ...,
        body: Any = ...,
        body_model: type[BaseModel] | None = ...,
        options: CallOptions,
    ) -> T: ...

    def _request(
        self,
        op: Operation,
        model: type[T] | None,
        *,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, object] | None = None,
        body: Any = None,
        body_model: type[BaseModel] | None = None,
        options: CallOptions,
    ) -> T | None:
        """Perform `op` and parse its answer as `model` (None: no body). In raw mode the
        answer is the `RawResponse` instead, which `with_raw_response` types."""
        prepared = self._prepare(
            op,
            path_params=path_params,
            query=query,
            body=body,
            body_model=body_model,
            options=options,
        )
        response = self._send(prepared)
        if self._raw:
            raw = RawResponse(
                response,
                lambda: self._parse(op, response, model, prepared.strict, at_once=prepared.at_once),
            )
            return cast("T", raw)
        return self._parse(op, response, model, prepared.strict, at_once=prepared.at_once)

    def _request_list(self, op: Operation, model: type[M], **kwargs: Any) -> list[M]:
        """`_request` for an operation answering with a list of `model`."""
        return self._request(op, _list_of(model), **kwargs)

    def _request_form(
        self,
        op: Operation,
        model: type[T],
        *,
        media_type: str,
        query: Mapping[str, object] | None = None,
        options: CallOptions,
    ) -> T:
        """`_request` asking for the answer in `media_type` (one of `op.forms`), read as
        `model`."""
        return self._request(op, model, query=query, options=_in_form(options, media_type))

    def _wait(
        self,
        read: Callable[[], T],
        goal: Goal[T],
        subject: str | None,
        event_types: Collection[str],
        timing: tuple[float, float, float],
        *,
        progress: Callable[[T], object] | None = None,
        on_interrupt: Callable[[], Any] | None = None,
    ) -> T:
        timeout, poll_interval, max_poll_interval = timing
        return wait_sync(
            read,
            goal,
            subject=subject,
            event_types=event_types,
            listeners=self._client._listeners_for(self._module),
            timeout=timeout,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            progress=progress,
            on_interrupt=on_interrupt,
        )

    def _list(
        self,
        op: Operation,
        model: type[M],
        *,
        query: Mapping[str, object] | None = None,
        offset: int = 0,
        limit: int | None = None,
        max_items: int | None = None,
        pages_in_flight: int = 1,
        max_pages: int | None = None,
        progress: ListProgress | None = None,
        options: CallOptions,
    ) -> SyncPage[M]:
        _refuse_other_forms(op, options)

        def fetch(page_offset: int, page_limit: int | None) -> tuple[list[M], httpx.Response]:
            prepared = self._prepare(
                op,
                path_params=None,
                query=query,
                body=None,
                body_model=None,
                options=options,
                page=(page_offset, page_limit),
            )
            response = self._send(prepared)
            items = self._parse_value(
                op, response, _list_of(model), prepared.strict, at_once=prepared.at_once
            )
            return items, response

        return SyncPage.first(
            fetch,
            offset=offset,
            limit=limit,
            max_items=max_items,
            pages_in_flight=pages_in_flight,
            max_pages=max_pages,
            progress=progress,
        )


class AsyncPager(Generic[M]):
    """What an async `list()` returns: await it for the first page, or `async for`
    over it for every item of every page."""

    def __init__(self, first: Callable[[], Awaitable[AsyncPage[M]]]) -> None:
        self._first = first

    def __await__(self) -> Generator[Any, None, AsyncPage[M]]:
        return self._first().__await__()

    async def __aiter__(self) -> AsyncIterator[M]:
        page = await self._first()
        async for item in page:
            yield item

    async def to_pandas(self, *, all_pages: bool = False, max_items: int | None = None) -> Any:
        """The first page's items (`all_pages=True`: the whole listing) as a pandas
        DataFrame: `AsyncPage.to_pandas`."""
        page = await self._first()
        return await page.to_pandas(all_pages=all_pages, max_items=max_items)

    async def to_polars(self, *, all_pages: bool = False, max_items: int | None = None) -> Any:
        """As `to_pandas`, a polars DataFrame."""
        page = await self._first()
        return await page.to_polars(all_pages=all_pages, max_items=max_items)


class AsyncResource(_BaseResource):
    """The base of every generated async resource: see `SyncResource`."""

    _client: AsyncBaseClient

    async def reconcile(
        self, body: Any, /, *, since: datetime | None = None, **options: Unpack[CallOptions]
    ) -> Any | None:
        """What `create(body)` created, or None: see `SyncResource.reconcile`."""
        return await _reconcile.reconcile_async(self, body, since, options)

    def _lookup_hook(self, spec: _reconcile.CreateKey, key: str) -> Any:
        return _reconcile.hook_async(self, spec, key)

    async def _send(self, prepared: _Prepared) -> httpx.Response:
        return await self._client._transport.request(
            prepared.method,
            prepared.url,
            params=prepared.params,
            content=prepared.content,
            options=prepared.options,
        )

    @overload
    async def _request(
        self,
        op: Operation,
        model: None,
        *,
        path_params: Mapping[str, str] | None = ...,
        query: Mapping[str, object] | None = ...,
        body: Any = ...,
        body_model: type[BaseModel] | None = ...,
        options: CallOptions,
    ) -> None: ...

    @overload
    async def _request(
        self,
        op: Operation,
        model: type[T],
        *,
        path_params: Mapping[str, str] | None = ...,
        query: Mapping[str, object] | None = ...,
        body: Any = ...,
        body_model: type[BaseModel] | None = ...,
        options: CallOptions,
    ) -> T: ...

    async def _request(
        self,
        op: Operation,
        model: type[T] | None,
        *,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, object] | None = None,
        body: Any = None,
        body_model: type[BaseModel] | None = None,
        options: CallOptions,
    ) -> T | None:
        """Perform `op` and parse its answer as `model` (None: no body). In raw mode the
        answer is the `RawResponse` instead, which `with_raw_response` types."""
        prepared = self._prepare(
            op,
            path_params=path_params,
            query=query,
            body=body,
            body_model=body_model,
            options=options,
        )
        response = await self._send(prepared)
        if self._raw:
            raw = RawResponse(
                response,
                lambda: self._parse(op, response, model, prepared.strict, at_once=prepared.at_once),
            )
            return cast("T", raw)
        return self._parse(op, response, model, prepared.strict, at_once=prepared.at_once)

    async def _request_form(
        self,
        op: Operation,
        model: type[T],
        *,
        media_type: str,
        query: Mapping[str, object] | None = None,
        options: CallOptions,
    ) -> T:
        """`_request` asking for the answer in `media_type`: see `SyncResource._request_form`."""
        return await self._request(op, model, query=query, options=_in_form(options, media_type))

    async def _request_list(self, op: Operation, model: type[M], **kwargs: Any) -> list[M]:
        """`_request` for an operation answering with a list of `model`."""
        return await self._request(op, _list_of(model), **kwargs)

    async def _wait(
        self,
        read: Callable[[], Awaitable[T]],
        goal: Goal[T],
        subject: str | None,
        event_types: Collection[str],
        timing: tuple[float, float, float],
        *,
        progress: Callable[[T], object] | None = None,
        on_interrupt: Callable[[], Awaitable[Any]] | None = None,
    ) -> T:
        timeout, poll_interval, max_poll_interval = timing
        return await wait_async(
            read,
            goal,
            subject=subject,
            event_types=event_types,
            listeners=self._client._listeners_for(self._module),
            timeout=timeout,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            progress=progress,
            on_interrupt=on_interrupt,
        )

    def _list(
        self,
        op: Operation,
        model: type[M],
        *,
        query: Mapping[str, object] | None = None,
        offset: int = 0,
        limit: int | None = None,
        max_items: int | None = None,
        pages_in_flight: int = 1,
        max_pages: int | None = None,
        progress: ListProgress | None = None,
        options: CallOptions,
    ) -> AsyncPager[M]:
        _refuse_other_forms(op, options)

        async def fetch(page_offset: int, page_limit: int | None) -> tuple[list[M], httpx.Response]:
            prepared = self._prepare(
                op,
                path_params=None,
                query=query,
                body=None,
                body_model=None,
                options=options,
                page=(page_offset, page_limit),
            )
            response = await self._send(prepared)
            items = self._parse_value(
                op, response, _list_of(model), prepared.strict, at_once=prepared.at_once
            )
            return items, response

        return AsyncPager(
            lambda: AsyncPage.first(
                fetch,
                offset=offset,
                limit=limit,
                max_items=max_items,
                pages_in_flight=pages_in_flight,
                max_pages=max_pages,
                progress=progress,
            )
        )


# Hub resources: registration plus a subscription bound to a `with` block.


def event_query(event_types: Iterator[str] | list[str] | tuple[str, ...] | None) -> str | None:
    """The canonical hub query for `event_types` (`eventType=a,b`); None subscribes to all."""
    types = [t for t in (event_types or ()) if t]
    return f"eventType={','.join(types)}" if types else None


def _callback_of(target: Any, own_path: bool | str | None) -> str:
    """The callback URL for `target` (a listener or a URL); with `own_path`, a path of
    its own under it (`.../subscriptions/<id>`). None: own path for a listener that
    offers one (`callback_url`), the URL as given otherwise."""
    url = getattr(target, "url", target)
    if not isinstance(url, str):
        raise TypeError("subscribe() takes a NotificationListener or a callback URL")
    if own_path is None:
        own_path = callable(getattr(target, "callback_url", None))
    if own_path is False:
        return url
    from .notifications._listener import subscription_callback

    return subscription_callback(url, None if own_path is True else own_path)


def _subscription_body(
    listener: Any,
    event_types: list[str] | tuple[str, ...] | None,
    query: str | None,
    own_path: bool | str | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"callback": _callback_of(listener, own_path)}
    found = query if query is not None else event_query(event_types)
    if found is not None:
        body["query"] = found
    return body


class Subscription:
    """A registered hub; unregistered when its `with` block ends.

    `callback` is the URL registered; `path_id` the id of its own callback path
    (`Notification.subscription` of the events it brings), None without one.
    """

    def __init__(self, hub: Any, registration: Any, callback: str | None = None) -> None:
        self.hub = hub
        self.registration = registration
        self.callback = callback
        marker = "/subscriptions/"
        self.path_id = callback.rsplit(marker, 1)[1] if callback and marker in callback else None

    @property
    def id(self) -> str:
        """The hub registration's id."""
        return str(self.registration.id)


logger = logging.getLogger("lso_client")


def _unregister_failed(
    subscription: Subscription, block_error: BaseException | None, error: Exception
) -> bool:
    """After a failed unregister: whether to let the `with` block's own exception go on
    (it is not replaced by the cleanup's). The registration left at the seller is logged
    and, on the block's exception, noted (Python 3.11+)."""
    if block_error is None:
        return False
    what = (
        f"the hub registration {subscription.id} could not be removed after the block "
        f"failed ({type(error).__name__}: {error}); remove it with unregister()"
    )
    logger.warning("%s", what)
    add_note = getattr(block_error, "add_note", None)
    if add_note is not None:
        add_note(what)
    return True


class SyncHubResource(SyncResource):
    """A family's hub: `register`/`unregister` (generated per API) and `subscribe`."""

    def register(self, body: Any, /, **options: Unpack[CallOptions]) -> Any:
        """Register a listener's callback (generated per API with its models)."""
        raise NotImplementedError

    def unregister(self, id: str, /, **options: Unpack[CallOptions]) -> None:
        """Remove a registration (generated per API)."""
        raise NotImplementedError

    def subscribe(
        self,
        listener: Any,
        *,
        event_types: list[str] | tuple[str, ...] | None = None,
        query: str | None = None,
        own_path: bool | str | None = None,
    ) -> _SyncSubscriptionContext:
        """Register `listener` (or a callback URL) on entry, unregister on exit.

        `with client.hubs.service_ordering.subscribe(listener, event_types=[...]) as sub:`

        `own_path`: give this hub a callback path of its own under the listener
        (`<url>/subscriptions/<id>`; a str is the id to use, True a new opaque one), so
        its events say which subscription they came through (`Notification.subscription`)
        and two sellers' equal `eventId`s are both delivered. The default does so for a
        `NotificationListener` and registers a plain callback URL as given.
        """
        return _SyncSubscriptionContext(
            self, _subscription_body(listener, event_types, query, own_path), listener
        )


class _SyncSubscriptionContext:
    def __init__(self, hub: SyncHubResource, body: dict[str, Any], listener: Any) -> None:
        self._hub = hub
        self._body = body
        self._listener = listener
        self.subscription: Subscription | None = None

    def __enter__(self) -> Subscription:
        registration = self._hub.register(self._body)
        self.subscription = Subscription(self._hub, registration, self._body["callback"])
        self._hub._client._attach_listener(self._hub._module, self._listener)
        return self.subscription

    def __exit__(self, exc_type: object, exc: BaseException | None, traceback: object) -> None:
        self._hub._client._detach_listener(self._hub._module, self._listener)
        if self.subscription is not None:
            try:
                self._hub.unregister(self.subscription.id)
            except Exception as error:
                if not _unregister_failed(self.subscription, exc, error):
                    raise


class AsyncHubResource(AsyncResource):
    """A family's hub, async: see `SyncHubResource`."""

    async def register(self, body: Any, /, **options: Unpack[CallOptions]) -> Any:
        """Register a listener's callback (generated per API with its models)."""
        raise NotImplementedError

    async def unregister(self, id: str, /, **options: Unpack[CallOptions]) -> None:
        """Remove a registration (generated per API)."""
        raise NotImplementedError

    def subscribe(
        self,
        listener: Any,
        *,
        event_types: list[str] | tuple[str, ...] | None = None,
        query: str | None = None,
        own_path: bool | str | None = None,
    ) -> _AsyncSubscriptionContext:
        """`async with client.hubs.service_ordering.subscribe(listener, ...) as sub:`

        As the sync `subscribe`, `own_path` included."""
        return _AsyncSubscriptionContext(
            self, _subscription_body(listener, event_types, query, own_path), listener
        )


class _AsyncSubscriptionContext:
    def __init__(self, hub: AsyncHubResource, body: dict[str, Any], listener: Any) -> None:
        self._hub = hub
        self._body = body
        self._listener = listener
        self.subscription: Subscription | None = None

    async def __aenter__(self) -> Subscription:
        registration = await self._hub.register(self._body)
        self.subscription = Subscription(self._hub, registration, self._body["callback"])
        self._hub._client._attach_listener(self._hub._module, self._listener)
        return self.subscription

    async def __aexit__(
        self, exc_type: object, exc: BaseException | None, traceback: object
    ) -> None:
        self._hub._client._detach_listener(self._hub._module, self._listener)
        if self.subscription is not None:
            try:
                await self._hub.unregister(self.subscription.id)
            except Exception as error:
                if not _unregister_failed(self.subscription, exc, error):
                    raise
