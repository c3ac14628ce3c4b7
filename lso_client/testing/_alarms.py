"""Alarms / Threshold Crossing Alerts (v3) as an API module of the mock seller.

The seller raises alarms (a test calls `raise_alarm`); the buyer lists and
retrieves them and hears of every change through its hub: `alarmCreateEvent`,
`alarmStateChangeEvent` (acknowledged, cleared), `alarmAttributeValueChangeEvent`
(a comment) and `alarmDeleteEvent`, each carrying the full Alarm in `event.alarm`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ._filters import bool_param, date_bounds, enum_param, now_ms, within
from ._http import (
    ApiError,
    Request,
    Response,
    Route,
    dump_json,
    json_response,
    page_response,
    parse_datetime,
)
from ._runtime import HubStore, SellerContext, format_time

__all__ = ["ALARM_STATES", "TCA_STATEFUL_SET", "AlarmManagementApi"]

ALARM_STATES = frozenset({"unAcknowledged", "acknowledged", "cleared"})
ALARM_TYPES = frozenset(
    {
        "communicationsAlarm",
        "processingErrorAlarm",
        "environmentalAlarm",
        "qualityOfServiceAlarm",
        "equipmentAlarm",
        "integrityViolation",
        "operationalViolation",
        "physicalViolation",
        "securityService",
        "mechanismViolation",
        "timeDomainViolation",
    }
)
SEVERITIES = frozenset({"cleared", "critical", "indeterminate", "major", "minor", "warning"})
OUTAGE_INDICATORS = frozenset({"inPlannedMaintenance", "outOfService"})
TCA_STATEFUL_SET = "urn:mef:lso:spec:service:tca-stateful-set-alarm:v1.0.0:all"
TCA_STATEFUL_CLEAR = "urn:mef:lso:spec:service:tca-stateful-clear-alarm:v1.0.0:all"

# `Alarm_Common`: what `listAlarms` returns for each alarm.
_COMMON = (
    "id",
    "href",
    "affectedService",
    "alarmChangedTime",
    "alarmClearedTime",
    "alarmDetails",
    "alarmedObjectType",
    "alarmRaisedTime",
    "alarmReportingTime",
    "correlatedAlarm",
    "alarmType",
    "perceivedSeverity",
    "plannedOutageIndicator",
    "reportingSystemId",
    "serviceAffecting",
    "state",
)
_DATE_FILTERS = ("alarmChangedTime", "alarmClearedTime", "alarmReportingTime")
_ENUMS = {
    "alarmType": ALARM_TYPES,
    "perceivedSeverity": SEVERITIES,
    "plannedOutageIndicator": OUTAGE_INDICATORS,
    "state": ALARM_STATES,
}
_EQUALITY_FILTERS = ("id", "alarmedObjectType", "reportingSystemId", *_ENUMS)


@dataclass
class _Alarm:
    id: str
    body: dict[str, Any]
    dates: dict[str, datetime] = field(default_factory=dict)
    full: bytes = b""
    common: bytes = b""

    def refresh(self) -> None:
        self.full = dump_json(self.body)
        self.common = dump_json({k: self.body[k] for k in _COMMON if k in self.body})


class AlarmManagementApi:
    """`GET alarm`, `GET alarm/{id}` and the hub at one reference point (v3)."""

    def __init__(self, reference_point: str, context: SellerContext) -> None:
        self.reference_point = reference_point
        self.notification_base = f"/mefApi/{reference_point}/alarmNotification/v3/"
        self._base = f"/mefApi/{reference_point}/alarmManagement/v3/"
        self._ctx = context
        # The alarm hub defines 400 (not 422) for an invalid registration.
        self.hubs = HubStore(context.new_id, validation_status=400)
        self._alarms: dict[str, _Alarm] = {}
        self._lock = threading.RLock()

    @property
    def base_path(self) -> str:
        return self._base

    def routes(self) -> list[Route]:
        return [
            Route("GET", "alarm", self._list),
            Route("GET", "alarm/{id}", self._retrieve),
            *self.hubs.routes(),
        ]

    # -- control (any thread) -----------------------------------------------------------

    def raise_alarm(self, **fields: Any) -> str:
        """Raise an alarm and notify `alarmCreateEvent`; returns its id.

        `fields` are Alarm attributes by wire name (`perceivedSeverity="critical"`,
        `affectedService=[{"id": ...}]`, ...) over defaults that describe a TCA
        stateful-set alarm on a service. Enumerated values are checked (ValueError).
        """
        now = self._now()
        alarm_id = str(fields.pop("id", None) or self._ctx.new_id())
        body: dict[str, Any] = {
            "id": alarm_id,
            "href": self._href(alarm_id),
            "alarmDetails": "Threshold crossed: one-way frame delay above objective",
            "alarmRaisedTime": format_time(now),
            "alarmReportingTime": format_time(now),
            "alarmType": "qualityOfServiceAlarm",
            "perceivedSeverity": "major",
            "probableCause": "thresholdCrossed",
            "serviceAffecting": True,
            "isRootCause": True,
            "state": "unAcknowledged",
            "alarmedObjectType": "Service",
            "alarmedObject": [{"id": "service-1", "@referredType": "Service"}],
            "reportingSystemId": "seller-nms-1",
            "sourceSystemId": "seller-pm-1",
            "alarmSpecificAttributes": {
                "@type": TCA_STATEFUL_SET,
                "performanceMetricName": "one-way-frame-delay",
                "performanceMetricValue": 12.5,
                "tcaPerformanceThresholdValue": 10.0,
                "tcaWindowThresholdValue": 3,
                "tcaWindowSize": 10,
            },
            **fields,
        }
        for name, allowed in _ENUMS.items():
            if name in body and body[name] not in allowed:
                raise ValueError(f"{name} {body[name]!r} is not one of {sorted(allowed)}")
        if body["state"] == "cleared" or body["perceivedSeverity"] == "cleared":
            raise ValueError("an alarm is raised uncleared; use clear_alarm to clear it")
        alarm = _Alarm(alarm_id, body, self._dates_of(body))
        alarm.refresh()
        with self._lock:
            if alarm_id in self._alarms:
                raise ValueError(f"an alarm with id {alarm_id} exists")
            self._alarms[alarm_id] = alarm
            self._publish_soon("alarmCreateEvent", alarm)
        return alarm_id

    def acknowledge_alarm(self, alarm_id: str) -> None:
        """`unAcknowledged` → `acknowledged`, notified as `alarmStateChangeEvent`."""
        with self._lock:
            alarm = self._lookup(alarm_id)
            if alarm.body["state"] != "unAcknowledged":
                raise ValueError(f"alarm {alarm_id} is {alarm.body['state']}, not unAcknowledged")
            self._change(alarm, state="acknowledged")
            self._publish_soon("alarmStateChangeEvent", alarm)

    def clear_alarm(self, alarm_id: str) -> None:
        """State and perceivedSeverity `cleared`, notified as `alarmStateChangeEvent`."""
        with self._lock:
            alarm = self._lookup(alarm_id)
            if alarm.body["state"] == "cleared":
                raise ValueError(f"alarm {alarm_id} is already cleared")
            now = self._now()
            alarm.dates["alarmClearedTime"] = now
            alarm.body["alarmClearedTime"] = format_time(now)
            attributes = alarm.body.get("alarmSpecificAttributes")
            if isinstance(attributes, dict) and attributes.get("@type") == TCA_STATEFUL_SET:
                # A stateful TCA is cleared by the matching clear-alarm payload.
                alarm.body["alarmSpecificAttributes"] = {**attributes, "@type": TCA_STATEFUL_CLEAR}
            self._change(alarm, state="cleared", perceivedSeverity="cleared")
            self._publish_soon("alarmStateChangeEvent", alarm)

    def comment_alarm(self, alarm_id: str, text: str, *, user: str = "seller-noc") -> None:
        """Add a comment, notified as `alarmAttributeValueChangeEvent`."""
        with self._lock:
            alarm = self._lookup(alarm_id)
            entry = {
                "description": text,
                "time": format_time(self._now()),
                "userIdentifier": user,
                "systemIdentifier": "seller-nms-1",
            }
            self._change(alarm, comment=[*alarm.body.get("comment", []), entry])
            self._publish_soon("alarmAttributeValueChangeEvent", alarm)

    def delete_alarm(self, alarm_id: str) -> None:
        """Remove an alarm, notified as `alarmDeleteEvent` with its last state."""
        with self._lock:
            alarm = self._lookup(alarm_id)
            del self._alarms[alarm_id]
            self._publish_soon("alarmDeleteEvent", alarm)

    # -- inspection (any thread) ----------------------------------------------------------

    def alarms(self) -> list[dict[str, Any]]:
        with self._lock:
            blobs = [alarm.full for alarm in self._alarms.values()]
        return [json.loads(blob) for blob in blobs]

    def has(self, alarm_id: str) -> bool:
        with self._lock:
            return alarm_id in self._alarms

    def reset(self) -> None:
        """Forget every alarm and hub."""
        with self._lock:
            self._alarms.clear()
        self.hubs.clear()

    # -- HTTP handlers (serving loop) ---------------------------------------------------

    def _retrieve(self, _: Request, params: dict[str, str]) -> Response:
        with self._lock:
            alarm = self._alarms.get(params["id"])
            if alarm is None:
                raise ApiError(404, "notFound", f"No alarm with id {params['id']}")
            return json_response(200, alarm.full)

    def _list(self, request: Request, _: dict[str, str]) -> Response:
        for name, allowed in _ENUMS.items():
            enum_param(request, name, allowed)
        equal = {
            name: value
            for name in _EQUALITY_FILTERS
            if (value := request.query_value(name)) is not None
        }
        bounds = date_bounds(request, _DATE_FILTERS)
        affecting = bool_param(request, "serviceAffecting")
        service_id = request.query_value("affectedServiceId")
        correlated_id = request.query_value("correlatedAlarmId")
        with self._lock:
            blobs = [
                alarm.common
                for alarm in self._alarms.values()
                if all(alarm.body.get(k) == v for k, v in equal.items())
                and within(alarm.dates, bounds)
                and (affecting is None or alarm.body.get("serviceAffecting") is affecting)
                and (service_id is None or service_id in _ids(alarm.body, "affectedService"))
                and (correlated_id is None or correlated_id in _ids(alarm.body, "correlatedAlarm"))
            ]
        return page_response(request, blobs, max_page_size=self._ctx.max_page_size)

    # -- helpers ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        return now_ms(self._ctx.clock())

    def _href(self, alarm_id: str) -> str:
        base = self._ctx.public_url or "http://localhost"
        return f"{base}{self._base}alarm/{alarm_id}"

    def _lookup(self, alarm_id: str) -> _Alarm:
        alarm = self._alarms.get(alarm_id)
        if alarm is None:
            raise KeyError(alarm_id)
        return alarm

    def _change(self, alarm: _Alarm, **changes: Any) -> None:
        now = self._now()
        alarm.body.update(changes)
        alarm.body["alarmChangedTime"] = format_time(now)
        alarm.dates["alarmChangedTime"] = now
        alarm.refresh()

    @staticmethod
    def _dates_of(body: dict[str, Any]) -> dict[str, datetime]:
        dates: dict[str, datetime] = {}
        for name in (*_DATE_FILTERS, "alarmRaisedTime"):
            raw = body.get(name)
            if isinstance(raw, str) and (value := parse_datetime(raw)) is not None:
                dates[name] = value
        return dates

    def _publish_soon(self, event_type: str, alarm: _Alarm) -> None:
        """Notify from any thread; the event carries the alarm as it is now (called with
        the lock held, so that it is exactly the state this change made)."""
        event = {
            "eventId": self._ctx.new_id(),
            "eventTime": format_time(self._now()),
            "eventType": event_type,
            "event": {"alarm": json.loads(alarm.full)},
        }
        self._ctx.scheduler.call_later(0.0, lambda: self._publish([event]))

    def _publish(self, events: Sequence[dict[str, Any]]) -> None:
        self._ctx.notifier.publish(self.hubs, self.notification_base, events)


def _ids(body: dict[str, Any], name: str) -> set[str]:
    refs = body.get(name)
    if not isinstance(refs, list):
        return set()
    return {str(ref["id"]) for ref in refs if isinstance(ref, dict) and "id" in ref}
