"""The threshold-crossing-alert alarm payloads (an alarm's `alarmSpecificAttributes`) are
typed: the mock seller raises and clears TCAs whose payloads are valid against them, and
a buyer reads them typed, retrieved or notified, with no deviation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from lso_client import LegatoClient, Notification, NotificationListener, payloads
from lso_client.testing import MockSeller
from lso_client.testing._alarms import TCA_STATEFUL_CLEAR, TCA_STATEFUL_SET
from lso_client.types.payloads.allegro.alarm.tca_stateful_clear_alarm import (
    TcaStatefulClearAlarm,
)
from lso_client.types.payloads.allegro.alarm.tca_stateful_set_alarm import TcaStatefulSetAlarm
from lso_client.types.payloads.allegro.alarm.tca_stateless_alarm import TcaStatelessAlarm

TCA_STATELESS = "urn:mef:lso:spec:service:tca-stateless-alarm:v1.0.0:all"
EVENTS = ["alarmCreateEvent", "alarmAttributeValueChangeEvent", "alarmStateChangeEvent"]


@pytest.fixture(scope="module")
def seller() -> Iterator[MockSeller]:
    with MockSeller(step_delay=0.01) as running:
        yield running


def test_each_tca_urn_has_its_model() -> None:
    assert payloads.model_for(TCA_STATEFUL_SET) is TcaStatefulSetAlarm
    assert payloads.model_for(TCA_STATEFUL_CLEAR) is TcaStatefulClearAlarm
    assert payloads.model_for(TCA_STATELESS) is TcaStatelessAlarm


def test_a_tca_payload_missing_a_required_measure_is_refused() -> None:
    body: dict[str, Any] = {
        "@type": TCA_STATELESS,
        "performanceMetricName": "one-way-packet-loss",
        "performanceMetricValue": 0.4,
        "tcaPerformanceThresholdValue": 0.1,
    }
    with pytest.raises(ValidationError) as caught:
        TcaStatelessAlarm.model_validate(body)
    assert [e["loc"] for e in caught.value.errors()] == [("numberOfPmMetricCalculationIntervals",)]
    typed = TcaStatelessAlarm.model_validate({**body, "numberOfPmMetricCalculationIntervals": 3})
    assert typed.number_of_pm_metric_calculation_intervals == 3
    assert typed.to_dict() == {**body, "numberOfPmMetricCalculationIntervals": 3}


def test_the_mock_sellers_tca_is_retrieved_typed_set_then_clear(seller: MockSeller) -> None:
    seller.reset()
    alarm_id = seller.raise_alarm("legato", affectedService=[{"id": "evc-1"}])
    with LegatoClient(seller.url, token="t") as client:
        raised = client.alarms.retrieve(alarm_id)
        attributes = raised.alarm_specific_attributes
        assert type(attributes) is TcaStatefulSetAlarm
        assert attributes.performance_metric_value > attributes.tca_performance_threshold_value
        assert raised.spec_deviations == []
        seller.clear_alarm(alarm_id)
        seller.wait_idle()
        cleared = client.alarms.retrieve(alarm_id)
        assert type(cleared.alarm_specific_attributes) is TcaStatefulClearAlarm
        assert cleared.spec_deviations == []
    with LegatoClient(seller.url, token="t", strict=True) as client:
        assert type(client.alarms.retrieve(alarm_id).alarm_specific_attributes) is (
            TcaStatefulClearAlarm
        )


def test_the_mock_sellers_tca_is_notified_typed(seller: MockSeller) -> None:
    seller.reset()
    seen: list[Notification] = []
    with (
        NotificationListener(reference_point="legato") as listener,
        LegatoClient(seller.url, token="t") as client,
    ):
        listener.add_handler(seen.append)
        with client.hubs.alarm_management.subscribe(listener, event_types=EVENTS):
            alarm_id = seller.raise_alarm("legato", affectedService=[{"id": "evc-1"}])
            seller.wait_idle()
            seller.clear_alarm(alarm_id)
            seller.wait_idle()
            assert listener.join(timeout=5)
    kinds = [type(n.event.alarm.alarm_specific_attributes) for n in seen]
    assert kinds[0] is TcaStatefulSetAlarm and kinds[-1] is TcaStatefulClearAlarm
    assert len(seen) >= 2
    assert [n.deviations for n in seen] == [[] for _ in seen]
