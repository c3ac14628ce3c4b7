"""Service Catalog (Legato 4.0.0-RC) as an API module of the mock seller.

Service specifications are listed (sorted by id, `offset`/`limit`, no pagination
headers: the API defines none) and retrieved, both with `fields`; the hub needs
`callback` and `query`. This API's `Error` carries an integer `code` (TMF style),
so its handlers answer with `CatalogError` rather than the MEF string codes.
Tests add, change and withdraw specifications, which notifies
`serviceSpecification{Create,Change,Delete}Notification`.
"""

from __future__ import annotations

import copy
from typing import Any

from ._api import ApiModule, Handler
from ._filters import Filters, field_at
from ._http import ApiError, Request, Response, Route, dump_json, int_param, json_response
from ._runtime import HubStore, SellerContext, format_time
from ._store import Record, Store

__all__ = ["LIFECYCLE_STATUSES", "CatalogError", "ServiceCatalogApi", "default_specifications"]

LIFECYCLE_STATUSES = frozenset(
    {"IN_STUDY", "IN_DESIGN", "IN_TEST", "LAUNCHED", "ACTIVE", "RETIRED", "OBSOLETE", "REJECTED"}
)
# What every returned specification keeps whatever `fields` asks: the schema requires them.
_ALWAYS = ("id", "href", "@type")
# The integer codes of the API's common `errorSchema`.
_CODES = {400: 28, 404: 60, 405: 61, 409: 64, 500: 1}
_FILTERS = Filters(
    equals={"category": field_at("category"), "lifecycleStatus": field_at("lifecycleStatus")},
    enums={"lifecycleStatus": LIFECYCLE_STATUSES},
)


class CatalogError(ApiError):
    """An error answered with the catalog's `Error{code: int, reason, message[]}`."""

    def __init__(self, status: int, code: int, reason: str) -> None:
        super().__init__(status, str(code), reason)
        self.int_code = code

    def response(self) -> Response:
        return json_response(self.status, {"code": self.int_code, "reason": self.reason})


def default_specifications() -> list[dict[str, Any]]:
    """Two specifications as a seller's catalog would publish them.

    Their `targetServiceSchema` names a seller's own schema: a reference to a shipped
    payload schema is read as that payload today (see the test of it).
    """
    return [
        {
            "id": "carrier-ethernet-access-eline",
            "@type": "ServiceSpecification",
            "name": "Access E-Line",
            "description": "Carrier Ethernet point-to-point access service (MEF 51.1)",
            "category": "Carrier Ethernet",
            "subcategory": "Access",
            "version": "1.0.0",
            "isBundle": False,
            "lifecycleStatus": "ACTIVE",
            "lastUpdate": "2026-01-15T09:00:00.000+00:00",
            "validFor": {"startDateTime": "2026-01-15T09:00:00.000+00:00"},
            "targetServiceSchema": {
                "@type": "urn:mef:lso:spec:legato:carrier-ethernet-evc:v0.0.1:all",
                "@schemaLocation": "https://seller.example/schemas/access-eline.1.0.0.json",
            },
            "serviceSpecCharacteristic": [
                {
                    "id": "bandwidth",
                    "@type": "ServiceSpecCharacteristic",
                    "name": "bandwidth",
                    "valueType": "integer",
                    "minCardinality": 1,
                    "maxCardinality": 1,
                    "serviceSpecCharacteristicValue": [
                        {
                            "id": "bandwidth-range",
                            "@type": "ServiceSpecCharacteristicValue",
                            "valueFrom": 10,
                            "valueTo": 10000,
                            "unitOfMeasure": "Mbps",
                            "isDefault": False,
                        }
                    ],
                }
            ],
            "relatedParty": [
                {
                    "id": "seller-product-team",
                    "@type": "RelatedPartyRef",
                    "@referredType": "Organization",
                    "role": "owner",
                }
            ],
        },
        {
            "id": "internet-access",
            "@type": "ServiceSpecification",
            "name": "Internet Access",
            "description": "IP transit with a routed UNI (MEF 69)",
            "category": "IP",
            "version": "2.1.0",
            "isBundle": False,
            "lifecycleStatus": "LAUNCHED",
            "lastUpdate": "2026-03-02T12:30:00.000+00:00",
            "targetServiceSchema": {
                "@type": "urn:mef:lso:spec:legato:ipvc:v0.0.4:all",
                "@schemaLocation": "https://seller.example/schemas/internet-access.2.1.0.json",
            },
            "serviceSpecRelationship": [
                {
                    "id": "carrier-ethernet-access-eline",
                    "@type": "ServiceSpecificationRelationship",
                    "@referredType": "ServiceSpecification",
                    "relationshipType": "reliesOn",
                }
            ],
        },
    ]


