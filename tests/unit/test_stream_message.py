"""The streamed PM message: generated from the pinned Message schema, typed by eventType."""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter, ValidationError

import lso_client
from codegen._messages import check_template, message_document
from codegen._spec import DEFAULT_SOURCE, PinnedFile, SpecError, SpecSource, load_manifest
from codegen.patches import load_patched
from lso_client import parse_message
from lso_client._events import message_class
from lso_client.types import streaming_message_v1 as types

SOURCE = DEFAULT_SOURCE
REFERENCE_POINTS = ("allegro", "interlude", "legato")


def ce_statistics(**changes: Any) -> dict[str, Any]:
    """A Carrier Ethernet performance statistics message as the PM streaming guide shows
    one (with the priority in the case Message.yaml spells), changed as asked."""
    message: dict[str, Any] = {
        "eventId": "88b6cb2d-e2ca-4093-9550-90c64096be7b",
        "eventTime": "2023-05-30T14:11:42.515835+02:00",
        "priority": "low",
        "event": {
            "key": {
                "serviceId": "service1",
                "fromCarrierEthernetServiceEndPoint": "1",
                "toCarrierEthernetServiceEndPoint": "2",
            },
            "metrics": {
                "oneWayHighLossIntervals": {"consecutiveNumberP": 38, "measuredOneWayChli": 71},
                "oneWayFrameDelay": {
                    "measuredOneWayFd": 67.5,
                    "oneWayFdPercentile": 0.14565401998011449,
                },
                "oneWayAvailability": {"oneWayAvailability": 0.9012261669223176},
                "oneWayFrameLossRatio": {"measuredOneWayFlr": 0.478900647869665},
            },
        },
        "eventType": "CePerformanceStatistics",
    }
    message.update(changes)
    return message


