"""Order an IP VPN (an IPVC) with a typed payload at Legato and read it back typed.

Starts a mock seller on loopback and builds the IPVC's service configuration as a
model, `Ipvc` (the Legato IPVC schema), by field name; leaving out a field the schema
requires fails as the model is built, before any request. Orders the IPVC at Legato,
waits for the order to complete and reads the order back: its service configuration
is an `Ipvc` again, its service level objectives typed too.
Run with `python examples/order_ip.py`.
"""

from __future__ import annotations

from pydantic import ValidationError

from lso_client import LegatoClient
from lso_client.testing import MockSeller, example_service_order
from lso_client.types.payloads.legato.ip import (
    EnabledDisabled,
    IpSls,
    Ipvc,
    OneWayMeanPacketDelay,
    PacketDelivery,
    ServiceTopology,
    ServiceUptime,
)


def say(text: str) -> None:
    print(text, flush=True)


def ipvc_configuration() -> Ipvc:
    """A multipoint IPVC of three classes of service, 5 ms mean delay for the first."""
    return Ipvc(
        ipvc_identifier="IPVC-HQ-BRANCHES",
        ipvc_topology=ServiceTopology.multipoint,
        packet_delivery=PacketDelivery.standard_routing,
        dscp_preservation=EnabledDisabled.enabled,
        maximum_transfer_unit=1500,
        fragmentation=EnabledDisabled.disabled,
        reserved_prefixes=[],
        list_of_class_of_service_names=["real-time", "business", "best-effort"],
        service_level_specification=IpSls(
            one_way_mean_packet_delay=[
                OneWayMeanPacketDelay(cos_name="real-time", mean_packet_delay_objective=5.0)
            ],
            service_uptime=[ServiceUptime(service_uptime_objective=99.95)],
        ),
    )


def describe(ipvc: Ipvc) -> str:
    sls = ipvc.service_level_specification
    assert sls is not None and sls.one_way_mean_packet_delay and sls.service_uptime
    delay = sls.one_way_mean_packet_delay[0]
    return (
        f"{type(ipvc).__name__} {ipvc.ipvc_identifier}, {ipvc.ipvc_topology.value},"
        f" MTU {ipvc.maximum_transfer_unit}, classes {ipvc.list_of_class_of_service_names},"
        f" {delay.cos_name} mean delay {delay.mean_packet_delay_objective} ms,"
        f" uptime {sls.service_uptime[0].service_uptime_objective}%"
    )


def main() -> None:
    with (
        MockSeller(step_delay=0.05) as seller,
        LegatoClient(seller.url, token="demo-token") as client,
    ):
        say(f"mock seller at {seller.url}")
        try:
            Ipvc.model_validate({"ipvcIdentifier": "IPVC-INCOMPLETE"})
        except ValidationError as error:
            missing = sorted(str(e["loc"][0]) for e in error.errors() if e["type"] == "missing")
            say(f"an incomplete IPVC is not built: missing {missing}")

        ipvc = ipvc_configuration()
        say(f"built: {describe(ipvc)}")
        body = example_service_order("legato", items=1, external_id="BUY-IPVC-0001")
        body["serviceOrderItem"][0]["service"]["serviceConfiguration"] = ipvc
        order = client.service_orders.create(body)
        say(f"-> order {order.id} ({order.state})")
        done = client.service_orders.wait(order.id, timeout=30, poll_interval=0.05)
        say(f"order {done.id} is {done.state}")

        item = client.service_orders.retrieve(order.id).service_order_item[0]
        configuration = item.service.service_configuration
        assert isinstance(configuration, Ipvc)
        say(f"read back: {describe(configuration)}")
        say(f"same payload as sent: {configuration == ipvc}")


if __name__ == "__main__":
    main()
