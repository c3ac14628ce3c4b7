"""PM streaming end to end: start a PM job, subscribe over Kafka, consume typed measurements.

Starts a mock seller with a real Kafka-protocol broker on loopback (`kafka=True`, which
needs `pip install 'lso-client[kafka,test-broker]'`), subscribes to two topics over
Kafka, runs a performance job of two 15-minute reporting periods to completion, then
consumes the streams the job produced, one message per 5-minute measurement, read at
least once and committed as it goes:

- `ce-performance-statistics` carries the event the PM streaming guide shows
  (`CePerformanceStatistics`), which the SDK types by default;
- `ce-frame-delay` carries, in this mock seller, the PM report's content item itself.
  The spec leaves a seller's event open, so the buyer names its shape with a model built
  from the SDK's public models (`ReportItemMessage` below); the measurements inside are
  then typed by the payload models, as in a report read over HTTP.

A stream ends after five seconds without a message (`idle_timeout`); without it, it
waits for more. Finally it unsubscribes.
Run with `python examples/pm_stream_consume.py`.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from lso_client import LegatoClient
from lso_client.testing import MockSeller
from lso_client.types import MefModel
from lso_client.types.payloads.legato.carrier_ethernet import (
    CarrierEthernetPerformanceMonitoringConfiguration,
    CarrierEthernetPerformanceMonitoringResults,
)
from lso_client.types.performance_monitoring_v5 import ReportContentItem
from lso_client.types.streaming_message_v1 import CePerformanceStatisticsMessage, Message

SERVICE_ID = "evc-0042"


def job_body(periods: int) -> dict[str, Any]:
    """A recurring `PerformanceJob_Create` with its profile inline: 15-minute reports of
    5-minute bins, ending after `periods` reports."""
    start = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    return {
        "description": f"PM of {SERVICE_ID}",
        "monitoredObject": {"@type": "ServiceRef", "serviceId": SERVICE_ID},
        "performanceProfile": {
            "@type": "PerformanceProfileValue",
            "jobType": "proactive",
            "jobPriority": 3,
            "granularity": {"timeDurationValue": 5, "timeDurationUnits": "MIN"},
            "reportingPeriod": {"timeDurationValue": 15, "timeDurationUnits": "MIN"},
            "outputFormat": "json",
            "resultFormat": "payload",
            "serviceSpecificConfiguration": CarrierEthernetPerformanceMonitoringConfiguration(
                interface="ge-0/0/12", rx_ipv4=True, utilization_in=True
            ),
        },
        "scheduleDefinition": {
            "scheduleDefinitionStartTime": start.isoformat(),
            "scheduleDefinitionEndTime": (start + timedelta(minutes=15 * periods)).isoformat(),
            "recurringSchedule": {"minute": "*/15"},
        },
    }


class ReportItemEvent(MefModel):
    """The event of the mock seller's report topics: what was measured and the report's
    content item (its measurement data are PM results payloads)."""

    key: dict[str, Any]
    metrics: ReportContentItem


class ReportItemMessage(Message):
    """A message of a report topic, as the buyer declares it."""

    event: ReportItemEvent


def main() -> None:
    with (
        MockSeller(step_delay=0.01, kafka=True) as seller,
        LegatoClient(seller.url, token="demo-token") as client,
    ):
        print(f"mock seller at {seller.url}, Kafka broker at {seller.kafka.address}")
        statistics, reports = (
            client.streaming_subscriptions.create({"topicId": topic, "protocol": "kafka"})
            for topic in ("ce-performance-statistics", "ce-frame-delay")
        )
        print(f"-> subscriptions {statistics.id} and {reports.id} over kafka")

        job = client.performance_jobs.create_and_wait(job_body(periods=2), wait_timeout=60)
        print(f"performance job {job.id} is {job.state}")
        seller.kafka.flush()  # the mock seller publishes in the background

        seen = 0
        with client.streaming_subscriptions.consume(statistics, idle_timeout=5) as stream:
            for message in stream:
                seen += 1
                assert isinstance(message, CePerformanceStatisticsMessage)
                event = message.event
                assert event is not None and event.key is not None and event.metrics is not None
                delay, loss = (
                    event.metrics.one_way_frame_delay,
                    event.metrics.one_way_frame_loss_ratio,
                )
                assert delay is not None and loss is not None
                print(
                    f"  <- {message.event_type} {event.key.service_id}:"
                    f" frame delay {delay.measured_one_way_fd} ms,"
                    f" frame loss ratio {loss.measured_one_way_flr}"
                )
        print(f"consumed {seen} statistics messages")

        seen = 0
        with client.streaming_subscriptions.consume(
            reports, model=ReportItemMessage, idle_timeout=5
        ) as items:
            for item in items:
                seen += 1
                metrics = item.event.metrics
                (data,) = metrics.measurement_data
                assert isinstance(data, CarrierEthernetPerformanceMonitoringResults)
                start = metrics.measurement_time.measurement_start_date
                print(
                    f"  <- {item.event_type} {item.event.key['serviceId']} from {start:%H:%M}:"
                    f" {data.rx_ipv4} IPv4 frames in, utilization in {data.utilization_in}%"
                )
        print(f"consumed {seen} report messages")

        for subscription in (statistics, reports):
            client.streaming_subscriptions.delete(subscription.id)
        print(f"-> unsubscribed {statistics.id} and {reports.id}")


if __name__ == "__main__":
    main()
