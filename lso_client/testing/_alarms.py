"""Alarms / Threshold Crossing Alerts (v3) as an API module of the mock seller.

The seller raises alarms (a test calls `raise_alarm`); the buyer lists and
retrieves them and hears of every change through its hub: `alarmCreateEvent`,
`alarmStateChangeEvent` (acknowledged, cleared), `alarmAttributeValueChangeEvent`
(a comment) and `alarmDeleteEvent`, each carrying the full Alarm in `event.alarm`.
"""

from __future__ import annotations

import json
from typing import Any

from ._api import ApiModule
from ._filters import Body, Filters, field_at
from ._http import Route
from ._runtime import HubStore, SellerContext, format_time
from ._store import Record, Store

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
_ENUMS = {
    "alarmType": ALARM_TYPES,
    "perceivedSeverity": SEVERITIES,
    "plannedOutageIndicator": OUTAGE_INDICATORS,
    "state": ALARM_STATES,
}
_FILTERS = Filters(
    equals={
        name: field_at(name) for name in (*_ENUMS, "id", "alarmedObjectType", "reportingSystemId")
    }
    | {
        "affectedServiceId": field_at("affectedService", "id"),
        "correlatedAlarmId": field_at("correlatedAlarm", "id"),
    },
    dates={
        name: field_at(name)
        for name in ("alarmChangedTime", "alarmClearedTime", "alarmReportingTime")
    },
    enums=_ENUMS,
    flags={"serviceAffecting": field_at("serviceAffecting")},
)


def _common(body: Body) -> Body:
    return {k: body[k] for k in _COMMON if k in body}


class AlarmManagementApi(ApiModule):
    """`GET alarm`, `GET alarm/{id}` and the hub at one reference point (v3)."""

    hubs: HubStore

    def __init__(self, reference_point: str, context: SellerContext) -> None:
        super().__init__(context)
        self.reference_point = reference_point
        self.notification_base = f"/mefApi/{reference_point}/alarmNotification/v3/"
        self.base_path = f"/mefApi/{reference_point}/alarmManagement/v3/"
        # The alarm hub defines 400 (not 422) for an invalid registration.
        self.hubs = HubStore(context.new_id, validation_status=400)
        self._alarms: Store[Record] = Store("alarm", _FILTERS, _common)

    def routes(self) -> list[Route]:
        return [
            Route("GET", "alarm", self.list_handler(self._alarms)),
            Route("GET", "alarm/{id}", self.retrieve_handler(self._alarms)),
            *self.hubs.routes(),
        ]

    def stores(self) -> list[Store[Record]]:
        return [self._alarms]

    # -- control (any thread) -----------------------------------------------------------

    def raise_alarm(self, **fields: Any) -> str:
        """Raise an alarm and notify `alarmCreateEvent`; returns its id.

        `fields` are Alarm attributes by wire name (`perceivedSeverity="critical"`,
        `affectedService=[{"id": ...}]`, ...) over defaults that describe a TCA
        stateful-set alarm on a service; a field given as None is left out (no MEF field
        is nullable). Enumerated values are checked (ValueError).
        """
        now = self.now()
        alarm_id = str(fields.pop("id", None) or self._ctx.new_id())
        body: dict[str, Any] = {
            "id": alarm_id,
            "href": self.href(f"alarm/{alarm_id}"),
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
        body = {name: value for name, value in body.items() if value is not None}
        for name, allowed in _ENUMS.items():
            if name in body and body[name] not in allowed:
                raise ValueError(f"{name} {body[name]!r} is not one of {sorted(allowed)}")
        if body["state"] == "cleared" or body["perceivedSeverity"] == "cleared":
            raise ValueError("an alarm is raised uncleared; use clear_alarm to clear it")
        with self._lock:
            if alarm_id in self._alarms:
                raise ValueError(f"an alarm with id {alarm_id} exists")
            alarm = self._alarms.save(Record(alarm_id, body))
            self._notify("alarmCreateEvent", alarm)
        return alarm_id

    def acknowledge_alarm(self, alarm_id: str) -> None:
        """`unAcknowledged` → `acknowledged`, notified as `alarmStateChangeEvent`."""
        with self._lock:
            alarm = self._lookup(alarm_id)
            if alarm.body["state"] != "unAcknowledged":
                raise ValueError(f"alarm {alarm_id} is {alarm.body['state']}, not unAcknowledged")
            self._change(alarm, state="acknowledged")
            self._notify("alarmStateChangeEvent", alarm)

    def clear_alarm(self, alarm_id: str) -> None:
        """State and perceivedSeverity `cleared`, notified as `alarmStateChangeEvent`."""
        with self._lock:
            alarm = self._lookup(alarm_id)
            if alarm.body["state"] == "cleared":
                raise ValueError(f"alarm {alarm_id} is already cleared")
            alarm.body["alarmClearedTime"] = format_time(self.now())
            attributes = alarm.body.get("alarmSpecificAttributes")
            if isinstance(attributes, dict) and attributes.get("@type") == TCA_STATEFUL_SET:
                # A stateful TCA is cleared by the matching clear-alarm payload.
                alarm.body["alarmSpecificAttributes"] = {**attributes, "@type": TCA_STATEFUL_CLEAR}
            self._change(alarm, state="cleared", perceivedSeverity="cleared")
            self._notify("alarmStateChangeEvent", alarm)

    def comment_alarm(self, alarm_id: str, text: str, *, user: str = "seller-noc") -> None:
        """Add a comment, notified as `alarmAttributeValueChangeEvent`."""
        with self._lock:
            alarm = self._lookup(alarm_id)
            entry = {
                "description": text,
                "time": format_time(self.now()),
                "userIdentifier": user,
                "systemIdentifier": "seller-nms-1",
            }
            self._change(alarm, comment=[*alarm.body.get("comment", []), entry])
            self._notify("alarmAttributeValueChangeEvent", alarm)

    def delete_alarm(self, alarm_id: str) -> None:
        """Remove an alarm, notified as `alarmDeleteEvent` with its last state."""
        with self._lock:
            alarm = self._lookup(alarm_id)
            self._alarms.remove(alarm_id)
            self._notify("alarmDeleteEvent", alarm)

    # -- inspection (any thread) ----------------------------------------------------------

    def alarms(self) -> list[dict[str, Any]]:
        with self._lock:
            blobs = [alarm.json for alarm in self._alarms.all()]
        return [json.loads(blob) for blob in blobs]

    def has(self, alarm_id: str) -> bool:
        with self._lock:
            return alarm_id in self._alarms

    def reset(self) -> None:
        """Forget every alarm and hub."""
        with self._lock:
            self._alarms.clear()
        self.hubs.clear()

    # -- helpers ---------------------------------------------------------------------------

    def _lookup(self, alarm_id: str) -> Record:
        alarm = self._alarms.get(alarm_id)
        if alarm is None:
            raise KeyError(alarm_id)
        return alarm

    def _change(self, alarm: Record, **changes: Any) -> None:
        alarm.body.update(changes)
        alarm.body["alarmChangedTime"] = format_time(self.now())
        self._alarms.save(alarm)

    def _notify(self, event_type: str, alarm: Record) -> None:
        """Notify from any thread; the event carries the alarm as it is now (called with
        the lock held, so that it is exactly the state this change made)."""
        self.publish_soon([self.event(event_type, {"alarm": json.loads(alarm.json)})])
