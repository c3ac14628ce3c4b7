"""Finding out what a create did when its answer was lost.

A create whose body carries a key the buyer chose (a service order's `externalId`, a
performance job's `buyerJobId`) can be looked up after the fact: list the objects with
that key, and if one is there, the create went through. `reconcile(body)` on those
resources does it on demand; with `retry_non_idempotent=True`, a create whose outcome is
unknown (or that got a 5xx) is looked up this way before it is sent again, so a key in the
body means no duplicate.

The table below says which creates carry a key and how to find it; it is hand-written
(the specs do not say which field is the buyer's key).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Final

import httpx
from pydantic import BaseModel

from ._errors import OutcomeUnknownError, RequestValidationError
from ._operations import model_module, operations_of
from ._options import payloads_at_once

if TYPE_CHECKING:
    from ._resource import AsyncResource, CallOptions, SyncResource, _BaseResource

__all__ = ["CreateKey", "for_create", "for_resource", "key_of", "reconcile_async", "reconcile_sync"]

# How far back (seller's clock) a listing without a key filter starts, before the call.
SINCE_MARGIN: Final = timedelta(minutes=10)
# The most objects a lookup reads; past them it cannot conclude (OutcomeUnknownError).
SCAN_LIMIT: Final = 2000


@dataclass(frozen=True)
class CreateKey:
    """How to find what one create operation made, by the key the buyer put in its body."""

    resource: str  # the resource class (sync name) whose `create` this is
    create: str  # operationId of the create
    key: str  # the key's name in the body, on the wire
    attribute: str  # ... and in the models
    list: str  # operationId of the listing to search
    filter: str | None  # its query parameter selecting the key (None: match listed items)
    since: str | None  # its query parameter bounding the creation date, when no filter
    retrieve: str  # operationId reading one object by id


def _order() -> CreateKey:
    return CreateKey(
        "ServiceOrders",
        "createServiceOrder",
        "externalId",
        "external_id",
        "listServiceOrder",
        None,  # the specs offer no externalId filter on service orders
        "orderDate.gt",
        "retrieveServiceOrder",
    )


def _job(filter_name: str = "buyerJobId") -> CreateKey:
    return CreateKey(
        "PerformanceJobs",
        "createPerformanceJob",
        "buyerJobId",
        "buyer_job_id",
        "listPerformanceJob",
        filter_name,
        None,
        "retrievePerformanceJob",
    )


_TABLE: Final[dict[str, tuple[CreateKey, ...]]] = {
    "service_ordering_v1": (_order(),),
    "service_ordering_v5": (_order(),),
    "performance_monitoring_v5": (_job(),),
    "performance_monitoring_v2": (
        _job(),
        CreateKey(
            "PerformanceProfiles",
            "createPerformanceProfile",
            "buyerProfileId",
            "buyer_profile_id",
            "listPerformanceProfile",
            "buyerProfileId",
            None,
            "retrievePerformanceProfile",
        ),
    ),
    # Fault management and service function testing jobs carry no buyer-chosen key.
}
_BY_CREATE: Final = {(m, k.create): k for m, keys in _TABLE.items() for k in keys}
_BY_RESOURCE: Final = {(m, k.resource): k for m, keys in _TABLE.items() for k in keys}


def for_create(module: str, operation_id: str) -> CreateKey | None:
    """The key of a create operation, or None when it has none."""
    return _BY_CREATE.get((module, operation_id))


def for_resource(resource: _BaseResource) -> CreateKey:
    """The key of `resource`'s create; `TypeError` for resources without one."""
    name = type(resource).__name__.removeprefix("Async")
    found = _BY_RESOURCE.get((resource._module, name))
    if found is None:
        supported = ", ".join(sorted({f"{k.resource} ({m})" for (m, _), k in _BY_CREATE.items()}))
        raise TypeError(
            f"{name} creates carry no buyer-chosen key to look them up by; "
            f"reconcile() is offered by: {supported}"
        )
    return found


def key_of(body: Any, spec: CreateKey) -> str | None:
    """The key in a create body (a mapping with wire or Python names, or a model)."""
    if isinstance(body, BaseModel):
        value = getattr(body, spec.attribute, None)
    elif isinstance(body, Mapping):
        value = body.get(spec.key, body.get(spec.attribute))
    else:
        value = None
    return value if isinstance(value, str) and value else None


def _require_key(body: Any, spec: CreateKey) -> str:
    key = key_of(body, spec)
    if key is None:
        raise RequestValidationError(
            f"{spec.create}: the body has no {spec.key}, so what it created cannot be found"
        )
    return key


def default_since() -> datetime:
    """Where a lookup made during a call starts: a margin before now."""
    return datetime.now(timezone.utc) - SINCE_MARGIN


def _query(spec: CreateKey, key: str, since: datetime | None) -> dict[str, object]:
    if spec.filter is not None:
        return {spec.filter: key}
    return {spec.since: since} if since is not None and spec.since is not None else {}


