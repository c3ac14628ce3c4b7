"""Generated service payload models: every pinned `$id` schema has a model reachable from
its URN, the models read the developer guides' example payloads, and the corrections
to upstream schemas fail loudly when upstream changes."""

from __future__ import annotations

import copy
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

import codegen.__main__ as codegen_main
from codegen._payloads import (
    OUTPUT,
    class_name,
    comparable,
    defects,
    layout,
    load_payload_manifest,
    prepare,
)
from codegen._spec import DEFAULT_SOURCE, REPO_ROOT, PinnedFile, SpecError, SpecSource
from codegen.patches import PatchError
from codegen.payload_patches import PAYLOAD_PATCHES, apply_payload_patches
from lso_client._generated.payloads._registry import REGISTRY
from lso_client._model import Payload

GUIDES = DEFAULT_SOURCE / "guides"


def _model(urn: str) -> type[Payload]:
    module, name = REGISTRY[urn]
    cls = getattr(importlib.import_module(module), name)
    assert isinstance(cls, type) and issubclass(cls, Payload)
    return cls


FM_RESULTS = (
    "allegro/schema/serviceSchema/ip/faultPerformanceManagement/faultManagement/"
    "ipFaultManagementResults.yaml"
)


@pytest.fixture(scope="module")
def source() -> SpecSource:
    return SpecSource(DEFAULT_SOURCE)


@pytest.fixture(scope="module")
def raw(source: SpecSource) -> dict[str, Any]:
    """Every pinned payload file as upstream publishes it (checksums verified)."""
    return {e.file.path: yaml.safe_load(source.read(e.file)) for e in load_payload_manifest()}


def test_every_pinned_id_schema_is_in_the_registry(raw: dict[str, Any]) -> None:
    ids = {path: doc["$id"] for path, doc in raw.items() if isinstance(doc, dict) and "$id" in doc}
    assert len(ids) >= 100
    # One file, an OpenAPI document, names its URN `x-mef-id` (patch fm-results-openapi-document).
    other = {path: doc["x-mef-id"] for path, doc in raw.items() if "x-mef-id" in (doc or {})}
    assert list(other) == [FM_RESULTS]
    assert set(ids.values()) | set(other.values()) == set(REGISTRY)


def test_every_payload_file_in_the_schema_folders_is_pinned() -> None:
    pinned = {e.file.path for e in load_payload_manifest()}
    on_disk = {
        str(path.relative_to(DEFAULT_SOURCE))
        for folder in ("allegro/schema", "interlude/serviceSchema", "legato/serviceSchema")
        for path in (DEFAULT_SOURCE / folder).rglob("*.yaml")
    }
    # The alarm payloads are published beside the alarm API, whose files are API definitions.
    alarm_payloads = {
        str(path.relative_to(DEFAULT_SOURCE))
        for path in (DEFAULT_SOURCE / "allegro/serviceApi/alarm").glob("*.yaml")
        if not path.name.endswith(".api.yaml")
    }
    assert len(alarm_payloads) == 3
    assert on_disk | alarm_payloads == pinned


@pytest.mark.parametrize("urn", sorted(REGISTRY))
def test_registry_entry_imports_a_payload_class_fixed_to_its_urn(urn: str) -> None:
    cls = _model(urn)
    field = cls.model_fields["type"]
    assert field.alias == "@type"
    assert field.default == urn
    with pytest.raises(ValidationError) as caught:
        cls.model_validate({"@type": urn + ":other"})
    assert ("@type",) in [error["loc"] for error in caught.value.errors()]


def test_registry_points_at_generated_files_only() -> None:
    for module, name in REGISTRY.values():
        relative = module.removeprefix("lso_client._generated.payloads.").replace(".", "/")
        path = OUTPUT / f"{relative}.py"
        assert path.is_file(), module
        assert re.search(rf"^class {name}\(", path.read_text(encoding="utf-8"), flags=re.M)
        assert class_name(relative) == name


