"""Order an SD-WAN virtual connection with a typed payload at Interlude and read it
back typed.

Starts a mock seller on loopback and builds the SD-WAN virtual connection's service
configuration as a model, `SwVc` (the Allegro SD-WAN schema, which Interlude orders
use too), by field name: zones, a full-mesh virtual topology, a policy and an
application flow. Orders it at Interlude, waits for the order to complete and reads
the order back: its service configuration is an `SwVc` again.
Run with `python examples/order_sd_wan.py`.
"""

from __future__ import annotations

from lso_client import InterludeClient
from lso_client.testing import MockSeller, example_service_order
from lso_client.types.payloads.allegro.sd_wan import (
    ApplicationFlowSpecification,
    EncryptionType,
    InternetBreakout,
    Policy,
    PolicyCriteria,
    SwVc,
    VirtualTopology,
    VtType,
    Zone,
)


def say(text: str) -> None:
    print(text, flush=True)


def sd_wan_configuration() -> SwVc:
    """Head office and branches in one zone, a full mesh, business traffic encrypted."""
    return SwVc(
        sw_vc_identifier="SWVC-ACME-01",
        zone_list=[Zone(zone_name="corporate")],
        virtual_topologies_list=[VirtualTopology(vt_name="full-mesh", vt_type=VtType.mpt_to_mpt)],
        policy_list=[
            Policy(
                pol_name="business-critical",
                pol_cl=[
                    PolicyCriteria(
                        encryption_type=EncryptionType.required_always,
                        internet_breakout=InternetBreakout.disabled,
                    )
                ],
            )
        ],
        application_flow_specification_list=[
            ApplicationFlowSpecification(application_flow_name="erp"),
            ApplicationFlowSpecification(application_flow_name="video-conferencing"),
        ],
    )


def describe(swvc: SwVc) -> str:
    zones = [z.zone_name for z in swvc.zone_list or []]
    topologies = [t.vt_name for t in swvc.virtual_topologies_list or []]
    policies = [p.pol_name for p in swvc.policy_list or []]
    flows = [f.application_flow_name for f in swvc.application_flow_specification_list or []]
    return (
        f"{type(swvc).__name__} {swvc.sw_vc_identifier}, zones {zones},"
        f" topologies {topologies}, policies {policies}, application flows {flows}"
    )


def main() -> None:
    with (
        MockSeller(step_delay=0.05) as seller,
        InterludeClient(seller.url, token="demo-token") as client,
    ):
        say(f"mock seller at {seller.url}")
        swvc = sd_wan_configuration()
        say(f"built: {describe(swvc)}")
        body = example_service_order("interlude", items=1, external_id="BUY-SWVC-0001")
        body["serviceOrderItem"][0]["service"]["serviceConfiguration"] = swvc
        order = client.service_orders.create(body)
        say(f"-> order {order.id} ({order.state})")
        done = client.service_orders.wait(order.id, timeout=30, poll_interval=0.05)
        say(f"order {done.id} is {done.state}")

        item = client.service_orders.retrieve(order.id).service_order_item[0]
        configuration = item.service.service_configuration
        assert isinstance(configuration, SwVc)
        say(f"read back: {describe(configuration)}")
        say(f"same payload as sent: {configuration == swvc}")


if __name__ == "__main__":
    main()