def _lookup_options(time_left: float | None) -> CallOptions:
    return {"deadline": max(time_left, 0.001)} if time_left is not None else {}


def _list_model(resource: _BaseResource, spec: CreateKey) -> Any:
    op = operations_of(resource._module)[spec.list]
    return op, getattr(model_module(resource._module), op.response_model or "")


def _beyond_budget(spec: CreateKey, key: str) -> OutcomeUnknownError:
    """The error when the listing holds more than a lookup reads: an object not among the
    first `SCAN_LIMIT` may still be the one created, so nothing can be concluded (and a
    create must not be sent again)."""
    return OutcomeUnknownError(
        f"{spec.list}: read {SCAN_LIMIT:,} objects without finding {spec.key}={key!r}, and "
        "there are more: whether the create went through is still unknown",
        request=None,
    )


def _found_id(item: Any, spec: CreateKey, key: str) -> str | None:
    if getattr(item, spec.attribute, None) == key:
        found = getattr(item, "id", None)
        return str(found) if found else None
    return None


def find_sync(
    resource: SyncResource,
    spec: CreateKey,
    key: str,
    *,
    since: datetime | None,
    options: CallOptions,
) -> httpx.Response | None:
    """The response of reading the object created with `key`, or None if there is none."""
    op, model = _list_model(resource, spec)
    # One more than the budget: reading it shows that the listing goes on.
    page = resource._list(
        op, model, query=_query(spec, key, since), max_items=SCAN_LIMIT + 1, options=options
    )
    for scanned, item in enumerate(page):
        if scanned == SCAN_LIMIT:
            raise _beyond_budget(spec, key)
        found = _found_id(item, spec, key)
        if found is not None:
            retrieve = operations_of(resource._module)[spec.retrieve]
            return resource._send(
                resource._prepare(
                    retrieve,
                    path_params={"id": found},
                    query=None,
                    body=None,
                    body_model=None,
                    options=options,
                )
            )
    return None


async def find_async(
    resource: AsyncResource,
    spec: CreateKey,
    key: str,
    *,
    since: datetime | None,
    options: CallOptions,
) -> httpx.Response | None:
    """`find_sync` for the async client."""
    op, model = _list_model(resource, spec)
    pager = resource._list(
        op, model, query=_query(spec, key, since), max_items=SCAN_LIMIT + 1, options=options
    )
    scanned = 0
    async for item in pager:
        if scanned == SCAN_LIMIT:
            raise _beyond_budget(spec, key)
        scanned += 1
        found = _found_id(item, spec, key)
        if found is not None:
            retrieve = operations_of(resource._module)[spec.retrieve]
            return await resource._send(
                resource._prepare(
                    retrieve,
                    path_params={"id": found},
                    query=None,
                    body=None,
                    body_model=None,
                    options=options,
                )
            )
    return None


def hook_sync(
    resource: SyncResource, spec: CreateKey, key: str
) -> Callable[[float | None], httpx.Response | None]:
    """The transport's lookup before re-sending a create whose outcome is unknown."""
    since = default_since()
    return lambda time_left: find_sync(
        resource, spec, key, since=since, options=_lookup_options(time_left)
    )


def hook_async(
    resource: AsyncResource, spec: CreateKey, key: str
) -> Callable[[float | None], Awaitable[httpx.Response | None]]:
    """`hook_sync` for the async transport."""
    since = default_since()
    return lambda time_left: find_async(
        resource, spec, key, since=since, options=_lookup_options(time_left)
    )


def _parse_created(
    resource: _BaseResource, spec: CreateKey, response: httpx.Response, options: CallOptions
) -> Any:
    """The object found, parsed as the create's answer, with the call's own `strict` and
    `payloads` (else the client's)."""
    op = operations_of(resource._module)[spec.create]
    model = getattr(model_module(resource._module), op.response_model or "")
    client = resource._client
    return resource._parse(
        op,
        response,
        model,
        bool(options.get("strict", client.strict)),
        at_once=payloads_at_once(options.get("payloads", client.payloads)),
    )


def reconcile_sync(
    resource: SyncResource, body: Any, since: datetime | None, options: CallOptions
) -> Any:
    """What `resource.create(body)` created, or None: see `SyncResource.reconcile`."""
    spec = for_resource(resource)
    found = find_sync(resource, spec, _require_key(body, spec), since=since, options=options)
    return None if found is None else _parse_created(resource, spec, found, options)


async def reconcile_async(
    resource: AsyncResource, body: Any, since: datetime | None, options: CallOptions
) -> Any:
    """`reconcile_sync` for the async client."""
    spec = for_resource(resource)
    found = await find_async(resource, spec, _require_key(body, spec), since=since, options=options)
    return None if found is None else _parse_created(resource, spec, found, options)
