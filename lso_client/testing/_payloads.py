"""The mock seller's view of service payloads.

The model the SDK ships for a URN; validation of the payloads a request carries (MEF
`Error422` entries whose `propertyPath` points inside the payload); the PM, FM and SFT
results the seller produces, as bodies of the result or report schema that answers a
shipped configuration; and a strict check that a body names no field its schema does
not declare. A URN no schema ships for is a seller's own: its payloads pass as sent.

Some shipped configurations have no result schema that answers them: MEF publishes the
STAMP report file empty, and none for the IP threshold-crossing configuration. Their
results are not dressed up as another schema's (a STAMP job never gets a TWAMP report):
they are the seller's measurements typed `RESULTS_WITHOUT_SCHEMA`, the mock seller's own
URN, with the configuration they answer in `configurationType`.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError

from .._generated.payloads._registry import REGISTRY
from .._model import Payload

__all__ = [
    "PAYLOAD_KEYS",
    "RESULTS_WITHOUT_SCHEMA",
    "WITHOUT_RESULT_SCHEMA",
    "PayloadError",
    "check_payload",
    "model_of",
    "payload_errors",
    "pointer",
    "result_payload",
    "result_type",
    "results",
    "undeclared_fields",
]

Body = dict[str, Any]


@cache
def model_of(urn: str) -> type[Payload] | None:
    """The payload model the SDK ships for `urn` (imported on first use), or None."""
    home = REGISTRY.get(urn)
    if home is None:
        return None
    model = getattr(importlib.import_module(home[0]), home[1])
    assert isinstance(model, type) and issubclass(model, Payload)
    return model


class PayloadError(ValueError):
    """A payload of a known URN that breaks its schema: `path` is where, inside the
    payload, the first error is."""

    def __init__(self, urn: str, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(f"{urn}: {'.'.join(map(str, path)) or '(payload)'}: {message}")
        self.urn = urn
        self.path = path
        self.message = message


def check_payload(value: Any) -> Payload | None:
    """Validate `value` against the model of its `@type`: the model instance, None for
    a URN no schema ships for (kept as it is), `PayloadError` for a bad body."""
    if not isinstance(value, Mapping):
        return None
    urn = value.get("@type")
    if not isinstance(urn, str):
        return None
    model = model_of(urn)
    if model is None:
        return None
    try:
        return model.model_validate(value)
    except ValidationError as error:
        first = error.errors()[0]
        raise PayloadError(urn, tuple(first["loc"]), first["msg"]) from None


def undeclared_fields(model: BaseModel, path: tuple[str | int, ...] = ()) -> Iterator[str]:
    """The dotted paths of every field in `model` (at any depth) that its schema does
    not declare: what the models keep as extras."""
    for name in model.model_extra or ():
        yield ".".join(map(str, (*path, name)))
    for name, field in type(model).model_fields.items():
        yield from _walk(getattr(model, name), (*path, field.alias or name))


def _walk(value: Any, path: tuple[str | int, ...]) -> Iterator[str]:
    if isinstance(value, BaseModel):
        root = getattr(value, "root", None) if "root" in type(value).model_fields else None
        if root is not None:
            yield from _walk(root, path)
        else:
            yield from undeclared_fields(value, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))


# ----------------------------------------------------------------------------- received payloads

# Where a request body carries a service payload selected by its `@type`.
PAYLOAD_KEYS = frozenset(
    {
        "serviceConfiguration",
        "serviceSpecificConfiguration",
        "serviceSpecificTestJobConfiguration",
        "serviceSpecificTestProfileConfiguration",
    }
)


def pointer(loc: Sequence[int | str], data: Any) -> str:
    """A JSON Pointer for a pydantic error location inside `data`, without union tags."""
    parts: list[str] = []
    current = data
    for position, part in enumerate(loc):
        inside = (isinstance(current, dict) and part in current) or (
            isinstance(current, list) and isinstance(part, int) and part < len(current)
        )
        if inside:
            current = current[part]
        elif position != len(loc) - 1:
            continue  # a discriminator tag or union member name, not a property
        parts.append(str(part).replace("~", "~0").replace("/", "~1"))
    return "/" + "/".join(parts)


def payload_errors(body: Any, at: str = "") -> list[dict[str, str]]:
    """MEF `Error422` entries for every service payload in `body` whose `@type` is a
    shipped URN and whose content breaks that schema; `propertyPath` points inside the
    payload. Payloads of other URNs are a seller's own and pass."""
    errors: list[dict[str, str]] = []
    if isinstance(body, dict):
        for key, value in body.items():
            here = f"{at}/{key}"
            if key in PAYLOAD_KEYS and not (
                isinstance(value, dict) and isinstance(value.get("@type"), str)
            ):
                # Every payload is an object that names its schema.
                errors.append(_error(here, "a service payload is an object with an @type"))
            elif key in PAYLOAD_KEYS:
                errors.extend(_errors_in(value, here))
            elif isinstance(value, (dict, list)):
                errors.extend(payload_errors(value, here))
    elif isinstance(body, list):
        for index, value in enumerate(body):
            if isinstance(value, (dict, list)):
                errors.extend(payload_errors(value, f"{at}/{index}"))
    return errors