class ServiceCatalogApi(ApiModule):
    """`serviceSpecification`, `serviceSpecification/{id}` and the hub (Legato only)."""

    hubs: HubStore

    def __init__(
        self,
        reference_point: str,
        context: SellerContext,
        specifications: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(context)
        self.reference_point = reference_point
        self.notification_base = f"/mefApi/{reference_point}/serviceCatalogNotification/v4/"
        self.base_path = f"/mefApi/{reference_point}/serviceCatalog/v4/"
        self.hubs = HubStore(context.new_id, validation_status=400)
        self._specs: Store[Record] = Store("service specification", _FILTERS)
        self._initial = copy.deepcopy(
            specifications if specifications is not None else default_specifications()
        )
        for spec in self._initial:
            self._store(spec)

    def routes(self) -> list[Route]:
        hub = {(r.method, r.template): r.handler for r in self.hubs.routes()}
        return [
            Route("GET", "serviceSpecification", _catalog_errors(self._list)),
            Route("GET", "serviceSpecification/{id}", self._retrieve),
            Route("POST", "hub", self._hub_create(hub[("POST", "hub")])),
            Route("GET", "hub/{id}", _catalog_errors(hub[("GET", "hub/{id}")])),
            Route("DELETE", "hub/{id}", _catalog_errors(hub[("DELETE", "hub/{id}")])),
        ]

    def stores(self) -> list[Store[Record]]:
        return [self._specs]

    # -- control and inspection (any thread) ------------------------------------------------

    def add_specification(self, spec: dict[str, Any]) -> str:
        """Publish a specification (an `id` is given if missing); notifies its creation."""
        spec = copy.deepcopy(spec)
        spec.setdefault("id", self._ctx.new_id())
        spec.setdefault("@type", "ServiceSpecification")
        spec.setdefault("lastUpdate", format_time(self.now()))
        with self._lock:
            if spec["id"] in self._specs:
                raise ValueError(f"a specification with id {spec['id']} exists")
        stored = self._store(spec)
        self._notify("serviceSpecificationCreateNotification", stored)
        return str(stored["id"])

    def set_lifecycle_status(self, spec_id: str, status: str) -> None:
        """Change a specification's `lifecycleStatus`; notifies the change."""
        if status not in LIFECYCLE_STATUSES:
            raise ValueError(f"unknown lifecycleStatus {status!r}")
        with self._lock:
            found = self._specs.get(spec_id)
            if found is None:
                raise KeyError(spec_id)
            spec = copy.deepcopy(found.body)
        spec["lifecycleStatus"] = status
        spec["lastUpdate"] = format_time(self.now())
        stored = self._store(spec)
        self._notify("serviceSpecificationChangeNotification", stored, "lifecycleStatus")

    def remove_specification(self, spec_id: str) -> None:
        """Withdraw a specification; notifies its deletion."""
        with self._lock:
            removed = self._specs.remove(spec_id)
        if removed is None:
            raise KeyError(spec_id)
        self._notify("serviceSpecificationDeleteNotification", removed.body)

    def specifications(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(record.body) for record in _by_id(self._specs.all())]

    def reset(self) -> None:
        """Forget the hubs and go back to the initial specifications."""
        with self._lock:
            self._specs.clear()
        for spec in self._initial:
            self._store(spec)
        self.hubs.clear()

    # -- HTTP handlers (serving loop) -------------------------------------------------------

    def _list(self, request: Request, _: dict[str, str]) -> Response:
        """Sorted by id, `offset`/`limit` without pagination headers (the API has none)."""
        check = self._specs.filters.from_query(request)
        fields = _fields(request)
        offset = int_param(request, "offset") or 0
        limit = int_param(request, "limit")
        end = None if limit is None else offset + limit
        with self._lock:
            page = _by_id(self._specs.matching(check))[offset:end]
            if fields is None:
                parts = [record.json for record in page]
            else:
                parts = [dump_json(_select(record.body, fields)) for record in page]
        return json_response(200, b"[" + b",".join(parts) + b"]")

    def _retrieve(self, request: Request, params: dict[str, str]) -> Response:
        fields = _fields(request)
        with self._lock:
            record = self._specs.get(params["id"])
            if record is None:
                raise CatalogError(404, 60, f"No service specification with id {params['id']}")
            if fields is None:
                return json_response(200, record.json)
            return json_response(200, _select(record.body, fields))

    def _hub_create(self, register: Handler) -> Handler:
        def create(request: Request, params: dict[str, str]) -> Response:
            body = request.json() if request.body else None
            if not isinstance(body, dict):
                raise CatalogError(400, 22, "The body must be a JSON object")
            # `EventSubscriptionInput` of this API requires both properties.
            for name in ("callback", "query"):
                if not isinstance(body.get(name), str):
                    raise CatalogError(400, 23, f"'{name}' is required and must be a string")
            return _catalog_errors(register, bad_request=24)(request, params)

        return create

    # -- helpers -------------------------------------------------------------------------------

    def _store(self, spec: dict[str, Any]) -> dict[str, Any]:
        spec = {**spec, "href": self.href(f"serviceSpecification/{spec['id']}")}
        with self._lock:
            self._specs.save(Record(spec["id"], spec))
        return spec

    def _notify(self, event_type: str, spec: dict[str, Any], field_path: str | None = None) -> None:
        event: dict[str, Any] = {
            "@type": event_type[0].upper() + event_type[1:],
            "eventId": self._ctx.new_id(),
            "eventType": event_type,
            "eventTime": format_time(self.now()),
            "resourcePath": f"{self.base_path}serviceSpecification/{spec['id']}",
            "event": {"serviceSpecification": copy.deepcopy(spec)},
        }
        if field_path is not None:
            event["fieldPath"] = field_path
        self.publish_soon([event])


def _by_id(records: list[Record]) -> list[Record]:
    return sorted(records, key=lambda record: record.id)


def _catalog_errors(handler: Handler, *, bad_request: int = 28) -> Handler:
    """Re-express the shared hub store's MEF errors in the catalog's integer codes."""

    def wrapped(request: Request, params: dict[str, str]) -> Response:
        try:
            return handler(request, params)
        except CatalogError:
            raise
        except ApiError as exc:
            code = bad_request if exc.status == 400 else _CODES.get(exc.status, 1)
            raise CatalogError(exc.status, code, exc.reason) from exc

    return wrapped


def _fields(request: Request) -> list[str] | None:
    raw = request.query_value("fields")
    if raw is None or not raw.strip():
        return None
    return [name.strip() for name in raw.split(",") if name.strip()]


def _select(spec: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    keep = set(fields) | set(_ALWAYS)
    return {k: v for k, v in spec.items() if k in keep}
