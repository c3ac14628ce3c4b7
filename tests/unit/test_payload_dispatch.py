"""Dispatch by `@type` at extension points: a known URN yields its payload model (when
the field is read, after a lenient parse), an unknown one stays a generic `Payload` with
every field, a known URN whose body breaks its schema is a deviation on the payload
(lenient) or an error with the path inside it (strict)."""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from unittest.mock import ANY

import httpx
import pytest
from pydantic import BaseModel, Field, SerializeAsAny, ValidationError, field_validator

from lso_client import _model, payloads
from lso_client._bodies import serialise_body
from lso_client._errors import RequestValidationError
from lso_client._model import DateTime, MefModel, Payload
from lso_client._parsing import parse_json, parse_python
from lso_client.notifications import Notification, NotificationListener

EVC = "urn:example:test:carrier-ethernet-evc:v1"
UNKNOWN = "urn:acme:lso:spec:acme-private-line:v3"


# ----------------------------------------------------------------------------- test models
# Shaped like generated ones: a payload model fixes its URN; the envelope holds an
# extension point (`Payload`, or a subclass that leaves `type` open).


class EgressMapEntry(MefModel):
    cos_name: Annotated[str, Field(alias="cosName")]
    pcp: int | None = None


class EvcConfiguration(Payload):
    type: Annotated[Literal[EVC], Field(alias="@type")] = EVC  # type: ignore[valid-type]
    evc_type: Annotated[str, Field(alias="evcType")]
    max_frame_size: Annotated[int | None, Field(alias="evcMaxFrameSize")] = None
    egress_map: Annotated[list[EgressMapEntry] | None, Field(alias="egressMap")] = None
    installed: DateTime | None = None


class AlarmDetails(Payload):
    """An extension point with a property of its own: still dispatches."""

    note: str | None = None


class Service(MefModel):
    id: str | None = None
    service_configuration: Annotated[
        SerializeAsAny[Payload] | None, Field(alias="serviceConfiguration")
    ] = None


class OrderItem(MefModel):
    id: str
    service: Service


class Order(MefModel):
    id: str
    state: str | None = None
    service_order_item: Annotated[list[OrderItem], Field(alias="serviceOrderItem")]


class Alarm(MefModel):
    id: str
    details: Annotated[SerializeAsAny[AlarmDetails] | None, Field(alias="alarmDetails")] = None


@pytest.fixture(autouse=True)
def registry() -> Iterator[None]:
    """The test URN registered for each test; the registry restored afterwards."""
    known, registered = _model._KNOWN, dict(_model._REGISTERED)
    payloads.register(EvcConfiguration)
    yield
    _model._KNOWN = known
    _model._REGISTERED.clear()
    _model._REGISTERED.update(registered)


def evc(**changes: Any) -> dict[str, Any]:
    body = {
        "@type": EVC,
        "evcType": "POINT_TO_POINT",
        "evcMaxFrameSize": 9212,
        "egressMap": [{"cosName": "H", "pcp": 5}, {"cosName": "L"}],
        "installed": "2024-05-01T09:30:00.382+02:00",
        "sellerTag": {"a": [1, 2]},
    }
    body.update(changes)
    return body


def order(*configurations: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": "so-1",
        "state": "inProgress",
        "serviceOrderItem": [
            {"id": str(i), "service": {"id": f"svc-{i}", "serviceConfiguration": c}}
            if c is not None
            else {"id": str(i), "service": {"id": f"svc-{i}"}}
            for i, c in enumerate(configurations)
        ],
    }


def configuration(found: Order, index: int = 0) -> Any:
    return found.service_order_item[index].service.service_configuration


# ----------------------------------------------------------------------------- parsing


