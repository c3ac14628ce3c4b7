"""Corrections applied to the upstream payload schemas before generation.

Each patch has a name, the upstream files it applies to and a one-line account of
the upstream defect it corrects. A patch that no longer finds what it corrects fails
loudly: when upstream changes, the patch is revisited rather than silently skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .patches import PatchError

Document = dict[str, Any]


@dataclass(frozen=True)
class PayloadPatch:
    """A named correction of one defect, for the files that share it."""

    name: str
    files: tuple[str, ...]
    why: str
    apply: Callable[[Document], None]


def _node(doc: Document, pointer: str) -> dict[str, Any]:
    node: Any = doc
    for part in [p for p in pointer.split("/") if p]:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise PatchError(f"{pointer} not found")
    if not isinstance(node, dict):
        raise PatchError(f"{pointer} is not a schema")
    return node


def _misplaced(schema: dict[str, Any], key: str) -> Any:
    """Remove and return `properties[key]`, which must be a keyword's value (not a
    property's schema)."""
    properties = schema.get("properties", {})
    if key not in properties:
        raise PatchError(f"no `{key}` in properties")
    value = properties[key]
    if isinstance(value, dict) and key not in ("properties",):
        raise PatchError(f"properties.{key} is a property's schema now")
    return properties.pop(key)


def keywords_out_of_properties(*targets: tuple[str, str]) -> Callable[[Document], None]:
    """Each (schema pointer, keyword): a keyword written inside `properties` goes back
    to its schema (`required` lists merge; `description`, `type` and `nullable`, which
    carry nothing the generator reads or repeat the schema's, are dropped)."""

    def apply(doc: Document) -> None:
        for pointer, key in targets:
            schema = _node(doc, pointer)
            value = _misplaced(schema, key)
            if key == "required":
                schema["required"] = [*schema.get("required", []), *value]
            elif key == "type" and "type" in schema and schema["type"] != value:
                raise PatchError(f"{pointer}: type {value} differs from {schema['type']}")

    return apply


def retarget(*pairs: tuple[str, str]) -> Callable[[Document], None]:
    """Each (old, new): every `$ref` that is `old` becomes `new`; each must be found."""

    def apply(doc: Document) -> None:
        for old, new in pairs:
            count = 0

            def walk(node: Any, old: str = old, new: str = new) -> None:
                nonlocal count
                if isinstance(node, dict):
                    if node.get("$ref") == old:
                        node["$ref"] = new
                        count += 1
                    for value in node.values():
                        walk(value)
                elif isinstance(node, list):
                    for value in node:
                        walk(value)

            walk(doc)
            if count == 0:
                raise PatchError(f"no $ref {old}")

    return apply


def _fm_configuration_layout(doc: Document) -> None:
    """The schema's properties and its definitions sit together under
    `properties.properties`, the definitions referred to as OpenAPI components."""
    nested = _misplaced(doc, "properties")
    if not isinstance(nested, dict) or "Entity" not in nested:
        raise PatchError("properties.properties no longer holds the definitions")
    definitions = doc.setdefault("definitions", {})
    for name in [n for n in nested if n[:1].isupper()]:
        definitions[name] = nested.pop(name)
    doc["properties"].update(nested)
    retarget(
        *(
            (f"#/components/schemas/{name}", f"#/definitions/{name}")
            for name in ("Entity", "SlsReferencePoint", "IpvcEndPoint", "Location", "Interface")
        )
    )(doc)


_FM_RESULTS_DEFINITIONS = (
    "IpPacketErrorStatistics",
    "IpvcEndPoint",
    "Location",
    "SlsReferencePoint",
    "SlsRpPair",
    "TimePeriod",
)


