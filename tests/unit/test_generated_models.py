"""The shape of the generated model modules: names, the `@type` attribute, extension
points, and what a field serialises."""

from __future__ import annotations

import ast
import importlib
import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
import yaml
from pydantic import Field

from codegen._models import class_names, schema_classes
from codegen._spec import DEFAULT_SOURCE, REPO_ROOT, SpecSource, load_manifest
from codegen.patches import load_patched
from lso_client._generated import service_ordering_v1 as m1
from lso_client._generated import service_ordering_v5 as m5
from lso_client._model import MefModel, Payload

GENERATED = REPO_ROOT / "lso_client" / "_generated"
EXTENSION_POINTS = REPO_ROOT / "codegen" / "extension_points.yaml"
MODULES = sorted(entry.module for entry in load_manifest().apis)
# Modules whose models carry an `@type` property.
WITH_TYPE = {m for m in MODULES if "notification" not in m and "streaming" not in m}


def _tree(module: str) -> ast.Module:
    return ast.parse((GENERATED / f"{module}.py").read_text(encoding="utf-8"))


@cache
def _schemas(module: str) -> set[str]:
    entry = next(e for e in load_manifest().apis if e.module == module)
    doc = load_patched(SpecSource(DEFAULT_SOURCE), entry)
    return schema_classes(doc, class_names(_tree(module)))


@pytest.mark.slow
@pytest.mark.parametrize("module", MODULES)
def test_inline_names_are_not_numbered(module: str) -> None:
    numbered = {
        name
        for name in class_names(_tree(module))
        if re.fullmatch(r"[A-Za-z]+[0-9]+", name) and name not in _schemas(module)
    }
    assert numbered == set()


def test_an_inline_enum_is_named_after_its_owner() -> None:
    assert m5.Error500.model_fields["code"].annotation is m5.Error500Code
    assert not hasattr(m5, "Code1")


@pytest.mark.parametrize("module", MODULES)
def test_root_wrappers_are_generated_only_when_used(module: str) -> None:
    tree = _tree(module)
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or node.name in _schemas(module):
            continue
        bases = [ast.unparse(b.value) for b in node.bases if isinstance(b, ast.Subscript)]
        if "RootModel" in bases:
            others = [n for n in tree.body if n is not node]
            used = {n.id for o in others for n in ast.walk(o) if isinstance(n, ast.Name)}
            assert node.name in used, f"{module}.{node.name} is an unused root wrapper"


@pytest.mark.parametrize("module", MODULES)
def test_the_at_type_attribute_is_named_type(module: str) -> None:
    found = 0
    for value in vars(importlib.import_module(f"lso_client._generated.{module}")).values():
        if isinstance(value, type) and issubclass(value, MefModel):
            fields = value.model_fields
            assert "field_type" not in fields, value
            for name, field in fields.items():
                if field.alias == "@type":
                    assert name == "type", value
                    found += 1
    assert found or module not in WITH_TYPE


def _extension_points() -> list[tuple[str, str]]:
    listed: dict[str, list[str]] = yaml.safe_load(EXTENSION_POINTS.read_text(encoding="utf-8"))
    return [(module, name) for module, names in sorted(listed.items()) for name in names]


@pytest.mark.parametrize(("module", "schema"), _extension_points())
def test_an_extension_point_is_a_payload(module: str, schema: str) -> None:
    point = getattr(importlib.import_module(f"lso_client._generated.{module}"), schema)
    assert isinstance(point, type) and issubclass(point, Payload)
    assert point.model_fields["type"].alias == "@type"


def test_an_extension_point_without_other_properties_is_payload_itself() -> None:
    assert m1.MefServiceConfiguration is Payload


class _UniPayload(Payload):
    """A payload model as the payload modules define them: `type` fixed to its URN."""

    type: Annotated[Literal["urn:example:uni"], Field(alias="@type")] = "urn:example:uni"
    mtu: int


def test_a_payload_model_at_an_extension_point_goes_out_with_its_own_fields() -> None:
    payload = _UniPayload(type="urn:example:uni", mtu=1522)
    service = m1.ServiceValue(service_configuration=payload)
    assert service.to_dict()["serviceConfiguration"] == {"@type": "urn:example:uni", "mtu": 1522}


class _TaggedNote(m1.NoteBusSof):
    """A caller's own subclass of a generated model, with a field of its own."""

    ticket: str | None = None


def test_a_subclass_in_a_list_goes_out_with_its_own_fields() -> None:
    note = _TaggedNote(
        author="Buyer", date="2024-05-01T09:30:00.50Z", id="n-1", source="bus", text="t", ticket="T"
    )
    sent: dict[str, Any] = m1.ServiceValue(note=[note]).to_dict()
    assert sent["note"] == [
        {
            "author": "Buyer",
            "date": "2024-05-01T09:30:00.50Z",
            "id": "n-1",
            "source": "bus",
            "text": "t",
            "ticket": "T",
        }
    ]


def test_generated_files_are_marked_generated() -> None:
    for path in Path(GENERATED).glob("*.py"):
        assert path.read_text(encoding="utf-8").startswith("# Generated by `python -m codegen`")


def test_tree_transforms_give_mef_enums_and_datetimes() -> None:
    import ast

    from codegen._models import _unparse, drop_unused_imports, use_datetime, use_mef_enums

    tree = ast.parse(
        "from __future__ import annotations\n"
        "from enum import Enum\n"
        "from pydantic import AwareDatetime\n"
        "from lso_client._model import MefModel\n\n\n"
        'class State(str, Enum):\n    done = "done"\n\n\n'
        "class Job(MefModel):\n    at: AwareDatetime\n    state: State\n"
    )
    use_mef_enums(tree)
    use_datetime(tree)
    drop_unused_imports(tree)
    out = _unparse(tree)
    assert "from lso_client._model import DateTime, MefEnum, MefModel" in out
    assert "class State(MefEnum):" in out
    assert "at: DateTime" in out
    assert "Enum\n" not in out.replace("MefEnum", "") and "AwareDatetime" not in out


def test_unused_imports_keep_what_the_module_re_exports() -> None:
    import ast

    from codegen._models import _unparse, drop_unused_imports

    tree = ast.parse(
        "from ._internal import Kept, Dropped\nfrom typing import Any\n__all__ = ['Kept']\n"
    )
    drop_unused_imports(tree)
    out = _unparse(tree)
    assert "from ._internal import Kept\n" in out
    assert "Dropped" not in out and "typing" not in out