def _error(path: str, message: str) -> dict[str, str]:
    return {"code": "invalidValue", "reason": f"{path}: {message}"[:255], "propertyPath": path}


def _errors_in(payload: dict[str, Any], at: str) -> list[dict[str, str]]:
    urn = payload.get("@type")
    model = model_of(urn) if isinstance(urn, str) else None
    if model is None:
        return []
    try:
        model.model_validate(payload)
    except ValidationError as exc:
        found = []
        for error in exc.errors(include_url=False):
            path = at + pointer(error.get("loc", ()), payload)
            code = "missingProperty" if error.get("type") == "missing" else "invalidValue"
            reason = f"{path}: {error.get('msg')} ({urn})"
            found.append({"code": code, "reason": reason[:255], "propertyPath": path})
        return found
    return []


# ----------------------------------------------------------------------------- produced results

# The result or report schema that answers a shipped configuration schema.
_RESULTS = {
    # performance monitoring
    "urn:mef:lso:spec:legato:carrier-ethernet-performance-monitoring-configuration:v0.0.1:all": (
        "urn:mef:lso:spec:legato:carrier-ethernet-performance-monitoring-results:v0.0.1:all"
    ),
    "urn:mef:lso:spec:legato:carrier-ethernet-performance-monitoring-configuration:v0.0.2:all": (
        "urn:mef:lso:spec:legato:carrier-ethernet-performance-monitoring-results:v0.0.2:all"
    ),
    "urn:mef:lso:spec:legato:ip-performance-monitoring-configuration:v0.0.1:all": (
        "urn:mef:lso:spec:legato:ip-performance-monitoring-results:v0.0.1:all"
    ),
    "urn:mef:xid:spec:legato:ip-performance-monitoring-configuration:v0.0.2:all": (
        "urn:mef:xid:spec:legato:ip-performance-monitoring-results:v0.0.2:all"
    ),
    # fault management and service function testing
    "urn:mef:xid:spec:legato:ping-configuration:v0.0.1:all": (
        "urn:mef:xid:spec:legato:ping-report:v0.0.1:all"
    ),
    "urn:mef:xid:spec:legato:traceroute-configuration:v0.0.1:all": (
        "urn:mef:xid:spec:legato:traceroute-report:v0.0.1:all"
    ),
    "urn:mef:xid:spec:service:twamp-configuration:v0.0.1:all": (
        "urn:mef:xid:spec:service:twamp-report:v0.0.1:all"
    ),
    "urn:mef:xid:spec:service:bfd-configuration:v0.0.1:all": (
        "urn:mef:xid:spec:legato:bfd-report:v0.0.1:all"
    ),
    "urn:mef:xid:spec:service:iperf-configuration:v0.0.1:all": (
        "urn:mef:xid:spec:service:iperf-report:v0.0.1:all"
    ),
    "urn:mef:xid:spec:legato:ip-fault-management-configuration:v0.0.1:all": (
        "urn:mef:xid:spec:legato:ip-fault-management-results:v0.0.1:all"
    ),
}

# The shipped configurations no shipped result schema answers: STAMP (MEF publishes its
# report file empty) and IP threshold crossing (its crossings are alarms, with payloads of
# their own).
WITHOUT_RESULT_SCHEMA = frozenset(
    {
        "urn:mef:xid:spec:ip:soam:stamp-configuration:v0.0.1:all",
        "urn:mef:xid:spec:legato:ip-tca-configuration:v0.0.1:all",
    }
)