def _fm_results_openapi_document(doc: Document) -> None:
    """An OpenAPI document with no paths: its URN is `x-mef-id`, its schemas are
    `components.schemas`, and no schema stands for the results themselves. The URN
    becomes `$id` and the results are IpPacketErrorStatistics, the one schema of
    results, kept as the document's one definition. The other components (IpvcEndPoint,
    Location, SlsReferencePoint, SlsRpPair, TimePeriod) are the configuration's common
    definitions, which nothing here refers to: not generated a second time."""
    if "$id" in doc or not isinstance(doc.get("x-mef-id"), str):
        raise PatchError("the URN is no longer (only) an `x-mef-id`")
    if doc.get("paths") != {} or not str(doc.get("openapi", "")).startswith("3."):
        raise PatchError("no longer an OpenAPI document without paths")
    if any(key in doc for key in ("type", "properties", "allOf", "oneOf", "$ref")):
        raise PatchError("the document has a schema of its own now")
    schemas = doc.get("components", {}).get("schemas")
    if not isinstance(schemas, dict) or tuple(schemas) != _FM_RESULTS_DEFINITIONS:
        raise PatchError(f"components.schemas are no longer {', '.join(_FM_RESULTS_DEFINITIONS)}")
    statistics = schemas["IpPacketErrorStatistics"]
    if statistics.get("type") != "object" or any(True for _ in _refs(statistics)):
        raise PatchError("IpPacketErrorStatistics is no longer an object of plain properties")
    urn = doc.pop("x-mef-id")
    schema = doc.pop("x-schema", None)
    for key in ("openapi", "paths", "info", "components"):
        doc.pop(key)
    doc["$id"] = urn
    if schema is not None:
        doc["$schema"] = schema
    doc["definitions"] = {"IpPacketErrorStatistics": statistics}
    doc["type"] = "object"
    doc["allOf"] = [{"$ref": "#/definitions/IpPacketErrorStatistics"}]


def _refs(node: Any) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _evc_ep_egress_map(doc: Document) -> None:
    """EvcEpEgressMap carries, beside its one property, `type`, `description` and a
    `properties` block (an inline copy of EvcEgressMapEntry) inside `properties`."""
    schema = _node(doc, "definitions/EvcEpEgressMap")
    for key in ("type", "description", "properties"):
        _misplaced(schema, key)


def _property_from_ref(pointer: str, name: str) -> Callable[[Document], None]:
    """Property `name` has no schema (null, or a description only), its `$ref` written
    one level up, beside it in `properties`: the reference is the property's schema."""

    def apply(doc: Document) -> None:
        schema = _node(doc, pointer)
        properties = schema["properties"]
        value = properties.get(name, False)
        if not (value is None or (isinstance(value, dict) and set(value) <= {"description"})):
            raise PatchError(f"{pointer}: {name} has a schema now")
        if not isinstance(properties.get("$ref"), str):
            raise PatchError(f"{pointer}: no stray $ref in properties")
        properties[name] = {**(value or {}), "$ref": properties.pop("$ref")}

    return apply


def _single_address(doc: Document) -> None:
    """sourceIpAddress and destinationIpAddress are a YAML list holding one schema."""
    for name in ("sourceIpAddress", "destinationIpAddress"):
        value = doc["properties"][name]
        if not (isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict)):
            raise PatchError(f"{name} is no longer a one-schema list")
        doc["properties"][name] = value[0]


def _port_number_range(pointer: str) -> Callable[[Document], None]:
    """`min` and `max` (0 and 65535) sit in `properties`: they bound portNumber."""

    def apply(doc: Document) -> None:
        schema = _node(doc, pointer)
        port = schema["properties"]["portNumber"]
        port["minimum"] = _misplaced(schema, "min")
        port["maximum"] = _misplaced(schema, "max")

    return apply


def _quarantine_list_type(doc: Document) -> None:
    """ippfQuarantineList has `type: null` beside its `items`."""
    prop = _node(doc, "definitions/IpPortProtocolFilter/properties/ippfQuarantineList")
    if "type" not in prop or prop["type"] is not None:
        raise PatchError("ippfQuarantineList.type is no longer null")
    prop["type"] = "array"


def _protocol_keywords(doc: Document) -> None:
    """protoV4KeyWord items refer to IanaProtocolNumbers, defined nowhere: a keyword
    is a string."""
    items = _node(doc, "definitions/ProtocolV4/properties/protoV4KeyWord/items")
    if items.get("$ref") != "#/definitions/IanaProtocolNumbers":
        raise PatchError("protoV4KeyWord items changed")
    items.clear()
    items["type"] = "string"