@pytest.mark.parametrize("strict", [False, True])
def test_known_urn_is_parsed_as_its_payload_model(strict: bool) -> None:
    raw = json.dumps(order(evc(), None)).encode()
    parsed = parse_json(Order, raw, strict=strict)
    found = configuration(parsed.value)
    assert type(found) is EvcConfiguration
    assert found.evc_type == "POINT_TO_POINT"
    assert found.egress_map is not None and found.egress_map[0].cos_name == "H"
    assert found.model_extra == {"sellerTag": {"a": [1, 2]}}
    assert parsed.deviations == []
    # Serialised with its own fields, the date-time in the text received.
    assert parsed.value.to_dict() == order(evc(), None)


def test_known_urn_from_python_data_too() -> None:
    parsed = parse_python(Order, order(evc()))
    assert type(configuration(parsed.value)) is EvcConfiguration


def test_unknown_urn_stays_a_generic_payload_with_every_field_and_no_deviation() -> None:
    body = {"@type": UNKNOWN, "bandwidth": {"amount": 10, "units": "Gbps"}, "tags": ["x"]}
    raw = json.dumps(order(body, evc())).encode()
    parsed = parse_json(Order, raw, strict=True)
    found = configuration(parsed.value)
    assert type(found) is Payload
    assert found.type == UNKNOWN
    assert found.model_extra == {"bandwidth": {"amount": 10, "units": "Gbps"}, "tags": ["x"]}
    assert type(configuration(parsed.value, 1)) is EvcConfiguration
    assert parsed.deviations == []
    assert parsed.value.spec_deviations == []
    assert json.loads(parsed.value.to_json()) == order(body, evc())