def test_module_layout_is_by_reference_point_and_technology() -> None:
    assert (
        layout("allegro/schema/serviceSchema/carrierEthernet/carrierEthernetOvcEndPoint.yaml")
        == "allegro/carrier_ethernet/carrier_ethernet_ovc_end_point"
    )
    assert layout("allegro/schema/common/ip/ipCommon.yaml") == "allegro/common/ip/ip_common"
    assert layout("legato/serviceSchema/sdWan/swVc.yaml") == "legato/sd_wan/sw_vc"
    with pytest.raises(SpecError):
        layout("allegro/serviceApi/order/serviceOrderingManagement.api.yaml")


def test_shared_definitions_are_imported_not_copied() -> None:
    ovc = (OUTPUT / "allegro/carrier_ethernet/carrier_ethernet_ovc_end_point.py").read_text()
    assert "from . import carrier_ethernet_common" in ovc
    assert "class CosMap(" not in ovc
    common = (OUTPUT / "allegro/carrier_ethernet/carrier_ethernet_common.py").read_text()
    assert re.search(r"^class CosMap\(", common, flags=re.M)


def test_duplicate_urns_are_read_pinned_and_the_same_schema(raw: dict[str, Any]) -> None:
    duplicates = [e for e in load_payload_manifest() if e.same_as is not None]
    assert len(duplicates) == 10
    for entry in duplicates:
        same_as = entry.same_as
        assert same_as is not None
        assert raw[entry.file.path]["$id"] == raw[same_as]["$id"]
        assert comparable(entry.file.path, raw[entry.file.path]) == comparable(
            same_as, raw[same_as]
        )
        assert layout(entry.file.path).replace("/", ".") not in {
            m.removeprefix("lso_client._generated.payloads.") for m, _ in REGISTRY.values()
        }


def test_a_duplicate_that_differs_is_noticed(raw: dict[str, Any]) -> None:
    path = (
        "interlude/serviceSchema/ip/faultPerformanceManagement/ipPerformanceMonitoringResults.yaml"
    )
    entry = next(e for e in load_payload_manifest() if e.file.path == path)
    assert entry.same_as is not None
    changed = copy.deepcopy(raw[path])
    changed["properties"]["extraKnob"] = {"type": "string"}
    assert comparable(path, changed) != comparable(entry.same_as, raw[entry.same_as])


def test_an_altered_payload_file_is_refused(tmp_path: Path) -> None:
    pinned = load_payload_manifest()[0].file
    target = tmp_path / pinned.path
    target.parent.mkdir(parents=True)
    target.write_bytes((DEFAULT_SOURCE / pinned.path).read_bytes() + b"\n# changed\n")
    with pytest.raises(SpecError, match="sha256"):
        SpecSource(tmp_path).read(PinnedFile(pinned.path, pinned.sha256))


# ----------------------------------------------------------------------------- patches


def test_every_patch_targets_a_pinned_file_and_applies(raw: dict[str, Any]) -> None:
    pinned = {e.file.path: e for e in load_payload_manifest()}
    applied: set[str] = set()
    for path, doc in raw.items():
        if doc is None or pinned[path].same_as is not None:
            continue
        applied.update(apply_payload_patches(path, copy.deepcopy(doc)))
    for patch in PAYLOAD_PATCHES:
        assert set(patch.files) <= set(pinned), patch.name
        assert "\n" not in patch.why and patch.why, patch.name
    assert applied == {patch.name for patch in PAYLOAD_PATCHES}
    assert len({patch.name for patch in PAYLOAD_PATCHES}) == len(PAYLOAD_PATCHES)


@pytest.mark.parametrize("patch", PAYLOAD_PATCHES, ids=lambda p: p.name)
def test_a_patch_whose_defect_is_gone_fails_loudly(patch: Any, raw: dict[str, Any]) -> None:
    """Upstream fixed (here: the patch already applied): the patch refuses to run."""
    path = patch.files[0]
    doc = copy.deepcopy(raw[path])
    patch.apply(doc)
    with pytest.raises(PatchError, match=patch.name):
        apply_payload_patches(path, doc)