def text(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode()


# ----------------------------------------------------------------------------- where it is


@pytest.mark.parametrize("reference_point", REFERENCE_POINTS)
def test_the_message_is_a_model_of_pm_streaming_at_every_reference_point(
    reference_point: str,
) -> None:
    found = lso_client.model(reference_point, "pm_streaming", "Message")
    assert found is types.Message
    assert lso_client.model(reference_point, "pm_streaming", "CePerformanceStatisticsMessage") is (
        types.CePerformanceStatisticsMessage
    )
    assert message_class("CePerformanceStatistics", reference_point=reference_point) is (
        types.CePerformanceStatisticsMessage
    )
    assert message_class("anythingElse", reference_point=reference_point) is types.Message


def test_the_management_api_keeps_its_own_models_first() -> None:
    assert lso_client.model("allegro", "pm_streaming", "Topic").__module__.endswith(
        "streaming_management_v1"
    )
    # The message is no HTTP API: no operation, no client attribute.
    assert not lso_client.operations().where(module="streaming_message_v1")


def test_the_message_fields_are_those_of_the_spec() -> None:
    fields = {info.alias or name for name, info in types.Message.model_fields.items()}
    assert fields == {"eventId", "eventTime", "eventType", "priority", "description"}
    required = {info.alias for info in types.Message.model_fields.values() if info.is_required()}
    assert required == {"eventId", "eventType"}


# ----------------------------------------------------------------------------- reading


def test_a_ce_statistics_message_is_typed_down_to_its_measurements() -> None:
    sent = ce_statistics()
    message = parse_message(text(sent), strict=True)
    assert isinstance(message, types.CePerformanceStatisticsMessage)
    assert message.event_id == sent["eventId"]
    assert message.event_time is not None and message.event_time.utcoffset() is not None
    assert message.priority == types.Priority.low
    assert message.event is not None and message.event.key is not None
    assert message.event.key.service_id == "service1"
    metrics = message.event.metrics
    assert metrics is not None and metrics.one_way_frame_delay is not None
    assert metrics.one_way_frame_delay.measured_one_way_fd == 67.5
    assert metrics.one_way_high_loss_intervals is not None
    assert metrics.one_way_high_loss_intervals.consecutive_number_p == 38
    assert message.spec_deviations == []
    assert message.to_dict() == sent


def test_the_guides_upper_case_priority_is_accepted_strictly() -> None:
    sent = ce_statistics(priority="LOW")
    message = parse_message(text(sent), strict=True)
    assert message.priority == "LOW" and message.spec_deviations == []
    assert message.to_dict() == sent


@pytest.mark.parametrize("reference_point", REFERENCE_POINTS)
def test_an_unknown_event_type_is_a_generic_message_with_every_field(
    reference_point: str,
) -> None:
    sent = {
        "eventId": "e-1",
        "eventType": "IpPerformanceStatistics",
        "eventTime": "2025-01-01T00:00:00Z",
        "event": {"key": {"ipvcId": "v-1"}, "metrics": {"rtt": [1, 2.5]}},
        "sellerNote": "kept",
    }
    message = parse_message(text(sent), reference_point=reference_point, strict=True)
    assert type(message) is types.Message
    assert message.event_type == "IpPerformanceStatistics"
    assert message.spec_deviations == []  # eventType is an open string
    assert message.model_extra == {"event": sent["event"], "sellerNote": "kept"}
    assert message.to_dict() == sent


def test_unknown_fields_are_kept_at_every_level_of_a_typed_message() -> None:
    sent = ce_statistics(traceId="t-1")
    sent["event"]["window"] = {"start": "2025-01-01T00:00:00Z"}
    sent["event"]["metrics"]["twoWayFrameDelay"] = {"measuredTwoWayFd": 12}
    sent["event"]["key"]["cos"] = "H"
    message = parse_message(text(sent), strict=True)
    assert isinstance(message, types.CePerformanceStatisticsMessage)
    assert message.model_extra == {"traceId": "t-1"}
    assert message.to_dict() == sent


def test_a_deviating_message_keeps_its_class_and_records_the_departure() -> None:
    sent = ce_statistics(priority="urgent")
    sent["event"]["metrics"]["oneWayFrameDelay"]["measuredOneWayFd"] = "n/a"
    message = parse_message(text(sent))
    assert isinstance(message, types.CePerformanceStatisticsMessage)
    assert isinstance(message.event, types.CePerformanceStatistics)
    locations = sorted(tuple(d["loc"]) for d in message.spec_deviations)
    assert locations == [
        ("event", "metrics", "oneWayFrameDelay", "measuredOneWayFd"),
        ("priority",),
    ]
    assert message.priority == "urgent"
    assert message.to_dict() == sent
    with pytest.raises(ValidationError):
        parse_message(text(sent), strict=True)


def test_a_message_without_event_id_or_event_type_is_a_deviation() -> None:
    sent = {"eventTime": "2025-01-01T00:00:00Z", "event": {"x": 1}}
    message = parse_message(text(sent))
    assert type(message) is types.Message
    assert {tuple(d["loc"]) for d in message.spec_deviations} == {("eventId",), ("eventType",)}
    assert message.to_dict() == sent
    with pytest.raises(ValidationError):
        parse_message(text(sent), strict=True)


@pytest.mark.parametrize("body", [b"[]", b"{}", b'"message"', b"3"])
def test_what_is_not_a_message_is_refused_in_both_modes(body: bytes) -> None:
    for strict in (False, True):
        with pytest.raises(ValidationError):
            parse_message(body, strict=strict)


def test_text_that_is_not_json_is_refused() -> None:
    with pytest.raises(json.JSONDecodeError):
        parse_message(b"{eventId: 1")


def test_the_union_routes_by_event_type_in_plain_pydantic() -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(types.AnyMessage)
    typed = adapter.validate_python(ce_statistics())
    assert isinstance(typed, types.CePerformanceStatisticsMessage)
    other = adapter.validate_python({"eventId": "1", "eventType": "somethingElse", "event": {}})
    assert type(other) is types.Message
    with pytest.raises(ValidationError):
        adapter.validate_python({"eventId": "1"})


# parse_message reads the class its text names at once, without the union's decoding of
# the whole message; these are the cases where the text could mislead it.


def test_an_event_type_nested_in_the_event_does_not_choose_the_class() -> None:
    sent = ce_statistics()
    del sent["eventType"]
    sent["event"]["eventType"] = "CePerformanceStatistics"
    message = parse_message(text(sent))
    assert type(message) is types.Message
    assert [tuple(d["loc"]) for d in message.spec_deviations] == [("eventType",)]
    assert message.to_dict() == sent
    with pytest.raises(ValidationError):
        parse_message(text(sent), strict=True)


def test_an_event_type_at_two_levels_is_routed_by_the_top_one() -> None:
    sent = ce_statistics(eventType="IpPerformanceStatistics")
    sent["event"]["eventType"] = "CePerformanceStatistics"
    message = parse_message(text(sent), strict=True)
    assert type(message) is types.Message
    assert message.to_dict() == sent


@pytest.mark.parametrize(
    "spelling",
    [
        b'"eventType" : "CePerformanceStatistics"',
        b'"eventType":"CePerformance\\u0053tatistics"',
        b'"eventType":\n\t"CePerformanceStatistics"',
    ],
)
def test_the_event_type_is_read_however_the_json_spells_it(spelling: bytes) -> None:
    sent = ce_statistics()
    raw = text(sent).replace(b'"eventType": "CePerformanceStatistics"', spelling)
    assert raw != text(sent)
    for body in (raw, raw.decode()):
        message = parse_message(body, strict=True)
        assert isinstance(message, types.CePerformanceStatisticsMessage)
        assert message.to_dict() == sent


def test_a_message_reads_alike_as_bytes_and_as_text() -> None:
    for sent in (ce_statistics(), ce_statistics(eventType="Other"), ce_statistics(priority="x")):
        as_bytes, as_text = parse_message(text(sent)), parse_message(text(sent).decode())
        assert type(as_bytes) is type(as_text)
        assert as_bytes.to_dict() == as_text.to_dict() == sent
        assert as_bytes.spec_deviations == as_text.spec_deviations


def test_a_specialization_is_built_without_naming_its_event_type() -> None:
    built = types.CePerformanceStatisticsMessage(event_id="e-2", event={"key": {"serviceId": "s"}})
    assert built.event_type == "CePerformanceStatistics"
    assert isinstance(built.event, types.CePerformanceStatistics)


# ----------------------------------------------------------------------------- generation


def test_the_message_copies_and_templates_are_checked() -> None:
    entry = load_manifest().api("streaming_message_v1")
    pinned = {f.path for f in (entry.file, *entry.also)}
    for rp in REFERENCE_POINTS:
        assert f"{rp}/serviceApi/pm/models/Message.yaml" in pinned
    doc = load_patched(SpecSource(SOURCE), entry)
    assert set(doc["components"]["schemas"]) >= {"Message", "CePerformanceStatisticsMessage"}
    assert doc["paths"] == {}


def _copy_entry(tmp_path: Path, change: dict[str, Any]) -> tuple[SpecSource, Any]:
    """The message entry read from a copy of the release in which the Allegro template
    is `change`d (and re-pinned)."""
    entry = load_manifest().api("streaming_message_v1")
    for pinned in (entry.file, *entry.also):
        target = tmp_path / pinned.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SOURCE / pinned.path, target)
    template = next(f for f in entry.also if f.path.startswith("allegro/") and "asyncapi" in f.path)
    data = yaml.safe_load((SOURCE / template.path).read_text(encoding="utf-8"))
    data = {**copy.deepcopy(data), **change}
    raw = yaml.safe_dump(data).encode()
    (tmp_path / template.path).write_bytes(raw)
    repinned = PinnedFile(template.path, hashlib.sha256(raw).hexdigest())
    also = tuple(repinned if f.path == template.path else f for f in entry.also)
    return SpecSource(tmp_path), replace(entry, also=also)