# The `@type` of the results answering those: the mock seller's own URN, so that they
# never pass for another schema's results.
RESULTS_WITHOUT_SCHEMA = "urn:lso-client:mock-seller:results-without-schema:v1"


def result_type(configuration_type: str) -> str | None:
    """The URN of the result or report schema answering a shipped configuration URN."""
    return _RESULTS.get(configuration_type)


def result_payload(
    configuration_type: str,
    rng: random.Random,
    start: datetime,
    end: datetime,
    configuration: Mapping[str, Any] | None = None,
) -> Body | None:
    """A result body valid against the schema answering `configuration_type`, or None
    when no result schema ships for it. What `configuration` (the job's payload) fixes
    that the results also carry, such as the VLAN of IP fault management, is echoed."""
    urn = _RESULTS.get(configuration_type)
    if urn is None:
        return None
    body = _BUILDERS[urn.split(":")[-3]](rng, start, end)
    echo = _ECHOES.get(urn)
    if echo is not None and configuration is not None:
        body.update(echo(configuration))
    model = model_of(urn)
    assert model is not None
    declared = {field.alias or name for name, field in model.model_fields.items()}
    return {"@type": urn, **{k: v for k, v in body.items() if k in declared}}


def results(
    configuration: Mapping[str, Any],
    rng: random.Random,
    start: datetime,
    end: datetime,
    sample: Callable[[random.Random], Body],
) -> Body:
    """The results answering a job's `configuration` payload: a body of the shipped
    result schema that answers its `@type`; for a shipped configuration no result schema
    answers, `sample(rng)` typed `RESULTS_WITHOUT_SCHEMA` with the configuration's URN in
    `configurationType`; for a seller's own configuration, `sample(rng)` typed with it."""
    urn = str(configuration.get("@type"))
    shipped = result_payload(urn, rng, start, end, configuration)
    if shipped is not None:
        return shipped
    if model_of(urn) is not None:
        return {"@type": RESULTS_WITHOUT_SCHEMA, "configurationType": urn, **sample(rng)}
    return {"@type": urn, **sample(rng)}


