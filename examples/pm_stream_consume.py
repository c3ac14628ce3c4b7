"""PM streaming end to end: start a PM job, subscribe over Kafka, consume typed measurements.

Starts a mock seller with a real Kafka-protocol broker on loopback (`kafka=True`, which
needs `pip install 'lso-client[kafka,test-broker]'`), subscribes to the Carrier
Ethernet performance statistics topic over Kafka, runs a performance job of two
15-minute reporting periods to completion, then consumes the stream the job produced:
one typed message per 5-minute measurement, read at least once and committed as it
goes. The stream ends after five seconds without a message (`idle_timeout`); without
it, it waits for more. Finally it unsubscribes.
Run with `python examples/pm_stream_consume.py`.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from lso_client import LegatoClient, payloads
from lso_client.testing import MockSeller
from lso_client.types.payloads.legato.carrier_ethernet import (
    CarrierEthernetPerformanceMonitoringConfiguration,
    CarrierEthernetPerformanceMonitoringResults,
)

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


def main() -> None:
    with (
        MockSeller(step_delay=0.01, kafka=True) as seller,
        LegatoClient(seller.url, token="demo-token") as client,
    ):
        print(f"mock seller at {seller.url}, Kafka broker at {seller.kafka.address}")
        subscription = client.streaming_subscriptions.create(
            {"topicId": "ce-performance-statistics", "protocol": "kafka"}
        )
        print(f"-> subscription {subscription.id} over kafka")

        job = client.performance_jobs.create_and_wait(job_body(periods=2), wait_timeout=60)
        print(f"performance job {job.id} is {job.state}")
        seller.kafka.flush()  # the mock seller publishes in the background

        seen = 0
        with client.streaming_subscriptions.consume(subscription, idle_timeout=5) as stream:
            for message in stream:
                seen += 1
                # A CePerformanceStatisticsMessage: its event's key is typed; the mock
                # seller puts the job's measurement (a PM results payload) in its metrics.
                assert message.event is not None and message.event.key is not None
                metrics = message.event.to_dict()["metrics"]
                (sent,) = metrics["measurementData"]
                data = payloads.model_for(sent["@type"]).model_validate(sent)
                assert isinstance(data, CarrierEthernetPerformanceMonitoringResults)
                start = metrics["measurementTime"]["measurementStartDate"][11:16]
                print(
                    f"  <- {message.event_type} {message.event.key.service_id} from {start}:"
                    f" {data.rx_ipv4} IPv4 frames in, utilization in {data.utilization_in}%"
                )
        print(f"consumed {seen} messages")

        client.streaming_subscriptions.delete(subscription.id)
        print(f"-> unsubscribed {subscription.id}")


if __name__ == "__main__":
    main()
