"""Realistic request bodies, for demos, tests and benchmarks.

`example_service_order()` builds a `ServiceOrder_Create` body the way a buyer's
OSS would: a few items, each with a service payload of a shipped schema (by default
a Carrier Ethernet EVC of two dozen nested fields), notes and contacts. Every payload
is valid against the model generated for its `@type`. The same seed gives the same
body.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

__all__ = [
    "PAYLOAD_URNS",
    "TECHNOLOGIES",
    "example_service_configuration",
    "example_service_order",
    "minimal_service_configuration",
]

Technology = Literal["ce", "ip", "sd-wan"]
TECHNOLOGIES: tuple[Technology, ...] = ("ce", "ip", "sd-wan")

# The payload URN each (schema family, technology) orders. Allegro and Interlude
# share the Allegro service schemas; Legato has its own.
PAYLOAD_URNS: dict[tuple[str, Technology], str] = {
    ("allegro", "ce"): "urn:mef:lso:spec:service:carrier-ethernet-evc:v1.0.0:all",
    ("allegro", "ip"): "urn:mef:lso:spec:service:ipvc:v1.0.0:all",
    ("allegro", "sd-wan"): "urn:mef:lso:spec:service:swvc:v0.0.3:all",
    ("legato", "ce"): "urn:mef:lso:spec:legato:carrier-ethernet-evc:v0.0.1:all",
    ("legato", "ip"): "urn:mef:lso:spec:legato:ipvc:v0.0.4:all",
    ("legato", "sd-wan"): "urn:mef:lso:spec:legato:swVc:v0.0.1:all",
}

_FRAME_SIZES = (1522, 2000, 9216)
_COS_NAMES = ("H", "M", "L")
_REFERENCE_POINTS = ("allegro", "interlude", "legato")


def example_service_configuration(
    rng: random.Random | None = None,
    *,
    reference_point: str = "allegro",
    technology: Technology = "ce",
) -> dict[str, Any]:
    """A service payload of a shipped schema, as a wire-named dict: for `technology`
    "ce" a Carrier Ethernet EVC (two dozen nested fields), "ip" an IPVC, "sd-wan" an
    SD-WAN virtual connection; Allegro's schema for Allegro and Interlude, Legato's
    for Legato."""
    if reference_point not in _REFERENCE_POINTS:
        raise ValueError(f"unknown reference point {reference_point!r}")
    if technology not in TECHNOLOGIES:
        raise ValueError(f"unknown technology {technology!r}: one of {', '.join(TECHNOLOGIES)}")
    rng = rng or random.Random(0)
    family = "legato" if reference_point == "legato" else "allegro"
    return _BUILDERS[family, technology](rng, PAYLOAD_URNS[family, technology])


def minimal_service_configuration(reference_point: str = "allegro") -> dict[str, Any]:
    """The smallest valid Carrier Ethernet EVC payload of `reference_point`'s schema:
    its `@type` and the fields the schema requires."""
    if reference_point != "legato":
        return {"@type": PAYLOAD_URNS["allegro", "ce"]}
    return {
        "@type": PAYLOAD_URNS["legato", "ce"],
        "administrativeState": {"state": "UNLOCKED"},
        "operationalState": {"state": "ENABLED"},
        "cTagPcpPreservation": "ENABLED",
        "cTagDeiPreservation": "ENABLED",
        "connectionType": "POINT_TO_POINT",
        "frameDisposition": {},
        "listOfCosNames": ["H"],
        "maximumFrameSize": 1522,
    }


# ----------------------------------------------------------------------------- Carrier Ethernet


def _end_points(rng: random.Random) -> tuple[str, str]:
    return f"EVC-EP-A-{rng.randint(10000, 99999)}", f"EVC-EP-Z-{rng.randint(10000, 99999)}"


def _allegro_ce(rng: random.Random, urn: str) -> dict[str, Any]:
    a, z = _end_points(rng)
    pairs = [
        {"fromCarrierEthernetServiceEndPoint": a, "toCarrierEthernetServiceEndPoint": z},
        {"fromCarrierEthernetServiceEndPoint": z, "toCarrierEthernetServiceEndPoint": a},
    ]

    def ms(value: int) -> dict[str, Any]:
        return {"timeDurationValue": value, "timeDurationUnits": "MS"}

    return {
        "@type": urn,
        "identifier": f"EVC-{rng.randint(100000, 999999)}",
        "evcType": "POINT_TO_POINT",
        "frameDisposition": {
            "unicast": "DELIVER_UNCONDITIONALLY",
            "multicast": "DELIVER_CONDITIONALLY",
            "broadcast": "DELIVER_CONDITIONALLY",
        },
        "cTagPcpPreservation": "ENABLED",
        "cTagDeiPreservation": rng.choice(("ENABLED", "DISABLED")),
        "listOfCosNames": list(_COS_NAMES),
        "carrierEthernetServiceLevelSpecification": {
            "startTime": "2026-01-01T00:00:00Z",
            "timeDuration": {"timeDurationValue": 30, "timeDurationUnits": "DAY"},
            "slsCosNameEntry": [
                {
                    "cosName": "H",
                    "deltaT": 10,
                    "thresholdC": 0.5,
                    "consecutiveIntervalN": rng.randint(5, 20),
                    "oneWayFrameDelayPmMetric": [
                        {
                            "orderedPairList": pairs,
                            "oneWayFdPercentile": rng.choice((99.0, 99.9)),
                            "oneWayFdObjective": ms(rng.randint(5, 25)),
                        }
                    ],
                    "oneWayFrameLossRatioPmMetric": [
                        {"orderedPairList": pairs, "oneWayFlrObjective": 0.01}
                    ],
                }
            ],
        },
        "maximumFrameSize": rng.choice(_FRAME_SIZES),
        "availableMegLevel": str(rng.randint(2, 6)),
    }


def _legato_ce(rng: random.Random, urn: str) -> dict[str, Any]:
    a, z = _end_points(rng)
    pairs = [{"fromUni": a, "toUni": z}, {"fromUni": z, "toUni": a}]
    return {
        "@type": urn,
        "identifier": f"EVC-{rng.randint(100000, 999999)}",
        "administrativeState": {"state": "UNLOCKED"},
        "operationalState": {"state": "ENABLED"},
        "cTagPcpPreservation": "ENABLED",
        "cTagDeiPreservation": rng.choice(("ENABLED", "DISABLED")),
        "carrierEthernetSls": {
            "timeInterval": {"number": 1, "unit": "month"},
            "startTime": "2026-01-01T00:00:00Z",
            "slsCosNameEntry": [
                {
                    "cosName": "H",
                    "deltaT": 10,
                    "thresholdC": 0.5,
                    "consecutiveIntervalN": rng.randint(5, 20),
                    "oneWayFrameDelayPmMetric": [
                        {
                            "orderedPairList": pairs,
                            "oneWayFdPercentile": rng.choice((99.0, 99.9)),
                            "oneWayFdObjective": {
                                "number": rng.randint(5, 25),
                                "unit": "milliSeconds",
                            },
                        }
                    ],
                    "oneWayFrameLossRatioPmMetric": [
                        {"orderedPairs": pairs, "oneWayFrameLossRatioObjective": 0.01}
                    ],
                    "oneWayAvailabilityPmMetric": [
                        {"orderedPairs": pairs, "oneWayAvailabilityObjective": 99.95}
                    ],
                }
            ],
        },
        "connectionType": "POINT_TO_POINT",
        "frameDisposition": {
            "unicast": "UNCONDITIONALLY",
            "multicast": "CONDITIONALLY",
            "broadcast": "CONDITIONALLY",
        },
        "listOfCosNames": list(_COS_NAMES),
        "maximumFrameSize": rng.choice(_FRAME_SIZES),
        "availableMegLevel": str(rng.randint(2, 6)),
    }


# ----------------------------------------------------------------------------- IP


def _ipv4(rng: random.Random, length: int) -> dict[str, Any]:
    return {
        "ipv4Address": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.0",
        "prefixLength": length,
    }


def _allegro_ip(rng: random.Random, urn: str) -> dict[str, Any]:
    return {
        "@type": urn,
        "identifier": f"IPVC-{rng.randint(100000, 999999)}",
        "ipvcTopology": "MULTIPOINT",
        "packetDelivery": "STANDARD_ROUTING",
        "maximumNumberOfIpv4Routes": {"value": rng.choice((100, 500, 1000))},
        "maximumNumberOfIpv6Routes": {"numOfIpv6RoutesUnlimited": "UNLIMITED"},
        "dscpPreservation": "ENABLED",
        "listOfClassOfServiceNames": list(_COS_NAMES),
        "serviceLevelSpecification": {
            "startTime": "2026-01-01T00:00:00Z",
            "periodOfTime": {"timeDurationValue": 30, "timeDurationUnits": "DAY"},
            "oneWayMeanPacketDelay": [
                {"cosName": "H", "meanPacketDelayObjective": float(rng.randint(5, 25))}
            ],
            "oneWayPacketDelayLossRatio": [{"cosName": "H", "packetLossRatioObjective": 0.1}],
            "serviceUptime": [{"serviceUptimeObjective": 99.95}],
        },
        "maximumTransferUnit": rng.choice((1500, 9000)),
        "pathMtuDiscovery": "ENABLED",
        "fragmentation": "DISABLED",
        "reservedPrefixes": [{"ipv4Prefix": _ipv4(rng, 24)}],
    }


def _legato_ip(rng: random.Random, urn: str) -> dict[str, Any]:
    return {
        "@type": urn,
        "ipvcIdentifier": f"IPVC-{rng.randint(100000, 999999)}",
        "ipvcTopology": "MULTIPOINT",
        "packetDelivery": "STANDARD_ROUTING",
        "maximumNumberOfIpv4Routes": rng.choice((100, 500, 1000)),
        "dscpPreservation": "ENABLED",
        "serviceLevelSpecification": {
            "startTime": "2026-01-01T00:00:00Z",
            "periodOfTime": {"timeDurationValue": 30, "timeDurationUnits": "DAY"},
            "oneWayMeanPacketDelay": [
                {"cosName": "H", "meanPacketDelayObjective": float(rng.randint(5, 25))}
            ],
            "oneWayPacketDelayLossRatio": [{"cosName": "H", "packetLossRatioObjective": 0.1}],
            "serviceUptime": [{"serviceUptimeObjective": 99.95}],
        },
        "maximumTransferUnit": rng.choice((1500, 9000)),
        "pathMtuDiscovery": "ENABLED",
        "fragmentation": "DISABLED",
        "reservedPrefixes": [{"ipv4Prefix": _ipv4(rng, 24)}],
        "listOfClassOfServiceNames": list(_COS_NAMES),
    }


# ----------------------------------------------------------------------------- SD-WAN


def _sd_wan(rng: random.Random, urn: str, *, legato: bool) -> dict[str, Any]:
    sites = [f"SWVC-EP-{rng.randint(1000, 9999)}" for _ in range(3)]
    zone = {"zoneName": "corporate", "zonePrefixes": [{"ipv4Prefix": _ipv4(rng, 16)}]}
    criteria: Any = {"dav4": [_ipv4(rng, 24)]}
    body: dict[str, Any] = {
        "@type": urn,
        "swVcIdentifier": f"SWVC-{rng.randint(100000, 999999)}",
        "reservedPrefixes": [{"ipv4Prefix": _ipv4(rng, 24)}],
        "zoneList": [zone],
        "virtualTopologiesList": [
            {
                "vtName": "full-mesh",
                "vtType": "MPT_TO_MPT",
                "vtEp": {"multipointToMultipoint": sites},
            }
        ],
        "performanceTimeIntervals": {"evalInterval": 60, "arrivalIntervals": 10, "irDuration": 100},
        "policyList": [
            {
                "polName": "business-critical",
                "polCl": [
                    {
                        "encryptionType": "REQUIRED_ALWAYS",
                        "internetBreakout": "DISABLED",
                        "publicPrivate": "EITHER",
                        "backup": "ENABLED",
                        "billingMethod": "FLAT_RATE_ONLY",
                    }
                ],
            }
        ],
        "applicationFlowSpecificationList": [
            {
                "applicationFlowName": "erp",
                "applicationFlowCriteria": criteria if legato else [criteria],
            }
        ],
    }
    if legato:
        body["ucsList"] = [f"UCS-{rng.randint(1000, 9999)}"]
    return body


def _allegro_sd_wan(rng: random.Random, urn: str) -> dict[str, Any]:
    return _sd_wan(rng, urn, legato=False)


def _legato_sd_wan(rng: random.Random, urn: str) -> dict[str, Any]:
    return _sd_wan(rng, urn, legato=True)


_BUILDERS = {
    ("allegro", "ce"): _allegro_ce,
    ("allegro", "ip"): _allegro_ip,
    ("allegro", "sd-wan"): _allegro_sd_wan,
    ("legato", "ce"): _legato_ce,
    ("legato", "ip"): _legato_ip,
    ("legato", "sd-wan"): _legato_sd_wan,
}

_DESCRIPTIONS: dict[Technology, tuple[str, str]] = {
    "ce": ("Carrier Ethernet EVC between two data centres", "EVC leg"),
    "ip": ("IP VPN between the head office and two branches", "IPVC"),
    "sd-wan": ("SD-WAN between the head office and the branches", "SD-WAN connection"),
}


# ----------------------------------------------------------------------------- orders


def example_service_order(
    reference_point: str = "allegro",
    *,
    items: int = 2,
    seed: int = 0,
    external_id: str | None = None,
    now: datetime | None = None,
    technology: Technology = "ce",
) -> dict[str, Any]:
    """A `ServiceOrder_Create` body for Allegro or Interlude (v1) or Legato (v5)
    ordering, each item carrying an `example_service_configuration()` of `technology`."""
    if reference_point not in _REFERENCE_POINTS:
        raise ValueError(f"unknown reference point {reference_point!r}")
    rng = random.Random(seed)
    now = now or datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
    description, leg = _DESCRIPTIONS[technology]
    contact = {
        "role": "technicalContact",
        "name": "Network Operations",
        "emailAddress": "noc@buyer.example",
        "number": "+44 20 7946 0000",
        "organization": "Buyer Networks Ltd",
    }
    note = {
        "id": f"note-{seed}",
        "author": "ops-automation",
        "date": _iso(now),
        "source": "bus",
        "text": "Install during the maintenance window.",
    }
    order: dict[str, Any] = {
        "externalId": external_id or f"BUY-{seed:08d}",
        "description": description,
        "requestedStartDate": _iso(now + timedelta(days=7)),
        "requestedCompletionDate": _iso(now + timedelta(days=30)),
        "note": [note],
        "relatedContactInformation": [contact],
        "serviceOrderItem": [],
    }
    for index in range(1, items + 1):
        site = {"@type": "GeographicSiteRef", "id": f"site-{rng.randint(1000, 9999)}"}
        place = (
            {**site, "role": "INSTALL_LOCATION"}
            if reference_point == "legato"
            else {"role": "INSTALL_LOCATION", "place": site}
        )
        item: dict[str, Any] = {
            "id": str(index),
            "action": "add",
            "note": [{**note, "id": f"note-{seed}-{index}"}],
            "service": {
                "externalId": f"SVC-{seed:06d}-{index}",
                "description": f"{leg} {index}",
                "place": [place],
                "serviceConfiguration": example_service_configuration(
                    rng, reference_point=reference_point, technology=technology
                ),
            },
        }
        if reference_point != "legato":
            item["relatedContactInformation"] = [contact]
        order["serviceOrderItem"].append(item)
    return order


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