def _named_identifiers(*pointers: str) -> Callable[[Document], None]:
    """Each property's `allOf` is a mapping (one schema, `type: String`), not a list."""

    def apply(doc: Document) -> None:
        for pointer in pointers:
            prop = _node(doc, pointer)
            inner = prop.get("allOf")
            if not isinstance(inner, dict) or inner.get("type") != "String":
                raise PatchError(f"{pointer}.allOf is no longer a mapping with type String")
            del prop["allOf"]
            prop.update({**inner, "type": "string"})

    return apply


def rename_required(pointer: str, old: str, new: str | None) -> Callable[[Document], None]:
    """The schema at `pointer` requires `old`, which is none of its properties: it
    requires `new` instead (or nothing, for None)."""

    def apply(doc: Document) -> None:
        schema = _node(doc, pointer)
        required = schema.get("required", [])
        if old not in required or old in schema.get("properties", {}):
            raise PatchError(f"{pointer or '/'}: `required` no longer names an absent {old}")
        if new is not None and new not in schema.get("properties", {}):
            raise PatchError(f"{pointer or '/'}: no property {new}")
        schema["required"] = [r for r in (new if r == old else r for r in required) if r]

    return apply


def _legato_ce_admin_state(doc: Document) -> None:
    for name in ("CarrierEthernetService", "CarrierEthernetServiceEndPoint"):
        rename_required(f"definitions/{name}", "adminState", "administrativeState")(doc)


