"""Every notification of every notification API, at every reference point, received by a
running `NotificationListener` over real HTTP.

For each notification module of the catalog and each of its reference points (base paths),
each event type's body is built from the request schema of its listener path in the
patched spec (minimal, and with every optional property filled), POSTed to
`<listener.url><base path>listener/<eventType>`, and must be answered 204 and delivered
as a `Notification` whose payload is the generated model of that module and event, with
no deviations. Then the variants sellers send in practice.
"""

from __future__ import annotations

import copy
import importlib
import queue
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml  # type: ignore[import-untyped]
from _instances import InstanceBuilder, minimal_instance, operation_schemas

from codegen.__main__ import emit_specs  # type: ignore[import-untyped]
from codegen._spec import SpecSource  # type: ignore[import-untyped]
from lso_client import Notification, NotificationListener
from lso_client._generated import _catalog

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

CASES: list[tuple[str, str, str]] = [
    (module, reference_point, event_type)
    for module, events in sorted(_catalog.EVENTS.items())
    for reference_point in sorted(_catalog.APIS[module].reference_points)
    for event_type in sorted(events)
]


def _case_id(case: tuple[str, str, str]) -> str:
    module, reference_point, event_type = case
    return f"{reference_point}:{module}:{event_type}"


@pytest.fixture(scope="module")
def notification_specs(tmp_path_factory: pytest.TempPathFactory, specs_dir: Path) -> Path:
    target = tmp_path_factory.mktemp("patched-notification-specs")
    emit_specs(SpecSource(str(specs_dir)), target)
    return target


@pytest.fixture(scope="module")
def document_of(notification_specs: Path) -> Any:
    loaded: dict[str, dict[str, Any]] = {}

    def get(module: str) -> dict[str, Any]:
        if module not in loaded:
            text = (notification_specs / f"{module}.yaml").read_text(encoding="utf-8")
            loaded[module] = yaml.load(text, Loader=_LOADER)
        return loaded[module]

    return get


class _Inbox:
    """Notifications as the listener delivers them (handlers run on worker threads)."""

    def __init__(self) -> None:
        self.items: queue.Queue[Notification] = queue.Queue()

    def handler(self, notification: Notification) -> None:
        self.items.put(notification)

    def next(self) -> Notification:
        return self.items.get(timeout=10)


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[NotificationListener, _Inbox]]:
    listener = NotificationListener(inbox="memory")
    inbox = _Inbox()
    listener.add_handler(inbox.handler)
    with listener:
        yield listener, inbox


def _event_body(
    document: dict[str, Any], event_type: str, *, fill_optional: bool = False
) -> dict[str, Any]:
    schema, _ = operation_schemas(document, f"/listener/{event_type}", "post")
    assert schema is not None
    body: dict[str, Any] = minimal_instance(document, schema, fill_optional=fill_optional)
    # Several event types share one schema whose eventType enum lists them all; the
    # minimal instance holds its first value, the listener path names the right one.
    allowed = _event_type_enum(document, schema)
    assert allowed is None or event_type in allowed, (event_type, allowed)
    body["eventType"] = event_type
    return body


def _event_type_enum(document: dict[str, Any], schema: Mapping[str, Any]) -> list[str] | None:
    builder = InstanceBuilder(document)
    shape = builder.merged_shape(builder.resolve(schema)[0])
    prop = shape.get("properties", {}).get("eventType")
    if prop is None:
        return None
    found = builder.merged_shape(builder.resolve(prop)[0]).get("enum")
    return None if found is None else [str(v) for v in found]


def _post(
    listener: NotificationListener, base_path: str, event_type: str, body: dict[str, Any]
) -> httpx.Response:
    url = f"{listener.url.rstrip('/')}{base_path}listener/{event_type}"
    with httpx.Client(trust_env=False) as http:
        return http.post(url, json=body, headers={"content-type": "application/json"})


def _deliver(
    running: tuple[NotificationListener, _Inbox],
    module: str,
    reference_point: str,
    event_type: str,
    body: dict[str, Any],
) -> Notification:
    listener, inbox = running
    base_path = _catalog.APIS[module].reference_points[reference_point]
    response = _post(listener, base_path, event_type, body)
    assert response.status_code == 204, response.text
    notification = inbox.next()
    assert notification.event_id == body["eventId"]
    assert notification.event_type == event_type
    return notification


def _expected_model(module: str, event_type: str) -> type[Any]:
    found: type[Any] = getattr(
        importlib.import_module(f"lso_client._generated.{module}"),
        _catalog.EVENTS[module][event_type],
    )
    return found