def test_a_description_patch_on_a_corrected_copy_fails(raw: dict[str, Any]) -> None:
    path = "legato/serviceSchema/ip/faultPerformanceManagement/ipPerformanceMonitoringResults.yaml"
    doc = copy.deepcopy(raw[path])
    doc["description"] = doc["properties"].pop("description")
    with pytest.raises(PatchError, match="description-in-top-level-properties"):
        apply_payload_patches(path, doc)


def test_the_fm_results_document_becomes_a_schema_of_its_results(raw: dict[str, Any]) -> None:
    doc = copy.deepcopy(raw[FM_RESULTS])
    assert "$id" not in doc and doc["openapi"].startswith("3.")
    assert apply_payload_patches(FM_RESULTS, doc) == ["fm-results-openapi-document"]
    assert doc["$id"] == "urn:mef:xid:spec:legato:ip-fault-management-results:v0.0.1:all"
    assert doc["allOf"] == [{"$ref": "#/definitions/IpPacketErrorStatistics"}]
    assert list(doc["definitions"]) == ["IpPacketErrorStatistics"]
    assert not {"openapi", "paths", "info", "components", "x-mef-id"} & set(doc)
    model = _model(doc["$id"])
    typed = model.model_validate({"@type": doc["$id"], "interface": "ge-0/0/1", "outDiscards": 7})
    assert typed.to_dict() == {"@type": doc["$id"], "interface": "ge-0/0/1", "outDiscards": 7}
    with pytest.raises(ValidationError):
        model.model_validate({"@type": doc["$id"], "outDiscards": "many"})


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update({"$id": d["x-mef-id"]}),
        lambda d: d["components"]["schemas"].update({"IpFaultManagementResults": {}}),
        lambda d: d["components"]["schemas"]["IpPacketErrorStatistics"]["properties"].update(
            {"entity": {"$ref": "#/components/schemas/IpvcEndPoint"}}
        ),
        lambda d: d.update({"type": "object", "properties": {}}),
    ],
    ids=["id", "new-schema", "statistics-refer", "own-schema"],
)
def test_the_fm_results_patch_fails_when_upstream_changes(raw: dict[str, Any], change: Any) -> None:
    doc = copy.deepcopy(raw[FM_RESULTS])
    change(doc)
    with pytest.raises(PatchError, match="fm-results-openapi-document"):
        apply_payload_patches(FM_RESULTS, doc)


def test_defects_the_generator_would_pass_over_are_reported() -> None:
    path = "legato/serviceSchema/ip/example.yaml"
    doc = {
        "type": "object",
        "properties": {
            "identifier": {"type": "string"},
            "required": ["identifier"],
            "site": {"$ref": "./ipCommon.yaml#/definitions/NoSuchSite"},
            "other": {"$ref": "./IpCommon.yaml#/definitions/Site"},
        },
        "required": ["identfier"],
    }
    docs = {"legato/serviceSchema/ip/ipCommon.yaml": {"definitions": {"Site": {}}}}
    found = defects(path, doc, docs)
    assert found == [
        "/properties/required is not a schema",
        "/ requires identfier, which is none of its properties",
        "$ref ./ipCommon.yaml#/definitions/NoSuchSite: legato/serviceSchema/ip/ipCommon.yaml "
        "has no /definitions/NoSuchSite",
        "$ref ./IpCommon.yaml#/definitions/Site: no pinned file "
        "legato/serviceSchema/ip/IpCommon.yaml",
    ]


def test_generation_reads_every_pinned_file_and_finds_no_defect_left(source: SpecSource) -> None:
    prepared = prepare(source)
    assert len(prepared.docs) == len(load_payload_manifest())
    assert len(prepared.ids) == len(REGISTRY)


# ----------------------------------------------------------------------------- examples


def _guide_examples() -> list[tuple[str, dict[str, Any]]]:
    """Objects with a shipped `@type` in the guides' JSON examples (their `<< ... >>`
    annotations and the trailing commas they leave removed)."""
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(node: Any, guide: str) -> None:
        if isinstance(node, dict):
            if node.get("@type") in REGISTRY:
                found.append((guide, node))
            for value in node.values():
                walk(value, guide)
        elif isinstance(node, list):
            for value in node:
                walk(value, guide)

    for guide in sorted(GUIDES.glob("*.md")):
        for block in re.findall(r"```json\n(.*?)```", guide.read_text(encoding="utf-8"), re.S):
            if '"@type": "urn:mef:' not in block:
                continue
            block = re.sub(r",(\s*[}\]])", r"\1", re.sub(r"<<.*?>>", "", block))
            walk(json.loads(block), guide.stem)
    return found


