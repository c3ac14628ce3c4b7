"""lso-client: a typed Python SDK for the MEF (Mplify) LSO operational APIs.

    from lso_client import AllegroClient

    with AllegroClient("https://seller.example", token="...") as client:
        order = client.service_orders.create(order_body)
        for order in client.service_orders.list(state="inProgress"):
            ...

Clients, the listener and the generated models are imported on first use, so
`import lso_client` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    LSOError,
    MissingExtraError,
    NotFoundError,
    NotSupportedError,
    OutcomeUnknownError,
    OutcomeUnknownTimeoutError,
    PaginationError,
    PermissionDeniedError,
    RateLimitError,
    RequestValidationError,
    ResponseTooLargeError,
    ResponseValidationError,
    UnprocessableEntityError,
)

if TYPE_CHECKING:
    from ._auth import BearerToken, OAuth2ClientCredentials, TokenRequestError
    from ._display import FieldRecord, FieldTable
    from ._events import parse_message
    from ._generated._clients import (
        AllegroClient,
        AsyncAllegroClient,
        AsyncInterludeClient,
        AsyncLegatoClient,
        InterludeClient,
        LegatoClient,
    )
    from ._index import OperationRecord, OperationTable, model, operations
    from ._pagination import AsyncPage, SyncPage
    from ._profiles import ProfileError
    from ._resource import RawResponse, Subscription
    from ._streaming import (
        AsyncMessageStream,
        KafkaCredentials,
        MessageStream,
        StreamConnectionError,
        StreamMessageError,
        StreamRecord,
    )
    from ._waiting import WaitTimeoutError
    from .notifications import Notification, NotificationListener

from ._version import __version__ as __version__

_LAZY = {
    "AllegroClient": "._generated._clients",
    "AsyncAllegroClient": "._generated._clients",
    "InterludeClient": "._generated._clients",
    "AsyncInterludeClient": "._generated._clients",
    "LegatoClient": "._generated._clients",
    "AsyncLegatoClient": "._generated._clients",
    "BearerToken": "._auth",
    "OAuth2ClientCredentials": "._auth",
    "TokenRequestError": "._auth",
    "Notification": ".notifications",
    "NotificationListener": ".notifications",
    "SyncPage": "._pagination",
    "AsyncPage": "._pagination",
    "RawResponse": "._resource",
    "Subscription": "._resource",
    "WaitTimeoutError": "._waiting",
    "AsyncMessageStream": "._streaming",
    "KafkaCredentials": "._streaming",
    "MessageStream": "._streaming",
    "StreamConnectionError": "._streaming",
    "StreamMessageError": "._streaming",
    "StreamRecord": "._streaming",
    "operations": "._index",
    "model": "._index",
    "parse_message": "._events",
    "FieldRecord": "._display",
    "FieldTable": "._display",
    "OperationRecord": "._index",
    "OperationTable": "._index",
    "ProfileError": "._profiles",
}

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AllegroClient",
    "AsyncAllegroClient",
    "AsyncInterludeClient",
    "AsyncLegatoClient",
    "AsyncMessageStream",
    "AsyncPage",
    "AuthenticationError",
    "BadRequestError",
    "BearerToken",
    "ConflictError",
    "FieldRecord",
    "FieldTable",
    "InterludeClient",
    "InternalServerError",
    "KafkaCredentials",
    "LSOError",
    "LegatoClient",
    "MessageStream",
    "MissingExtraError",
    "NotFoundError",
    "NotSupportedError",
    "Notification",
    "NotificationListener",
    "OAuth2ClientCredentials",
    "OperationRecord",
    "OperationTable",
    "OutcomeUnknownError",
    "OutcomeUnknownTimeoutError",
    "PaginationError",
    "PermissionDeniedError",
    "ProfileError",
    "RateLimitError",
    "RawResponse",
    "RequestValidationError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "StreamConnectionError",
    "StreamMessageError",
    "StreamRecord",
    "Subscription",
    "SyncPage",
    "TokenRequestError",
    "UnprocessableEntityError",
    "WaitTimeoutError",
    "model",
    "operations",
    "parse_message",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lso_client' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
