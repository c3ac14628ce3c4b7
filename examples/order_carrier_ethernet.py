"""Order a Carrier Ethernet EVC with a typed payload and read it back typed.

Starts a mock seller on loopback and builds the EVC's service configuration as a
model, `CarrierEthernetEvc` (the Allegro Carrier Ethernet EVC schema), by field name:
the IDE knows every field and the model checks each value as it is built. Orders the
EVC at Allegro, waits for the order to complete and reads the order back: its service
configuration is a `CarrierEthernetEvc` again. A payload given as a dict is checked
against the same model before it is sent.
Run with `python examples/order_carrier_ethernet.py`.
"""

from __future__ import annotations

from lso_client import AllegroClient, RequestValidationError
from lso_client.testing import MockSeller, example_service_order
from lso_client.types.payloads.allegro.carrier_ethernet import (
    CarrierEthernetEvc,
    CarrierEthernetSls,
    ConnectionTypeWithRooted,
    EnabledDisabled,
    OneWayFrameDelayPmMetric,
    OrderedPair,
    SlsCosNameEntry,
    TimeDuration,
    TimeDurationUnits,
)


def say(text: str) -> None:
    print(text, flush=True)


def evc_configuration() -> CarrierEthernetEvc:
    """A point-to-point EVC with a 10 ms frame delay objective in each direction."""
    pairs = [
        OrderedPair(
            from_carrier_ethernet_service_end_point=a, to_carrier_ethernet_service_end_point=z
        )
        for a, z in (("EP-LON-1", "EP-MAN-1"), ("EP-MAN-1", "EP-LON-1"))
    ]
    return CarrierEthernetEvc(
        identifier="EVC-LON-MAN-01",
        evc_type=ConnectionTypeWithRooted.point_to_point,
        c_tag_pcp_preservation=EnabledDisabled.enabled,
        list_of_cos_names=["H"],
        maximum_frame_size=1522,
        carrier_ethernet_service_level_specification=CarrierEthernetSls(
            time_duration=TimeDuration(
                time_duration_value=30, time_duration_units=TimeDurationUnits.day
            ),
            sls_cos_name_entry=[
                SlsCosNameEntry(
                    cos_name="H",
                    one_way_frame_delay_pm_metric=[
                        OneWayFrameDelayPmMetric(
                            ordered_pair_list=pairs,
                            one_way_fd_percentile=99.9,
                            one_way_fd_objective=TimeDuration(
                                time_duration_value=10, time_duration_units=TimeDurationUnits.ms
                            ),
                        )
                    ],
                )
            ],
        ),
    )


def describe(evc: CarrierEthernetEvc) -> str:
    sls = evc.carrier_ethernet_service_level_specification
    assert sls is not None and sls.sls_cos_name_entry is not None
    delay = (sls.sls_cos_name_entry[0].one_way_frame_delay_pm_metric or [])[0]
    objective = delay.one_way_fd_objective
    assert objective is not None and evc.evc_type is not None
    return (
        f"{type(evc).__name__} {evc.identifier}, {evc.evc_type.value},"
        f" {evc.maximum_frame_size}-byte frames, frame delay at most"
        f" {objective.time_duration_value} {objective.time_duration_units} at the"
        f" {delay.one_way_fd_percentile}th percentile"
    )


def main() -> None:
    with (
        MockSeller(step_delay=0.05) as seller,
        AllegroClient(seller.url, token="demo-token") as client,
    ):
        say(f"mock seller at {seller.url}")
        evc = evc_configuration()
        say(f"built: {describe(evc)}")

        body = example_service_order("allegro", items=1, external_id="BUY-EVC-0001")
        body["serviceOrderItem"][0]["service"]["serviceConfiguration"] = evc
        order = client.service_orders.create(body)
        say(f"-> order {order.id} ({order.state})")
        done = client.service_orders.wait(order.id, timeout=30, poll_interval=0.05)
        say(f"order {done.id} is {done.state}")

        item = client.service_orders.retrieve(order.id).service_order_item[0]
        configuration = item.service.service_configuration
        assert isinstance(configuration, CarrierEthernetEvc)
        say(f"read back: {describe(configuration)}")
        say(f"same payload as sent: {configuration == evc}")

        bad = example_service_order("allegro", items=1)
        bad["serviceOrderItem"][0]["service"]["serviceConfiguration"] = {
            "@type": evc.type,
            "maximumFrameSize": "jumbo",
        }
        try:
            client.service_orders.create(bad)
        except RequestValidationError as error:
            say(f"refused before sending: {error}")


if __name__ == "__main__":
    main()