EXAMPLES = _guide_examples()


def test_the_guides_hold_examples_of_shipped_payloads() -> None:
    assert len(EXAMPLES) >= 10
    assert len({example["@type"] for _, example in EXAMPLES}) >= 2


@pytest.mark.parametrize(
    "example", [e for _, e in EXAMPLES], ids=[f"{g}-{i}" for i, (g, _) in enumerate(EXAMPLES)]
)
def test_a_guide_example_parses_typed_and_round_trips(example: dict[str, Any]) -> None:
    model = _model(example["@type"]).model_validate(example)
    assert model.to_dict() == example
    declared = set(model.model_fields_set) - {"type"}
    assert declared, "every field of the example went to extras"
    assert not model.model_extra


def test_a_bad_body_names_the_path_inside_the_payload() -> None:
    urn = "urn:mef:lso:spec:service:carrier-ethernet-ovc-end-point:v1.0.0:all"
    cls = _model(urn)
    with pytest.raises(ValidationError) as caught:
        cls.model_validate(
            {"@type": urn, "identifier": "ep-1", "maintenanceEndPointList": [{"level": 9}]}
        )
    assert [e["loc"] for e in caught.value.errors()] == [("maintenanceEndPointList", 0, "level")]
    good = cls.model_validate(
        {"@type": urn, "identifier": "ep-1", "maintenanceEndPointList": [{"level": 3}]}
    )
    assert good.to_dict()["maintenanceEndPointList"] == [{"level": 3}]


def test_constraints_the_generator_drops_are_checked() -> None:
    """`uniqueItems` and `minProperties`, which the generator leaves out, are checked by
    the validators the API models use, with the path inside the payload."""
    evc_ep = "urn:mef:lso:spec:service:carrier-ethernet-evc-end-point:v1.0.0:all"
    cls = _model(evc_ep)
    body = {"@type": evc_ep, "identifier": "ep", "role": "ROOT", "map": {"vlanId": [10, 11]}}
    assert cls.model_validate(body).to_dict() == body
    with pytest.raises(ValidationError) as caught:
        cls.model_validate({**body, "map": {"vlanId": [10, 10]}})
    assert [(e["type"], e["loc"]) for e in caught.value.errors()] == [
        ("unique_items", ("map", "vlanId"))
    ]
    trunk = "urn:mef:lso:spec:service:ip-uni-access-link-trunk:1.0.0:all"
    with pytest.raises(ValidationError) as caught:
        _model(trunk).model_validate({"@type": trunk, "accessLinkTrunk": {}})
    assert [(e["type"], e["loc"]) for e in caught.value.errors()] == [
        ("min_properties", ("accessLinkTrunk",))
    ]


def test_max_properties_and_not_enum_are_checked() -> None:
    """`maxProperties` (a choice of one property) and `not: {enum: ...}` on a name, which
    the generator leaves out, refuse a body with the path inside the payload."""
    trunk = "urn:mef:lso:spec:service:ip-uni-access-link-trunk:1.0.0:all"
    body = {"@type": trunk, "accessLinkTrunk": {"otherUniAccessLink": "OTHER"}}
    assert _model(trunk).model_validate(body).to_dict() == body
    both = {"otherUniAccessLink": "OTHER", "ethernetAccessLinkTrunk": {}}
    with pytest.raises(ValidationError) as caught:
        _model(trunk).model_validate({"@type": trunk, "accessLinkTrunk": both})
    assert [(e["type"], e["loc"]) for e in caught.value.errors()] == [
        ("max_properties", ("accessLinkTrunk",))
    ]
    from lso_client._generated.payloads.legato.sd_wan import sd_wan_common

    assert sd_wan_common.Zone.model_validate({"zoneName": "LAN"}).to_dict() == {"zoneName": "LAN"}
    with pytest.raises(ValidationError) as caught:
        sd_wan_common.Zone.model_validate({"zoneName": "INTERNET"})
    assert [(e["type"], e["loc"]) for e in caught.value.errors()] == [("not_one_of", ("zoneName",))]