def format_time(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def _us(value: float) -> dict[str, Any]:
    return {"timeDurationValue": round(value * 1000), "timeDurationUnits": "US"}


def _address(rng: random.Random) -> str:
    return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _utilization(rng: random.Random) -> Body:
    inbound, outbound = round(rng.uniform(5, 60), 2), round(rng.uniform(5, 60), 2)
    return {
        "utilizationIn": inbound,
        "utilizationOut": outbound,
        "peakUtilizationIn": round(min(100.0, inbound * rng.uniform(1.1, 1.6)), 2),
        "peakUtilizationOut": round(min(100.0, outbound * rng.uniform(1.1, 1.6)), 2),
    }


def _ce_pm(rng: random.Random, start: datetime, end: datetime) -> Body:
    counters = [
        "rxEthIINum",
        "rxSnapNum",
        "rxRawNum",
        "rxIsisNum",
        "rxLlcNum",
        "rxUnknownNum",
        "rxForwardNum",
        "rxArp",
        "rxMpls",
        "rxIsis",
        "rxIsis2",
        "rxIpv4",
        "rxIpv6",
        "txL3OutNum",
        "txVlanOutNum",
        "txFastOutNum",
        "rxL2OutNum",
        "txMbufRelayNum",
    ]
    return {
        "interface": f"ge-0/0/{rng.randint(0, 47)}",
        **{name: rng.randint(0, 5_000_000) for name in counters},
        **_utilization(rng),
    }


def _ip_pm(rng: random.Random, start: datetime, end: datetime) -> Body:
    packets_in, packets_out = rng.randint(10_000, 9_000_000), rng.randint(10_000, 9_000_000)
    return {
        "vlan": rng.randint(2, 4094),
        "startTime": format_time(start),
        "endTime": format_time(end),
        "protocol": "IPV4",
        "packetsIn": packets_in,
        "charsIn": packets_in * rng.randint(64, 1500),
        "packetsOut": packets_out,
        "charsOut": packets_out * rng.randint(64, 1500),
        **_utilization(rng),
    }


def _ping(rng: random.Random, start: datetime, end: datetime) -> Body:
    sent = 100
    lost = rng.choice((0, 0, 0, 1, 2))
    low = rng.uniform(0.5, 5.0)
    return {
        "vlan": rng.randint(2, 4094),
        "startTime": format_time(start),
        "endTime": format_time(end),
        "protocol": "IPV4",
        "numberOfTxPackets": sent,
        "numberOfRxPackets": sent - lost,
        "minimumRoundTripDelay": _us(low),
        "averageRoundTripDelay": _us(low * 1.3),
        "maximumRoundTripDelay": _us(low * 2.1),
        "countOfLostPackets": lost,
        "percentageOfLostPackets": 100.0 * lost / sent,
    }


def _twamp(rng: random.Random, start: datetime, end: datetime) -> Body:
    one_way = rng.uniform(0.3, 12.0)
    lost = rng.choice((0, 0, 1, 3))
    return {
        "sourceIpv4Address": [_address(rng)],
        "destinationIpv4Address": [_address(rng)],
        "outboundDelayMinimum": _us(one_way * 0.8),
        "outboundDelayMaximum": _us(one_way * 1.9),
        "outboundDelayAverage": _us(one_way),
        "inboundDelayMinimum": _us(one_way * 0.85),
        "inboundDelayMaximum": _us(one_way * 2.0),
        "inboundDelayAverage": _us(one_way * 1.05),
        "minimumRoundTripDelay": _us(one_way * 1.7),
        "maximumRoundTripDelay": _us(one_way * 3.9),
        "averageRoundTripDelay": _us(one_way * 2.05),
        "inboundJitter": _us(rng.uniform(0.01, 0.8)),
        "outboundJitter": _us(rng.uniform(0.01, 0.8)),
        "roundTripJitter": _us(rng.uniform(0.02, 1.2)),
        "countOfLostPackets": lost,
        "percentageOfLostPackets": lost / 10.0,
    }


def _traceroute(rng: random.Random, start: datetime, end: datetime) -> Body:
    return {
        "reportId": f"traceroute-{rng.getrandbits(32):08x}",
        "timestamp": format_time(end),
        "sourceIpAddress": {"ipv4Address": _address(rng)},
        "destinationIpAddress": {"ipv4Address": _address(rng)},
        "hops": [_address(rng) for _ in range(rng.randint(3, 8))],
    }


def _bfd(rng: random.Random, start: datetime, end: datetime) -> Body:
    return {
        "reportId": f"bfd-{rng.getrandbits(32):08x}",
        "bfdSessionId": f"bfd-session-{rng.randint(1, 64)}",
        "sourceIpAddress": {"ipv4Address": _address(rng)},
        "destinationIpAddress": {"ipv4Address": _address(rng)},
        "status": "up" if rng.random() > 0.05 else "down",
        "latency": _us(rng.uniform(0.2, 6.0)),
        "packetLoss": round(rng.uniform(0.0, 0.5), 3),
        "jitter": round(rng.uniform(0.0, 0.9), 3),
    }


def _iperf(rng: random.Random, start: datetime, end: datetime) -> Body:
    seconds = max(1.0, (end - start).total_seconds())
    rate = rng.choice((100e6, 1e9, 10e9)) * rng.uniform(0.9, 0.99)
    total = rate * seconds / 8
    local, remote = _address(rng), _address(rng)

    def span(sender: bool, socket: bool = True) -> Body:
        return {
            **({"socket": 5.0} if socket else {}),
            "start": 0.0,
            "end": seconds,
            "seconds": seconds,
            "bytes": total,
            "bits_per_second": rate,
            "sender": sender,
        }

    interval = {**span(True), "omitted": False}
    total_interval = {**span(True, socket=False), "omitted": False}
    return {
        "start": {
            "connected": [
                {
                    "socket": 5.0,
                    "local_host": local,
                    "local_port": 50000.0,
                    "remote_host": remote,
                    "remote_port": 5201.0,
                }
            ],
            "version": "iperf 3.16",
            "system_info": "Linux test-head 6.1.0 x86_64",
            "timestamp": {"time": format_time(start), "timesecs": start.timestamp()},
            "connecting_to": {"host": remote, "port": 5201.0},
            "cookie": f"{rng.getrandbits(128):032x}",
            "tcp_mss_default": 1448.0,
            "target_bitrate": 0.0,
            "fq_rate": 0.0,
            "sock_bufsize": 0.0,
            "sndbuf_actual": 16384.0,
            "rcvbuf_actual": 131072.0,
            "test_start": {
                "protocol": "TCP",
                "num_streams": 1.0,
                "blksize": 131072.0,
                "omit": 0.0,
                "duration": seconds,
                "bytes": 0.0,
                "blocks": 0.0,
                "reverse": 0.0,
                "tos": 0.0,
                "target_bitrate": 0.0,
                "bidir": 0.0,
                "fqrate": 0.0,
                "interval": 1.0,
            },
        },
        "intervals": [{"streams": [interval], "sum": total_interval}],
        "end": {
            "streams": [{"sender": span(True), "receiver": span(False)}],
            "sum_sent": span(True, socket=False),
            "sum_received": span(False, socket=False),
            "cpu_utilization_percent": {
                "host_total": round(rng.uniform(5, 40), 2),
                "host_user": round(rng.uniform(1, 10), 2),
                "host_system": round(rng.uniform(4, 30), 2),
                "remote_total": round(rng.uniform(5, 40), 2),
                "remote_user": round(rng.uniform(1, 10), 2),
                "remote_system": round(rng.uniform(4, 30), 2),
            },
        },
    }


def _ip_fm(rng: random.Random, start: datetime, end: datetime) -> Body:
    received = rng.randint(1_000_000, 90_000_000)
    sent = rng.randint(1_000_000, 90_000_000)

    def rare(share: float) -> int:
        return rng.randint(0, max(1, round(received * share)))

    required = rng.randint(0, received // 200)
    failed = min(required, rare(1e-6))
    timeouts = min(failed, rare(1e-6))
    fragmented = rng.randint(0, sent // 500)
    return {
        "interface": f"ge-0/0/{rng.randint(0, 47)}",
        "vlan": rng.randint(2, 4094),
        "startTime": format_time(start),
        "endTime": format_time(end),
        "inHeaderErrors": rare(1e-5),
        "inAddressErrors": rare(1e-5),
        "unknownProtocols": rare(1e-6),
        "outDiscards": rng.randint(0, max(1, sent // 100_000)),
        "outNoRoutes": rng.randint(0, max(1, sent // 1_000_000)),
        "reassemblyTimeouts": timeouts,
        "reassembliesRequired": required,
        "reassembliesFailed": failed,
        "fragmentsOk": fragmented,
        "fragmentsFailed": rng.randint(0, max(1, fragmented // 1000)),
        "fragmentsCreated": fragmented * rng.randint(2, 4),
        "badIpChecksums": rare(1e-6),
        "droppedFragments": failed - timeouts,
        "completedPacketsBad": rare(1e-7),
        "completedPacketDropped": rare(1e-7),
        "incompletePacketsTimeout": timeouts,
    }


def _ip_fm_echo(configuration: Mapping[str, Any]) -> Body:
    # The configured VLAN and interface (an `Interface` entity) are the measured ones.
    echoed: Body = {}
    vlan = configuration.get("vlan")
    if isinstance(vlan, int) and not isinstance(vlan, bool):
        echoed["vlan"] = vlan
    entity = configuration.get("entity")
    kind = entity.get("entityType") if isinstance(entity, Mapping) else None
    interface = kind.get("interface") if isinstance(kind, Mapping) else None
    if isinstance(interface, str):
        echoed["interface"] = interface
    return echoed


_ECHOES: dict[str, Callable[[Mapping[str, Any]], Body]] = {
    "urn:mef:xid:spec:legato:ip-fault-management-results:v0.0.1:all": _ip_fm_echo,
}

_BUILDERS: dict[str, Callable[[random.Random, datetime, datetime], Body]] = {
    "carrier-ethernet-performance-monitoring-results": _ce_pm,
    "ip-performance-monitoring-results": _ip_pm,
    "ping-report": _ping,
    "traceroute-report": _traceroute,
    "twamp-report": _twamp,
    "bfd-report": _bfd,
    "iperf-report": _iperf,
    "ip-fault-management-results": _ip_fm,
}