def _params() -> list[Any]:
    params = []
    for case in CASES:
        for fill_optional in (False, True):
            # The minimal catalog notification has no `event` (the spec allows that).
            label = f"{_case_id(case)}-{'filled' if fill_optional else 'minimal'}"
            params.append(pytest.param(case, fill_optional, id=label))
    return params


@pytest.mark.parametrize(("case", "fill_optional"), _params())
def test_event_is_delivered_as_its_model(
    running: tuple[NotificationListener, _Inbox],
    document_of: Any,
    case: tuple[str, str, str],
    fill_optional: bool,
) -> None:
    module, reference_point, event_type = case
    body = _event_body(document_of(module), event_type, fill_optional=fill_optional)
    body["eventId"] = f"{_case_id(case)}:{fill_optional}"
    notification = _deliver(running, module, reference_point, event_type, body)
    assert isinstance(notification.payload, _expected_model(module, event_type))
    assert notification.deviations == []


def test_every_event_of_the_catalog_is_covered() -> None:
    covered = {(m, rp) for m, rp, _ in CASES}
    expected = {(m, rp) for m in _catalog.EVENTS for rp in _catalog.APIS[m].reference_points}
    assert covered == expected
    assert len(CASES) == sum(
        len(events) * len(_catalog.APIS[m].reference_points)
        for m, events in _catalog.EVENTS.items()
    )


# -- what sellers send in practice ------------------------------------------------------


@pytest.mark.parametrize("state", ["in-progress", "inProgress", "resourceUnavailable"])
@pytest.mark.parametrize("reference_point", ["interlude", "legato"])
def test_pm_v2_job_states_in_both_cases(
    running: tuple[NotificationListener, _Inbox],
    document_of: Any,
    reference_point: str,
    state: str,
) -> None:
    module, event_type = "performance_notification_v2", "performanceJobStateChangeEvent"
    body = _event_body(document_of(module), event_type)
    body["event"]["state"] = state
    body["eventId"] = f"pm-v2-state-{reference_point}-{state}"
    notification = _deliver(running, module, reference_point, event_type, body)
    assert notification.deviations == []
    assert str(getattr(notification.event.state, "value", notification.event.state)) == state


@pytest.mark.parametrize(
    "event_type", ["alarmCreateEvent", "alarmDeleteEvent", "alarmStateChangeEvent"]
)
def test_alarm_events_other_than_attribute_change(
    running: tuple[NotificationListener, _Inbox], document_of: Any, event_type: str
) -> None:
    module = "alarm_notification_v3"
    body = _event_body(document_of(module), event_type)
    body["eventId"] = f"alarm-{event_type}"
    notification = _deliver(running, module, "allegro", event_type, body)
    assert isinstance(notification.payload, _expected_model(module, event_type))
    assert getattr(notification.payload, "event_type", None) == event_type
    assert notification.deviations == []


def test_sft_profile_lifecycle_event_with_lifecycle_state_and_no_state(
    running: tuple[NotificationListener, _Inbox], document_of: Any
) -> None:
    module, event_type = (
        "service_function_testing_notification_v3",
        ("testProfileLifecycleStateChangeEvent"),
    )
    body = _event_body(document_of(module), event_type)
    assert "state" not in body["event"]
    body["event"]["lifecycleState"] = "assigned"
    body["eventId"] = "sft-lifecycle"
    notification = _deliver(running, module, "legato", event_type, body)
    assert notification.deviations == []
    lifecycle = notification.event.lifecycle_state
    assert str(getattr(lifecycle, "value", lifecycle)) == "assigned"


@pytest.mark.parametrize(
    "module", ["service_ordering_notification_v1", "service_ordering_notification_v5"]
)
def test_unknown_fields_are_kept_at_envelope_and_event_level(
    running: tuple[NotificationListener, _Inbox], document_of: Any, module: str
) -> None:
    event_type = "serviceOrderStateChangeEvent"
    reference_point = sorted(_catalog.APIS[module].reference_points)[0]
    body = _event_body(document_of(module), event_type)
    body = copy.deepcopy(body)
    body["sellerTrace"] = {"hop": 1}
    body["event"]["sellerNote"] = "kept"
    body["eventId"] = f"unknown-fields-{module}"
    notification = _deliver(running, module, reference_point, event_type, body)
    assert notification.deviations == []
    dumped = notification.payload.model_dump(  # type: ignore[union-attr]
        mode="json", by_alias=True, exclude_unset=True
    )
    assert dumped["sellerTrace"] == {"hop": 1}
    assert dumped["event"]["sellerNote"] == "kept"
    assert dumped["eventType"] == event_type