def test_a_payload_is_built_by_field_name_and_knows_its_urn() -> None:
    urn = "urn:mef:lso:spec:service:carrier-ethernet-ovc-end-point:v1.0.0:all"
    payload = _model(urn)(identifier="ep-1", ep_type="ENNI")
    assert payload.type == urn
    assert payload.to_dict()["epType"] == "ENNI"
    assert _model(urn)(type=urn).to_dict() == {"@type": urn}


def test_a_payload_built_without_its_urn_still_sends_it() -> None:
    """The fixed URN is part of the object: `to_dict()` writes `@type` although the
    caller passed only other fields."""
    urn = "urn:mef:lso:spec:service:carrier-ethernet-ovc-end-point:v1.0.0:all"
    payload = _model(urn)(identifier="ep-1")
    assert "type" in payload.model_fields_set
    assert payload.to_dict() == {"@type": urn, "identifier": "ep-1"}
    assert json.loads(payload.to_json()) == {"@type": urn, "identifier": "ep-1"}
    # A payload without a fixed URN (an extension point's own class) is left as it is.
    assert Payload(type="urn:x").to_dict() == {"@type": "urn:x"}


def test_variants_combined_by_inheritance_declare_the_fields_their_bases_disagree_on() -> None:
    """IpvcEpBwpEnvelope: one variant requires `bwpFlowPerCosName`, another makes it
    optional; the combination declares it as its first base does, and validates so."""
    from lso_client._generated.payloads.allegro.common.ip import _internal

    both = _internal.IpvcEpBwpEnvelopeBwpFlowPerCosName
    assert "bwp_flow_per_cos_name" in both.__annotations__
    assert both.model_fields["bwp_flow_per_cos_name"].is_required()
    assert not both.model_fields["bwp_flow_all"].is_required()
    with pytest.raises(ValidationError):
        both.model_validate({})


def test_combine_variants_copies_the_first_bases_declaration() -> None:
    import ast

    from codegen._models import _unparse
    from codegen._payloads import combine_variants

    tree = ast.parse(
        "class A(MefModel):\n    x: int\n    y: int | None = None\n"
        "class B(MefModel):\n    x: int | None = None\n    y: int | None = None\n"
        "class C(A, B):\n    pass\n"
    )
    combine_variants(tree)
    assert _unparse(tree).endswith("class C(A, B):\n    x: int")


