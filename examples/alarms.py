"""Alarms and threshold crossing alerts: follow alarms by notification and list them.

Starts a mock seller and a notification listener on loopback and subscribes the
listener to the Alarm Management (v3) hub at Legato. The seller then raises
three alarms on two services (a TCA, a loss of signal and a minor alarm), a
seller operator comments on one, and the alarms are acknowledged, cleared and
one deleted; each change prints the event the listener received. Finally
`alarms.list` is filtered by state, severity, service and time.
Run with `python examples/alarms.py`.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone

from lso_client import LegatoClient, Notification, NotificationListener
from lso_client.testing import MockSeller

_out = threading.Lock()


def say(text: str) -> None:
    """Print a line; notification handlers print from other threads."""
    with _out:
        print(text, flush=True)


def main() -> None:
    with (
        MockSeller(step_delay=0.05) as seller,
        NotificationListener(reference_point="legato") as listener,
        LegatoClient(seller.url, token="demo-token") as client,
    ):
        say(f"mock seller at {seller.url}, listener at {listener.url}")

        @listener.on()
        def show(notification: Notification) -> None:
            alarm = notification.event.alarm
            say(
                f"  <- {notification.event_type:31} alarm {alarm.id}:"
                f" {alarm.state}, {alarm.perceived_severity}"
            )

        def settle() -> None:
            """Wait for the seller's notifications to be delivered and handled."""
            seller.wait_idle()
            listener.join(timeout=5)

        events = [
            "alarmCreateEvent",
            "alarmStateChangeEvent",
            "alarmAttributeValueChangeEvent",
            "alarmDeleteEvent",
        ]
        with client.hubs.alarm_management.subscribe(listener, event_types=events) as sub:
            say(f"subscribed: alarm hub {sub.id}")
            # Defaults: a major TCA (one-way frame delay above its objective).
            tca = seller.raise_alarm("legato", affectedService=[{"id": "evc-0042"}])
            los = seller.raise_alarm(
                "legato",
                alarmType="communicationsAlarm",
                probableCause="lossOfSignal",
                perceivedSeverity="critical",
                alarmDetails="Loss of signal on UNI-1001",
                alarmedObjectType="UNI",
                alarmedObject=[{"id": "UNI-1001", "@referredType": "UNI"}],
                affectedService=[{"id": "evc-0042"}, {"id": "evc-0043"}],
                alarmSpecificAttributes=None,
            )
            minor = seller.raise_alarm(
                "legato",
                perceivedSeverity="minor",
                serviceAffecting=False,
                affectedService=[{"id": "evc-0043"}],
            )
            say("-> the seller raised three alarms")
            settle()
            open_critical = client.alarms.list(
                state="unAcknowledged", perceived_severity="critical"
            )
            say(f"unacknowledged critical alarms: {[a.id for a in open_critical]}")
            changed_since = datetime.now(timezone.utc)

            seller.api("alarm_management", "legato").comment_alarm(
                los, "Fibre cut reported by the field team"
            )
            settle()
            alarm = client.alarms.retrieve(los)
            say(f"alarm {los} comments: {[c.description for c in alarm.comment or []]}")

            seller.acknowledge_alarm(los)
            say(f"-> acknowledged {los}")
            settle()
            seller.clear_alarm(tca)
            say(f"-> cleared {tca}")
            settle()
            cleared = client.alarms.retrieve(tca)
            attributes = cleared.alarm_specific_attributes
            say(
                f"alarm {tca} cleared at {cleared.alarm_cleared_time:%H:%M:%S}, "
                f"payload {attributes.type if attributes else None}"
            )
            seller.delete_alarm(minor)
            say(f"-> deleted {minor}")
            settle()

        say("filters:")
        every = client.alarms.list()
        say(f"  all: {[(a.id, str(a.state)) for a in every]}")
        acknowledged = client.alarms.list(state="acknowledged")
        say(f"  state=acknowledged: {[a.id for a in acknowledged]}")
        critical = client.alarms.list(perceived_severity="critical")
        say(f"  perceivedSeverity=critical: {[a.id for a in critical]}")
        on_service = client.alarms.list(affected_service_id="evc-0042", service_affecting=True)
        say(f"  affectedService evc-0042, service affecting: {[a.id for a in on_service]}")
        recent = client.alarms.list(alarm_changed_time_gt=changed_since, state="cleared")
        say(f"  cleared since {changed_since:%H:%M:%S}: {[a.id for a in recent]}")


if __name__ == "__main__":
    main()