def test_a_template_that_defines_the_event_schema_stops_generation(tmp_path: Path) -> None:
    change = {"components": {"schemas": {"Event": {"type": "object", "properties": {}}}}}
    source, entry = _copy_entry(tmp_path, change)
    with pytest.raises(SpecError, match="Event is defined now"):
        load_patched(source, entry)


def test_a_template_whose_referenced_file_is_published_stops_generation(tmp_path: Path) -> None:
    source, entry = _copy_entry(tmp_path, {})
    published = tmp_path / "allegro/serviceApi/pm/streaming/models/Event.yaml"
    published.parent.mkdir(parents=True)
    published.write_text("type: object\n", encoding="utf-8")
    template = next(f for f in entry.also if f.path.startswith("allegro/") and "asyncapi" in f.path)
    data = yaml.safe_load(source.read(template))
    with pytest.raises(SpecError, match="published now"):
        check_template(template.path, data, source)
    published.unlink()
    check_template(template.path, data, source)


def test_a_message_copy_that_differs_stops_generation(tmp_path: Path) -> None:
    source, entry = _copy_entry(tmp_path, {})
    schema = yaml.safe_load(source.read(entry.file))
    changed = {**schema, "required": ["eventId"]}
    with pytest.raises(SpecError, match="differs"):
        message_document(source, entry, changed)