def test_generated_payload_code_has_no_placeholder_root_and_one_type_ignore() -> None:
    """Definitions-only schema files add no `Model(RootModel[Any])`; the one comment a
    type checker needs is the narrowed URN of a payload extending another payload."""
    ignores = []
    for path in OUTPUT.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^class Model\(", text, flags=re.M), path
        assert '"Model"' not in text, path
        ignores += [(path.name, line) for line in text.splitlines() if "type: ignore" in line]
    assert len(ignores) == 1
    name, line = ignores[0]
    assert name == "ethernet_uni_access_link_trunk.py"
    assert line.endswith('ethernet-uni-access-link-trunk:v0.0.4:all"  # type: ignore[assignment]')


def test_a_payload_extending_another_payload_is_marked_once_on_its_type_line() -> None:
    import ast

    from codegen._models import _unparse, ruff_format
    from codegen._payloads import derive_payload, mark_narrowed_type

    tree = ast.parse(
        "from .base import Base\n\n\nclass Child(Base):\n    type: str | None = None\n"
        "    other: int | None = None\n"
    )
    assert derive_payload(tree, "Child", "urn:child", {"Base", "Child"})
    out = mark_narrowed_type(ruff_format(_unparse(tree) + "\n"), "Child")
    assert "class Child(Base, Payload):" in out
    marked = [line for line in out.splitlines() if "type: ignore" in line]
    assert marked == [
        '    type: Annotated[Literal["urn:child"], Field(alias="@type")] = "urn:child"'
        "  # type: ignore[assignment]"
    ]
    assert "other: int | None = None" in out
    plain = ast.parse("class Alone(MefModel):\n    pass\n")
    assert not derive_payload(plain, "Alone", "urn:alone", {"Alone"})


# ----------------------------------------------------------------------------- loading


def test_check_and_write_cover_the_payload_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--check` reports a payload module that is not generated (or out of date), and a
    run removes it and the folder it leaves empty."""
    output = tmp_path / "_generated"
    payloads = output / "payloads"
    files = {
        output / "__init__.py": "# top\n",
        payloads / "__init__.py": "# payloads\n",
        payloads / "allegro" / "__init__.py": "# allegro\n",
        payloads / "allegro" / "ip" / "__init__.py": "# ip\n",
        payloads / "allegro" / "ip" / "ipvc.py": "# ipvc\n",
    }
    monkeypatch.setattr(codegen_main, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(codegen_main, "OUTPUT", output)
    monkeypatch.setattr(codegen_main, "PAYLOADS", payloads)
    monkeypatch.setattr(codegen_main, "PUBLIC", tmp_path / "types")
    monkeypatch.setattr(codegen_main, "build", lambda source: files)
    assert codegen_main.main([]) == 0
    stale = payloads / "legato" / "sd_wan" / "ucs.py"
    stale.parent.mkdir(parents=True)
    stale.write_text("# gone upstream\n", encoding="utf-8")
    (payloads / "allegro" / "ip" / "ipvc.py").write_text("# edited\n", encoding="utf-8")
    capsys.readouterr()
    assert codegen_main.main(["--check"]) == 1
    report = capsys.readouterr().out
    assert "_generated/payloads/legato/sd_wan/ucs.py (not generated)" in report
    assert "_generated/payloads/allegro/ip/ipvc.py" in report
    assert codegen_main.main([]) == 0
    assert not (payloads / "legato").exists()
    assert (payloads / "allegro" / "ip" / "ipvc.py").read_text(encoding="utf-8") == "# ipvc\n"
    assert codegen_main.main(["--check"]) == 0


def test_importing_the_sdk_loads_no_payload_model() -> None:
    code = (
        "import sys, lso_client; "
        "print([m for m in sys.modules if m.startswith('lso_client._generated.payloads')])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert result.stdout.strip() == "[]"


def test_the_registry_module_imports_no_model() -> None:
    code = (
        "import sys; import lso_client._generated.payloads._registry; "
        "print(sorted(m for m in sys.modules if m.startswith('lso_client._generated.payloads.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert result.stdout.strip() == "['lso_client._generated.payloads._registry']"


@pytest.mark.slow
def test_the_generated_payload_package_is_mypy_strict_clean(tmp_path: Path) -> None:
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\npython_version = 3.10\n", encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            f"--config-file={config}",
            f"--cache-dir={tmp_path / 'cache'}",
            "-p",
            "lso_client._generated.payloads",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_unique_items_compares_json_values() -> None:
    """`uniqueItems` compares items as JSON does: `true` is not `1`, date-times written
    differently are different text, and models repeat only when their JSON repeats."""
    from datetime import datetime, timezone

    from lso_client._model import DateTime, MefModel, unique_items

    assert unique_items([1, True]) == [1, True]
    assert unique_items(["a", "b", "c"]) == ["a", "b", "c"]
    with pytest.raises(PydanticCustomError):
        unique_items([1, 1.0])

    class When(MefModel):
        at: DateTime

    same_instant = [
        When.model_validate({"at": "2024-05-01T09:30:00Z"}),
        When.model_validate({"at": "2024-05-01T09:30:00.000Z"}),
    ]
    assert same_instant[0] == same_instant[1]  # equal in Python, not in JSON
    assert unique_items(same_instant) == same_instant
    repeated = [When(at=datetime(2024, 5, 1, tzinfo=timezone.utc)) for _ in range(2)]
    with pytest.raises(PydanticCustomError):
        unique_items(repeated)
    with pytest.raises(PydanticCustomError):
        unique_items([[1, 2], [3], [1, 2]])