def test_known_urn_breaking_its_schema_is_a_deviation_with_the_path_inside_the_payload(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = evc(egressMap=[{"cosName": "H"}, {"cosName": 7}], evcMaxFrameSize="big")
    raw = json.dumps(order(evc(), broken)).encode()
    parsed = parse_json(Order, raw, log_deviations=False)
    # The envelope conforms; the payload is typed when read, and found broken then.
    assert parsed.deviations == []
    with caplog.at_level("WARNING", logger="lso_client"):
        kept = configuration(parsed.value, 1)
    # The broken payload is kept as a generic Payload, nothing lost; its sibling is typed.
    assert type(kept) is Payload
    assert kept.to_dict() == broken
    assert sorted(tuple(d["loc"]) for d in kept.spec_deviations) == [
        ("egressMap", 1, "cosName"),
        ("evcMaxFrameSize",),
    ]
    assert "EvcConfiguration deviates from the spec" in caplog.text
    assert "egressMap.1.cosName" in caplog.text
    assert configuration(parsed.value, 1) is kept  # typed once, not again on each read
    assert type(configuration(parsed.value, 0)) is EvcConfiguration
    assert parsed.value.spec_deviations == []
    assert parsed.value.to_dict() == order(evc(), broken)


def test_a_lenient_parse_types_a_payload_when_it_is_read() -> None:
    raw = json.dumps(order(evc(), evc(evcType="MULTIPOINT"))).encode()
    found = parse_json(Order, raw).value
    service = found.service_order_item[0].service
    # Until read, the field holds the generic object with every field as received ...
    held = service.__dict__["service_configuration"]
    assert type(held) is Payload
    assert found.to_dict() == order(evc(), evc(evcType="MULTIPOINT"))
    # ... and reading it gives the payload model, once: it replaces what was held.
    typed = service.service_configuration
    assert type(typed) is EvcConfiguration
    assert typed.egress_map is not None and typed.egress_map[0].pcp == 5
    assert service.service_configuration is typed
    assert service.__dict__["service_configuration"] is typed
    assert typed.to_dict() == evc()
    assert found.to_dict() == order(evc(), evc(evcType="MULTIPOINT"))


def test_iterating_comparing_and_printing_see_the_typed_payload() -> None:
    raw = json.dumps(order(evc())).encode()
    read, unread = parse_json(Order, raw).value, parse_json(Order, raw).value
    assert type(configuration(read)) is EvcConfiguration
    assert read == unread
    service = parse_json(Order, raw).value.service_order_item[0].service
    assert type(dict(service)["service_configuration"]) is EvcConfiguration
    service = parse_json(Order, raw).value.service_order_item[0].service
    assert "EvcConfiguration(" in repr(service)


def test_a_copy_or_pickle_of_an_unread_payload_types_it_when_read() -> None:
    import pickle

    raw = json.dumps(order(evc())).encode()
    service = parse_json(Order, raw).value.service_order_item[0].service
    copied = service.model_copy(deep=True)
    pickled = pickle.loads(pickle.dumps(service))
    for found in (copied, pickled, service):
        assert type(found.service_configuration) is EvcConfiguration
        assert found.service_configuration.to_dict() == evc()


def test_a_payload_the_caller_sets_is_read_as_set() -> None:
    raw = json.dumps(order(evc())).encode()
    service = parse_json(Order, raw).value.service_order_item[0].service
    mine = Payload(type=UNKNOWN, x=1)
    service.service_configuration = mine
    assert service.service_configuration is mine
    assert "service_configuration" in service.model_fields_set


def test_a_payload_in_a_list_is_typed_when_the_list_is_read() -> None:
    class Report(MefModel):
        results: list[SerializeAsAny[Payload]]

    found = parse_json(Report, json.dumps({"results": [evc(), {"@type": UNKNOWN}]})).value
    assert [type(r) for r in found.results] == [EvcConfiguration, Payload]
    assert found.to_dict() == {"results": [evc(), {"@type": UNKNOWN}]}


def test_a_seller_is_read_by_wire_names_only() -> None:
    """`type` for `@type`, or a Python field name, in what a seller sends is not the
    property the spec names: kept as an unknown field, and a missing one is a deviation,
    not silently taken for the other (a caller's dicts may use either)."""
    python_named = {k: v for k, v in evc().items() if k != "@type"} | {"type": EVC}
    raw = json.dumps(order(python_named)).encode()
    found = configuration(parse_json(Order, raw).value)
    assert type(found) is not EvcConfiguration
    with pytest.raises(ValidationError) as caught:
        parse_json(Order, raw, strict=True)
    assert ("serviceOrderItem", 0, "service", "serviceConfiguration", "@type") in [
        e["loc"] for e in caught.value.errors()
    ]
    body = order(evc())
    body["serviceOrderItem"][0]["service_order_item_id"] = "x"
    snake = {**body, "service_order_item": body["serviceOrderItem"]}
    del snake["serviceOrderItem"]
    parsed = parse_json(Order, json.dumps(snake).encode(), log_deviations=False)
    assert ["serviceOrderItem"] in [d["loc"] for d in parsed.deviations]
    assert parsed.value.to_dict() == snake  # kept as sent, under the name it came with
    # A caller's own data may name fields either way.
    assert (
        type(Service.model_validate({"serviceConfiguration": python_named}).service_configuration)
        is EvcConfiguration
    )


def test_a_null_inside_a_payload_is_a_deviation_found_when_it_is_read() -> None:
    body = evc(evcMaxFrameSize=None)
    raw = json.dumps(order(body, evc())).encode()
    parsed = parse_json(Order, raw, log_deviations=False)
    assert parsed.deviations == []
    typed = configuration(parsed.value)
    assert type(typed) is EvcConfiguration
    assert typed.spec_deviations == [
        {"loc": ["evcMaxFrameSize"], "type": "null", "msg": ANY, "input": None}
    ]
    assert typed.to_dict() == body  # kept as sent
    assert configuration(parsed.value, 1).spec_deviations == []
    with pytest.raises(ValidationError) as caught:
        parse_json(Order, raw, strict=True)
    assert [e["loc"] for e in caught.value.errors()] == [
        ("serviceOrderItem", 0, "service", "serviceConfiguration", "evcMaxFrameSize")
    ]


def test_reading_payloads_leaves_cyclic_garbage_to_the_collector() -> None:
    """Typing a payload on read does not age the process's young objects: cyclic
    garbage made between reads is still collected without `gc.collect()`."""
    import gc
    import weakref

    class Node:
        def __init__(self) -> None:
            self.me = self

    raw = json.dumps(order(evc())).encode()
    alive: list[weakref.ref[Node]] = []
    gc.collect()
    for _ in range(3000):
        node = Node()
        alive.append(weakref.ref(node))
        del node
        configuration(parse_json(Order, raw).value)
    assert gc.isenabled()
    assert sum(ref() is not None for ref in alive) < 1500


def test_a_list_of_payloads_is_looked_through_once() -> None:
    class Report(MefModel):
        results: list[SerializeAsAny[Payload]]

    found = parse_json(Report, json.dumps({"results": [evc()] * 3})).value
    first = found.results
    assert [type(r) for r in first] == [EvcConfiguration] * 3
    pending = _model._pending
    calls: list[Any] = []
    try:
        _model._pending = lambda item: calls.append(item) or pending(item)  # type: ignore[assignment]
        for _ in range(5):
            assert found.results is first
    finally:
        _model._pending = pending  # type: ignore[assignment]
    assert calls == []  # not looked through again
    # A new list in the field is looked through again.
    replaced = parse_json(Report, json.dumps({"results": [evc()]})).value.__dict__["results"]
    found.results = replaced
    assert type(found.results[0]) is EvcConfiguration


def test_threads_reading_one_payload_first_get_one_object(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading
    import time

    lookup = _model._payload_model

    def slow(urn: str) -> Any:
        time.sleep(0.002)  # widens the window between looking and storing
        return lookup(urn)

    monkeypatch.setattr(_model, "_payload_model", slow)

    broken = evc(egressMap=[{"pcp": 1}])
    for body in (evc(), broken):
        for _ in range(5):
            service = parse_json(Order, json.dumps(order(body)).encode()).value
            item = service.service_order_item[0].service
            gate = threading.Barrier(8)
            seen: list[Any] = []
            errors: list[BaseException] = []

            def read(
                item: Any = item, gate: Any = gate, seen: Any = seen, errors: Any = errors
            ) -> None:
                gate.wait()
                try:
                    seen.append(item.service_configuration)
                except BaseException as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=read) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert errors == []
            assert len({id(found) for found in seen}) == 1


def test_known_urn_breaking_its_schema_is_an_error_in_strict_mode() -> None:
    raw = json.dumps(order(evc(egressMap=[{"pcp": 1}]))).encode()
    with pytest.raises(ValidationError) as caught:
        parse_json(Order, raw, strict=True)
    assert [e["loc"] for e in caught.value.errors()] == [
        ("serviceOrderItem", 0, "service", "serviceConfiguration", "egressMap", 0, "cosName")
    ]


def test_a_missing_required_field_of_the_payload_is_a_deviation() -> None:
    body = evc()
    del body["evcType"]
    parsed = parse_json(Order, json.dumps(order(body)).encode(), log_deviations=False)
    found = configuration(parsed.value)
    assert [d["loc"] for d in found.spec_deviations] == [["evcType"]]
    assert found.to_dict() == body


def test_an_extension_point_with_properties_of_its_own_dispatches_too() -> None:
    alarm = parse_json(Alarm, json.dumps({"id": "a-1", "alarmDetails": evc()})).value
    assert type(alarm.details) is EvcConfiguration
    other = {"@type": UNKNOWN, "note": "fan", "x": 1}
    alarm = parse_json(Alarm, json.dumps({"id": "a-2", "alarmDetails": other})).value
    assert type(alarm.details) is AlarmDetails
    assert alarm.details.note == "fan"
    assert alarm.to_dict()["alarmDetails"] == other


def test_validating_the_extension_point_itself_yields_the_model() -> None:
    assert type(Payload.model_validate(evc())) is EvcConfiguration
    assert type(Payload.model_validate_json(json.dumps(evc()))) is EvcConfiguration
    assert type(Payload.model_validate({"@type": UNKNOWN})) is Payload


def test_python_field_names_dispatch_as_well() -> None:
    found = Service(service_configuration={"type": EVC, "evc_type": "MULTIPOINT"})
    assert type(found.service_configuration) is EvcConfiguration


class Counted(Payload):
    """Counts how often its body is validated."""

    type: Annotated[Literal["urn:example:counted:v1"], Field(alias="@type")] = (
        "urn:example:counted:v1"
    )
    size: int
    seen: ClassVar[list[int]] = []

    @field_validator("size")
    @classmethod
    def _count(cls, value: int) -> int:
        cls.seen.append(value)
        return value


class Extension(Payload):
    """An extension point whose own objects count their validations."""

    seen: ClassVar[list[str]] = []

    @field_validator("type")
    @classmethod
    def _count(cls, value: str) -> str:
        cls.seen.append(value)
        return value


def test_each_payload_is_validated_once() -> None:
    payloads.register(Counted)
    Counted.seen.clear()
    Extension.seen.clear()
    Payload.model_validate_json('{"@type": "urn:example:counted:v1", "size": 1}')
    Counted(size=2)
    Extension.model_validate({"@type": UNKNOWN})
    Extension(type="urn:example:other")
    assert Counted.seen == [1, 2]
    assert Extension.seen == [UNKNOWN, "urn:example:other"]
    # Parsing does not go through `__init__` (a second pass through the validators).
    for cls in (Payload, Extension, Counted, EvcConfiguration):
        assert cls.__pydantic_custom_init__ is False, cls


# ----------------------------------------------------------------------------- instances


def test_a_payload_model_instance_is_taken_as_it_is() -> None:
    built = EvcConfiguration(evc_type="POINT_TO_POINT", egress_map=[EgressMapEntry(cos_name="H")])
    service = Service(service_configuration=built)
    assert service.service_configuration is built
    assert Service.model_validate({"serviceConfiguration": built}).service_configuration is built


def test_constructing_the_extension_point_builds_the_generic_object() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        built = Payload(type=EVC, evcType="X")
    assert type(built) is Payload
    assert built.to_dict() == {"@type": EVC, "evcType": "X"}


def test_a_generic_object_with_a_known_urn_is_validated_when_placed() -> None:
    placed = Service(service_configuration=Payload(type=EVC, evcType="X"))
    assert type(placed.service_configuration) is EvcConfiguration
    with pytest.raises(ValidationError) as caught:
        Service(service_configuration=Payload(type=EVC, evcMaxFrameSize=1))
    assert caught.value.errors()[0]["loc"] == ("service_configuration", "evcType")


# ----------------------------------------------------------------------------- requests


def test_request_payload_with_a_known_urn_is_validated_before_sending() -> None:
    body = {
        "serviceOrderItem": [
            {"id": "1", "service": {"serviceConfiguration": evc(egressMap=[{"cosName": 3}])}}
        ],
        "id": "so-1",
    }
    with pytest.raises(RequestValidationError) as caught:
        serialise_body("createServiceOrder", body, Order)
    message = str(caught.value)
    assert "serviceOrderItem.0.service.serviceConfiguration.egressMap.0.cosName" in message
    assert caught.value.errors[0]["loc"] == (
        "serviceOrderItem",
        0,
        "service",
        "serviceConfiguration",
        "egressMap",
        0,
        "cosName",
    )


def test_request_payload_with_an_unknown_urn_is_sent_as_given() -> None:
    unknown = {"@type": UNKNOWN, "vendor": {"nested": [1, None, "x"]}, "n": 1.5}
    body = order(unknown, evc())
    sent = json.loads(serialise_body("createServiceOrder", body, Order))
    assert sent == body


def test_request_payload_model_is_sent_with_all_its_fields() -> None:
    built = Order(
        id="so-1",
        service_order_item=[
            OrderItem(
                id="1",
                service=Service(
                    service_configuration=EvcConfiguration(
                        evc_type="POINT_TO_POINT",
                        egress_map=[EgressMapEntry(cos_name="H", pcp=5)],
                    )
                ),
            )
        ],
    )
    sent = json.loads(serialise_body("createServiceOrder", built, Order))
    assert sent["serviceOrderItem"][0]["service"]["serviceConfiguration"] == {
        "@type": EVC,
        "evcType": "POINT_TO_POINT",
        "egressMap": [{"cosName": "H", "pcp": 5}],
    }


class Marker(MefModel):
    kind: Literal["marker"] = "marker"  # required by its schema, with one possible value
    label: str


MARKED = "urn:example:test:marked:v1"


class Marked(Payload):
    type: Annotated[Literal[MARKED], Field(alias="@type")] = MARKED  # type: ignore[valid-type]
    markers: list[Marker]


def test_fixed_fields_inside_a_mapping_payload_are_filled_in_on_the_wire() -> None:
    payloads.register(Marked)
    body = order({"@type": MARKED, "markers": [{"label": "a"}, {"label": "b", "kind": "marker"}]})
    sent = json.loads(serialise_body("createServiceOrder", body, Order))
    assert sent["serviceOrderItem"][0]["service"]["serviceConfiguration"] == {
        "@type": MARKED,
        "markers": [{"label": "a", "kind": "marker"}, {"label": "b", "kind": "marker"}],
    }
    # A caller's payload model gets its URN and fixed fields filled in too.
    built = Order(
        id="so-1",
        service_order_item=[
            OrderItem(
                id="1", service=Service(service_configuration=Marked(markers=[Marker(label="c")]))
            )
        ],
    )
    sent = json.loads(serialise_body("createServiceOrder", built, Order))
    assert sent["serviceOrderItem"][0]["service"]["serviceConfiguration"] == {
        "@type": MARKED,
        "markers": [{"label": "c", "kind": "marker"}],
    }


# ----------------------------------------------------------------------------- registry


class AcmeFirewall(Payload):
    type: Annotated[Literal["urn:acme:firewall:v1"], Field(alias="@type")] = "urn:acme:firewall:v1"
    rules: list[str]


def test_a_registered_caller_model_is_dispatched_to() -> None:
    body = {"@type": "urn:acme:firewall:v1", "rules": ["allow 443"]}
    before = parse_json(Order, json.dumps(order(body))).value
    assert type(configuration(before)) is Payload
    assert payloads.model_for("urn:acme:firewall:v1") is None

    assert payloads.register(AcmeFirewall) is AcmeFirewall
    assert payloads.model_for("urn:acme:firewall:v1") is AcmeFirewall
    after = parse_json(Order, json.dumps(order(body))).value
    assert type(configuration(after)) is AcmeFirewall
    assert configuration(after).rules == ["allow 443"]
    bad = parse_json(Order, json.dumps(order({**body, "rules": "all"})), log_deviations=False)
    assert [d["loc"] for d in configuration(bad.value).spec_deviations] == [["rules"]]

    payloads.unregister("urn:acme:firewall:v1")
    assert payloads.model_for("urn:acme:firewall:v1") is None
    assert type(configuration(parse_json(Order, json.dumps(order(body))).value)) is Payload


def test_register_refuses_what_is_not_a_payload_model_and_conflicts() -> None:
    with pytest.raises(TypeError, match="does not fix its URN"):
        payloads.register(AlarmDetails)
    with pytest.raises(TypeError, match="Payload subclass"):
        payloads.register(EgressMapEntry)  # type: ignore[type-var]

    class Other(Payload):
        type: Annotated[Literal[EVC], Field(alias="@type")] = EVC  # type: ignore[valid-type]

    with pytest.raises(ValueError, match="already registered"):
        payloads.register(Other)
    assert payloads.model_for(EVC) is EvcConfiguration
    payloads.register(Other, replace=True)
    assert payloads.model_for(EVC) is Other
    assert payloads.register(Other) is Other  # the same model again is fine


def test_a_plain_string_default_does_not_fix_a_urn() -> None:
    # `type: str = urn` would take any `@type` when validated: not a payload model.
    class Loose(Payload):
        type: Annotated[str, Field(alias="@type")] = "urn:example:test:loose:v1"

    assert Loose.__lso_urn__ is None
    with pytest.raises(TypeError, match="does not fix its URN"):
        payloads.register(Loose)


def test_a_registered_model_replaces_a_shipped_one_until_unregistered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = {"urn:example:shipped:v1": ("lso_test_shipped_payloads", "Shipped")}
    monkeypatch.setattr(_model, "_generated_registry", lambda: shipped)
    _model._KNOWN = None
    _write_module(tmp_path, monkeypatch, "urn:example:shipped:v1")

    class Mine(Payload):
        type: Annotated[Literal["urn:example:shipped:v1"], Field(alias="@type")] = (
            "urn:example:shipped:v1"
        )

    payloads.register(Mine)
    assert payloads.model_for("urn:example:shipped:v1") is Mine
    payloads.unregister("urn:example:shipped:v1")
    found = payloads.model_for("urn:example:shipped:v1")
    assert found is not None and found.__name__ == "Shipped"


def _write_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, urn: str) -> None:
    (tmp_path / "lso_test_shipped_payloads.py").write_text(
        "from typing import Annotated, Literal\n"
        "from pydantic import Field\n"
        "from lso_client._model import Payload\n"
        "class Shipped(Payload):\n"
        f"    type: Annotated[Literal[{urn!r}], Field(alias='@type')] = {urn!r}\n"
        "    size: int\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "lso_test_shipped_payloads", raising=False)


def test_a_shipped_model_module_is_imported_on_first_use_of_its_urn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    urn = "urn:example:shipped:v1"
    shipped = {urn: ("lso_test_shipped_payloads", "Shipped")}
    monkeypatch.setattr(_model, "_generated_registry", lambda: shipped)
    _model._KNOWN = None
    _write_module(tmp_path, monkeypatch, urn)

    unknown = parse_json(Order, json.dumps(order({"@type": UNKNOWN}))).value
    assert type(configuration(unknown)) is Payload
    assert "lso_test_shipped_payloads" not in sys.modules  # a miss imports nothing

    found = parse_json(Order, json.dumps(order({"@type": urn, "size": 3}))).value
    assert "lso_test_shipped_payloads" not in sys.modules  # not read yet
    assert type(configuration(found)).__name__ == "Shipped"
    assert "lso_test_shipped_payloads" in sys.modules
    assert configuration(found).size == 3
    bad = parse_json(Order, json.dumps(order({"@type": urn, "size": "x"})), strict=False)
    assert [d["loc"][-1] for d in configuration(bad.value).spec_deviations] == ["size"]
    with pytest.raises(ValidationError):
        parse_json(Order, json.dumps(order({"@type": urn, "size": "x"})), strict=True)


def test_payload_models_lists_shipped_and_registered_models(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shipped = {
        "urn:mef:lso:spec:legato:carrier-ethernet-evc:v0.0.1:all": (
            "lso_client._generated.payloads.legato.carrier_ethernet.carrier_ethernet_evc",
            "CarrierEthernetEvc",
        ),
        "urn:mef:lso:spec:service:ipvc:v1.0.0:all": (
            "lso_client._generated.payloads.allegro.ip.ipvc",
            "Ipvc",
        ),
    }
    monkeypatch.setattr(_model, "_generated_registry", lambda: shipped)
    table = payloads.payload_models()
    by_urn = {r.urn: r for r in table}
    assert set(by_urn) == {*shipped, EVC}
    evc_record = by_urn["urn:mef:lso:spec:legato:carrier-ethernet-evc:v0.0.1:all"]
    assert evc_record.class_name == "CarrierEthernetEvc"
    assert evc_record.module == "lso_client.types.payloads.legato.carrier_ethernet"
    assert (evc_record.reference_point, evc_record.technology) == ("legato", "carrier-ethernet")
    assert not evc_record.registered
    mine = by_urn[EVC]
    assert mine.registered and mine.model is EvcConfiguration
    assert mine.module == __name__
    assert [r.urn for r in payloads.payload_models(technology="ip")] == [
        "urn:mef:lso:spec:service:ipvc:v1.0.0:all"
    ]
    assert len(payloads.payload_models(reference_point="legato")) == 1
    text = repr(table)
    assert "CarrierEthernetEvc" in text and text.endswith("(3 payload models)")
    assert "<td>Ipvc</td>" in table._repr_html_()


# ----------------------------------------------------------------------------- listener


class AlarmEvent(MefModel):
    event_id: str = Field(alias="eventId")
    event_time: DateTime = Field(alias="eventTime")
    event_type: str = Field(alias="eventType")
    event: Alarm


class AlarmResolver:
    def resolve(self, path: str, event_type: str) -> type[BaseModel] | None:
        return AlarmEvent


BASE = "/hooks/mefApi/legato/alarmNotification/v3/listener"


@pytest.fixture
def listen() -> Iterator[Callable[..., NotificationListener]]:
    started: list[NotificationListener] = []

    def make(**kwargs: Any) -> NotificationListener:
        listener = NotificationListener(resolver=AlarmResolver(), inbox="memory", **kwargs).start()
        started.append(listener)
        return listener

    yield make
    for listener in started:
        listener.stop(timeout=5)


def _event(event_id: str, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "eventTime": "2026-03-01T10:15:30.123Z",
        "eventType": "alarmCreateEvent",
        "event": {"id": "a-1", "alarmDetails": details},
    }


def test_listener_events_carry_typed_payloads(
    listen: Callable[..., NotificationListener],
) -> None:
    listener = listen()
    seen: list[Notification] = []
    listener.add_handler(seen.append)
    broken = evc(egressMap=[{"cosName": None}])
    with httpx.Client(timeout=10) as client:
        url = f"{listener.url}{BASE}/alarmCreateEvent"
        for event_id, details in (
            ("e-1", evc()),
            ("e-2", {"@type": UNKNOWN, "x": 1}),
            ("e-3", broken),
        ):
            assert client.post(url, json=_event(event_id, details)).status_code == 204
    assert listener.join(timeout=5)
    by_id = {n.event_id: n for n in seen}
    assert type(by_id["e-1"].event.details) is EvcConfiguration
    assert by_id["e-1"].deviations == []
    assert type(by_id["e-2"].event.details) is AlarmDetails
    assert by_id["e-2"].event.details.model_extra == {"x": 1}
    assert by_id["e-2"].deviations == []
    assert type(by_id["e-3"].event.details) is AlarmDetails
    assert by_id["e-3"].event.details.to_dict() == broken
    assert by_id["e-3"].deviations == []  # the envelope conforms
    assert [d["loc"] for d in by_id["e-3"].event.details.spec_deviations] == [
        ["egressMap", 0, "cosName"]
    ]


def test_listener_strict_mode_refuses_a_broken_known_payload(
    listen: Callable[..., NotificationListener],
) -> None:
    listener = listen(strict=True)
    seen: list[Notification] = []
    listener.add_handler(seen.append)
    with httpx.Client(timeout=10) as client:
        url = f"{listener.url}{BASE}/alarmCreateEvent"
        resp = client.post(url, json=_event("e-9", evc(evcType=5)))
        assert resp.status_code == 400
        assert "event.alarmDetails.evcType" in resp.json()["message"]
        assert client.post(url, json=_event("e-10", evc())).status_code == 204
    assert listener.join(timeout=5)
    assert [n.event_id for n in seen] == ["e-10"]