PAYLOAD_PATCHES: tuple[PayloadPatch, ...] = (
    PayloadPatch(
        "description-in-top-level-properties",
        (
            "allegro/schema/serviceSchema/carrierEthernet/faultPerformanceManagement/carrierEthernetPerformanceMonitoringConfiguration.yaml",
            "allegro/schema/serviceSchema/carrierEthernet/faultPerformanceManagement/carrierEthernetPerformanceMonitoringResults.yaml",
            "allegro/schema/serviceSchema/ip/faultPerformanceManagement/ipPerformanceMonitoringConfiguration.yaml",
            "allegro/schema/serviceSchema/ip/faultPerformanceManagement/ipPerformanceMonitoringResults.yaml",
            "allegro/schema/serviceSchema/ip/faultPerformanceManagement/faultManagement/ipTcaConfiguration.yaml",
            "allegro/schema/serviceSchema/ip/faultPerformanceManagement/faultManagement/ipFaultManagementConfiguration.yaml",
            "allegro/schema/serviceSchema/ip/faultPerformanceManagement/faultManagement/ipAlarms/bwUtilizationTca.yaml",
            "allegro/schema/serviceSchema/ip/faultPerformanceManagement/faultManagement/ipAlarms/ipLos.yaml",
            "allegro/schema/serviceSchema/ip/faultPerformanceManagement/faultManagement/ipAlarms/packetLossTca.yaml",
            "allegro/schema/serviceSchema/ip/sat/faultManagment/bfd/bfdConfiguration.yaml",
            "allegro/schema/serviceSchema/ip/sat/faultManagment/bfd/bfdReport.yaml",
            "allegro/schema/serviceSchema/ip/sat/faultManagment/ping/pingConfiguration.yaml",
            "allegro/schema/serviceSchema/ip/sat/faultManagment/ping/pingReport.yaml",
            "allegro/schema/serviceSchema/ip/sat/faultManagment/traceroute/traceRouteConfiguration.yaml",
            "allegro/schema/serviceSchema/ip/sat/faultManagment/traceroute/traceRouteReport.yaml",
            "allegro/schema/serviceSchema/ip/sat/faultManagment/twamp/twampConfiguration.yaml",
            "allegro/schema/serviceSchema/ip/sat/faultManagment/twamp/twampReport.yaml",
            "allegro/schema/serviceSchema/ip/sat/ipSat/iPerf/iPerfConfiguration.yaml",
            "allegro/schema/serviceSchema/ip/soam/performanceMonitoring/stamp/stampConfiguration.yaml",
            "legato/serviceSchema/carrierEthernet/faultPerformanceManagement/carrierEthernetPerformanceMonitoringConfiguration.yaml",
            "legato/serviceSchema/carrierEthernet/faultPerformanceManagement/carrierEthernetPerformanceMonitoringResults.yaml",
            "legato/serviceSchema/ip/faultPerformanceManagement/ipPerformanceMonitoringConfiguration.yaml",
            "legato/serviceSchema/ip/faultPerformanceManagement/ipPerformanceMonitoringResults.yaml",
        ),
        "The schema's description is written inside its `properties`, as if a property.",
        keywords_out_of_properties(("", "description")),
    ),
    PayloadPatch(
        "description-in-definition-properties",
        ("allegro/schema/serviceSchema/carrierEthernet/carrierEthernetCommon.yaml",),
        "IngressBwpFlow's description is written inside its `properties`.",
        keywords_out_of_properties(("definitions/IngressBwpFlow", "description")),
    ),
    PayloadPatch(
        "sd-wan-importance-levels-description",
        (
            "allegro/schema/serviceSchema/sdWan/sdWanCommon.yaml",
            "legato/serviceSchema/sdWan/sdWanCommon.yaml",
        ),
        "ApplicationFlowBusinessImportanceLevels' description is written inside its `properties`.",
        keywords_out_of_properties(
            ("definitions/ApplicationFlowBusinessImportanceLevels", "description")
        ),
    ),
    PayloadPatch(
        "required-in-top-level-properties",
        (
            "legato/serviceSchema/sdWan/sdWanUni.yaml",
            "legato/serviceSchema/ip/ipvcEndPoint.yaml",
            "legato/serviceSchema/ip/ipServicesExternalInterfaceLink.yaml",
            "legato/serviceSchema/ip/ipEnni.yaml",
        ),
        "The schema's `required` list is written inside its `properties`, as if a property.",
        keywords_out_of_properties(("", "required")),
    ),
    PayloadPatch(
        "sd-wan-ip-common-required-in-properties",
        ("legato/serviceSchema/sdWan/common/ipCommon.yaml",),
        "BgpCommunity, Ipv4Subnet and Ipv6Subnet write their `required` list inside `properties`.",
        keywords_out_of_properties(
            ("definitions/BgpCommunity", "required"),
            ("definitions/Ipv4Subnet", "required"),
            ("definitions/Ipv6Subnet", "required"),
        ),
    ),
    PayloadPatch(
        "sd-wan-ip-common-nullable-in-properties",
        ("legato/serviceSchema/sdWan/common/ipCommon.yaml",),
        "Ipv4PrimarySubnet writes OpenAPI's `nullable` (not JSON Schema) inside `properties`.",
        keywords_out_of_properties(("definitions/Ipv4PrimarySubnet/allOf/1", "nullable")),
    ),
    PayloadPatch(
        "port-number-range-in-properties",
        (
            "allegro/schema/serviceSchema/sdWan/sdWanCommon.yaml",
            "legato/serviceSchema/sdWan/common/ipCommon.yaml",
        ),
        "ServiceNameAndTransportProtocols writes portNumber's bounds as properties `min` "
        "and `max`.",
        _port_number_range("definitions/ServiceNameAndTransportProtocols"),
    ),
    PayloadPatch(
        "sd-wan-name-allof-mapping",
        (
            "allegro/schema/serviceSchema/sdWan/sdWanCommon.yaml",
            "legato/serviceSchema/sdWan/sdWanCommon.yaml",
        ),
        "Policy.polName, VirtualTopology.vtName and Zone.zoneName write `allOf` as a mapping "
        "with `type: String`.",
        _named_identifiers(
            "definitions/Policy/properties/polName",
            "definitions/VirtualTopology/properties/vtName",
            "definitions/Zone/properties/zoneName",
        ),
    ),
    PayloadPatch(
        "sd-wan-quarantine-list-type",
        ("allegro/schema/serviceSchema/sdWan/sdWanCommon.yaml",),
        "IpPortProtocolFilter.ippfQuarantineList declares `type: null` for an array.",
        _quarantine_list_type,
    ),
    PayloadPatch(
        "allegro-sd-wan-ippf-undefined",
        ("allegro/schema/serviceSchema/sdWan/sdWanCommon.yaml",),
        "IpPortProtocolFilter refers to #/definitions/Ippf, which Allegro does not define; "
        "Legato's sdWanCommon.yaml does.",
        retarget(
            (
                "#/definitions/Ippf",
                "../../../../legato/serviceSchema/sdWan/sdWanCommon.yaml#/definitions/Ippf",
            )
        ),
    ),
    PayloadPatch(
        "legato-sd-wan-time-units-name",
        ("legato/serviceSchema/sdWan/sdWanCommon.yaml",),
        "Period.units refers to #/definitions/TimeUnits; the definition is TimeDurationUnits.",
        retarget(("#/definitions/TimeUnits", "#/definitions/TimeDurationUnits")),
    ),
    PayloadPatch(
        "sd-wan-iana-protocol-numbers-undefined",
        ("legato/serviceSchema/sdWan/common/ipCommon.yaml",),
        "ProtocolV4.protoV4KeyWord refers to IanaProtocolNumbers, defined nowhere.",
        _protocol_keywords,
    ),
    PayloadPatch(
        "evc-end-point-egress-map-nested-entry",
        ("allegro/schema/serviceSchema/carrierEthernet/carrierEthernetEvcEndPoint.yaml",),
        "EvcEpEgressMap has `type`, `description` and an inline EvcEgressMapEntry copy "
        "inside `properties`.",
        _evc_ep_egress_map,
    ),
    PayloadPatch(
        "evc-egress-maps-enums-path",
        ("allegro/schema/common/carrierEthernet/subscriberEthernetCommon/evcEgressMaps.yaml",),
        "EvcEgressMapEntry refers to carrierEthernetEnums.yaml two folders too high.",
        retarget(
            *(
                (
                    f"../../../../common/carrierEthernet/carrierEthernetEnums.yaml#/definitions/{n}",
                    f"../carrierEthernetEnums.yaml#/definitions/{n}",
                )
                for n in ("PcpValueAndDiscard", "DeiValueAndDiscard")
            )
        ),
    ),
    PayloadPatch(
        "subscriber-uni-common-path",
        ("allegro/schema/serviceSchema/carrierEthernet/carrierEthernetSubscriberUni.yaml",),
        "SubscriberUniPhysicalLinks refers to common.yaml one folder too high.",
        retarget(
            (
                "../../../common/common.yaml#/definitions/Gender",
                "../../common/common.yaml#/definitions/Gender",
            )
        ),
    ),
    PayloadPatch(
        "ip-routing-protocols-common-paths",
        ("allegro/schema/common/ip/ipRoutingProtocolsCommon.yaml",),
        "References to common.yaml and ipCommon.yaml are one folder too high.",
        retarget(
            *(
                (
                    f"../../../common/common.yaml#/definitions/{n}",
                    f"../common.yaml#/definitions/{n}",
                )
                for n in ("FourOctetInteger", "EnabledDisabled", "IdentifierString")
            ),
            (
                "../../common/ipCommon.yaml#/definitions/L2Technology",
                "ipCommon.yaml#/definitions/L2Technology",
            ),
        ),
    ),
    PayloadPatch(
        "ip-routing-protocols-common-local-names",
        ("allegro/schema/common/ip/ipRoutingProtocolsCommon.yaml",),
        "Vrid, UniManagementType and the BWP envelope parts are referred to locally but "
        "live in ipCommon.yaml (IpBwpFlowPerCosName as IpvcEpBwp, IpBwpFlowAll as IpvcEpBwpAll).",
        retarget(
            ("#/definitions/Vrid", "ipCommon.yaml#/definitions/Vrid"),
            ("#/definitions/UniManagementType", "ipCommon.yaml#/definitions/UniManagementType"),
            ("#/definitions/IpBwpEnvelope", "ipCommon.yaml#/definitions/IpBwpEnvelope"),
            ("#/definitions/IpBwpFlowPerCosName", "ipCommon.yaml#/definitions/IpvcEpBwp"),
            ("#/definitions/IpBwpFlowAll", "ipCommon.yaml#/definitions/IpvcEpBwpAll"),
        ),
    ),
    PayloadPatch(
        "ip-uni-common-reverse-path-forwarding",
        ("allegro/schema/common/ip/ipRoutingProtocolsCommon.yaml",),
        "IpUniCommon.reversePathForwarding is empty, its `$ref` written beside it in `properties`.",
        _property_from_ref("definitions/IpUniCommon", "reversePathForwarding"),
    ),
    PayloadPatch(
        "ip-los-direction",
        (
            "allegro/schema/serviceSchema/ip/faultPerformanceManagement/faultManagement/ipAlarms/ipLos.yaml",
        ),
        "`direction` is null, its `$ref` written beside it in `properties`.",
        _property_from_ref("", "direction"),
    ),
    PayloadPatch(
        "bfd-report-address-lists",
        ("allegro/schema/serviceSchema/ip/sat/faultManagment/bfd/bfdReport.yaml",),
        "sourceIpAddress and destinationIpAddress are YAML lists holding one schema.",
        _single_address,
    ),
    PayloadPatch(
        "fm-configuration-definitions-in-properties",
        (
            "allegro/schema/serviceSchema/ip/faultPerformanceManagement/faultManagement/ipFaultManagementConfiguration.yaml",
        ),
        "Properties and definitions are nested together under `properties.properties`, "
        "referred to as #/components/schemas/... in a file that has no components.",
        _fm_configuration_layout,
    ),
    PayloadPatch(
        "fm-results-openapi-document",
        (
            "allegro/schema/serviceSchema/ip/faultPerformanceManagement/faultManagement/ipFaultManagementResults.yaml",
        ),
        "An OpenAPI document without paths: its URN is `x-mef-id` (not `$id`), its schemas "
        "are components, none of them named as the results (IpPacketErrorStatistics is), "
        "the others unreferenced copies of the configuration's definitions.",
        _fm_results_openapi_document,
    ),
    PayloadPatch(
        "ipvc-ip-sls-case",
        ("allegro/schema/serviceSchema/ip/ipvc.yaml",),
        "serviceLevelSpecification refers to IpSls.yaml; the file is ipSls.yaml.",
        retarget(("./IpSls.yaml#/definitions/IpSls", "./ipSls.yaml#/definitions/IpSls")),
    ),
    PayloadPatch(
        "stamp-configuration-ip-sls-path",
        (
            "allegro/schema/serviceSchema/ip/soam/performanceMonitoring/stamp/stampConfiguration.yaml",
        ),
        "`interface` refers to ipSls.yaml with one `../` too few.",
        retarget(
            ("../../ipSls.yaml#/definitions/Location", "../../../ipSls.yaml#/definitions/Location")
        ),
    ),
    PayloadPatch(
        "enni-service-required-identifier-spelling",
        ("allegro/schema/serviceSchema/carrierEthernet/carrierEthernetEnniService.yaml",),
        "`required` names operatorEnnIdentifier; the property is operatorEnniIdentifier.",
        rename_required("", "operatorEnnIdentifier", "operatorEnniIdentifier"),
    ),
    PayloadPatch(
        "bfd-report-required-timestamp",
        ("allegro/schema/serviceSchema/ip/sat/faultManagment/bfd/bfdReport.yaml",),
        "`required` names timestamp, which is not one of the report's properties.",
        rename_required("", "timestamp", None),
    ),
    PayloadPatch(
        "legato-ce-required-admin-state",
        ("legato/serviceSchema/carrierEthernet/carrierEthernetCommon.yaml",),
        "CarrierEthernetService and CarrierEthernetServiceEndPoint require adminState; the "
        "property is administrativeState.",
        _legato_ce_admin_state,
    ),
    PayloadPatch(
        "ip-external-interface-required-identifier-spelling",
        ("legato/serviceSchema/ip/ipServicesExternalInterface.yaml",),
        "`required` names identfier; the property is identifier.",
        rename_required("", "identfier", "identifier"),
    ),
    PayloadPatch(
        "sw-vc-end-point-required-identifier",
        ("legato/serviceSchema/sdWan/swVcEndPoint.yaml",),
        "`required` names endPointIdentifier; the property is swVcEndPointIdentifier.",
        rename_required("", "endPointIdentifier", "swVcEndPointIdentifier"),
    ),
)


def apply_payload_patches(path: str, doc: Document) -> list[str]:
    """Apply every patch for upstream file `path`; returns the names applied."""
    applied = []
    for patch in PAYLOAD_PATCHES:
        if path in patch.files:
            try:
                patch.apply(doc)
            except (PatchError, KeyError, TypeError) as exc:
                raise PatchError(f"{path}: patch {patch.name} failed: {exc}") from exc
            applied.append(patch.name)
    return applied
