"""Generated classes are named after what they are, not numbered (`name_variants`)."""

from __future__ import annotations

import ast
import re
from functools import cache
from typing import Any

import pytest

from codegen._models import _unparse, class_names, name_variants, run_generator
from codegen._payloads import drop_placeholder_root, name_variants_across, prepare
from codegen._spec import DEFAULT_SOURCE, REPO_ROOT, SpecSource, load_manifest
from codegen.patches import load_patched

GENERATED = REPO_ROOT / "lso_client" / "_generated"

# A word: capitalised letters, then digits (`Ipv4`, `V4`, `String128`, `Error500`).
_WORD = re.compile(r"[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*(?![a-z])|[0-9]+")


def _words(name: str) -> list[str]:
    return [w[:1].upper() + w[1:] for w in _WORD.findall(name)]


def _names_in(doc: Any) -> set[str]:
    """Every schema and property name of a document."""
    found: set[str] = set()
    if isinstance(doc, dict):
        for key in ("properties", "definitions", "schemas"):
            if isinstance(doc.get(key), dict):
                found.update(str(k) for k in doc[key])
        for value in doc.values():
            found |= _names_in(value)
    elif isinstance(doc, list):
        for value in doc:
            found |= _names_in(value)
    return found


@cache
def _vocabulary() -> frozenset[str]:
    """The words of the specs' schema and property names, API and payload alike."""
    source = SpecSource(DEFAULT_SOURCE)
    names: set[str] = set()
    for entry in load_manifest().apis:
        names |= _names_in(load_patched(source, entry))
    for doc in prepare(source).docs.values():
        names |= _names_in(doc)
    return frozenset(w for name in names for w in _words(name))


def numbered(name: str, vocabulary: frozenset[str]) -> bool:
    """A name the generator numbered: it ends in `_<n>`, or in a word with digits that no
    schema or property name has (`MeasurementTime1`, `ProtocolV41`; not
    `RoutingProtocolsBgpOptionsIpv4`, `IdentifierString128`)."""
    if re.fullmatch(r"Error[0-9]{3}", name):
        return False  # HTTP status names
    if re.search(r"_[0-9]+$", name):
        return True
    words = _words(name)
    return bool(words) and words[-1][-1].isdigit() and words[-1] not in vocabulary


@pytest.mark.slow
def test_no_generated_class_is_numbered() -> None:
    vocabulary = _vocabulary()
    found = {
        f"{path.relative_to(GENERATED)}: {name}"
        for path in sorted(GENERATED.rglob("*.py"))
        for name in class_names(path.read_text(encoding="utf-8"))
        if numbered(name, vocabulary)
    }
    assert found == set()


def test_the_check_tells_numbers_from_names_of_the_spec() -> None:
    vocabulary = frozenset({"Ipv4", "V4", "String128"})
    for name in ("MeasurementTime1", "ProtocolV41", "Location5", "ConnectionType_1", "Model_1"):
        assert numbered(name, vocabulary), name
    for name in ("RoutingProtocolsBgpOptionsIpv4", "ProtocolV4", "IdentifierString128"):
        assert not numbered(name, vocabulary), name
    assert not numbered("Error500", frozenset())


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


def test_variants_are_named_after_the_property_they_require() -> None:
    """A schema with a `oneOf` of `required` sets: the generator writes `Window1` and
    `Window2`; each is named after the property it requires and the other does not."""
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {},
        "components": {
            "schemas": {
                "Window": {
                    "type": "object",
                    "properties": {
                        "start": {"type": "string"},
                        "end": {"type": "string"},
                        "length": {"type": "integer"},
                    },
                    "oneOf": [{"required": ["start", "end"]}, {"required": ["start", "length"]}],
                },
                "Report": _object(["window"], window={"$ref": "#/components/schemas/Window"}),
            }
        },
    }
    tree = ast.parse(run_generator(doc, "test"))
    assert {"Window1", "Window2"} <= class_names(tree)
    renames = name_variants(tree)
    assert renames == {"Window1": "WindowEnd", "Window2": "WindowLength"}
    assert {"WindowEnd", "WindowLength"} <= class_names(tree)
    assert "WindowEnd | WindowLength" in _unparse(tree)
    # Same input, same names.
    again = ast.parse(run_generator(doc, "test"))
    assert name_variants(again) == renames


MODULE = """
from typing import Any, Literal, Optional, Union
from pydantic import Field, RootModel
from lso_client._model import MefModel


class Other(MefModel):
    x: str | None = None


class Choice(MefModel):
    a: int
    b: int | None = None


class Choice3(MefModel):
    a: int | None = None
    b: int


class Choice1(RootModel[Choice | Choice3]):
    root: Choice | Choice3


class Place4(MefModel):
    name: str | None = None


class Place6(Other, Place4):
    pass


class Place(RootModel[Union["Place5", Place6]]):
    root: Union["Place5", Place6]


class Place5(Place4):
    pass


class Kind1(MefModel):
    kind: Literal["circle"] = "circle"


class Kind2(MefModel):
    kind: Literal["square"] = "square"


class Holder(MefModel):
    choice: Optional[Choice | Choice3] = None
    kind: Kind1 | Kind2
    place: Optional[Union["Place5", Place6]] = Field(None, alias="Place5")


class Other_1(MefModel):
    x: str | None = None


class User(MefModel):
    other: Other_1


__all__ = ["Choice3", "Holder"]
"""


def test_the_rules_on_a_small_module() -> None:
    tree = ast.parse(MODULE)
    renames = name_variants(tree)
    assert renames == {
        # The numbered union takes the schema's name; its variants are named after the
        # property each requires.
        "Choice1": "Choice",
        "Choice": "ChoiceA",
        "Choice3": "ChoiceB",
        # The variant that adds a base class is named after it, the one that adds
        # nothing is Plain, the part every variant derives from is Base.
        "Place6": "PlaceOther",
        "Place5": "PlacePlain",
        "Place4": "PlaceBase",
        # A property fixed to a value.
        "Kind1": "KindCircle",
        "Kind2": "KindSquare",
        # An identical copy is the class itself.
        "Other_1": "Other",
    }
    text = _unparse(tree)
    assert "class Choice(RootModel[ChoiceA | ChoiceB])" in text
    assert "choice: Optional[ChoiceA | ChoiceB]" in text
    assert "Union['PlacePlain', PlaceOther]" in text  # forward references follow
    assert "alias='Place5'" in text  # a wire name does not
    assert "__all__ = ['ChoiceB', 'Holder']" in text
    assert "class Other_1" not in text and "other: Other" in text
    assert not any(n.endswith(tuple("0123456789")) for n in class_names(tree))


def test_a_name_that_would_clash_is_not_given() -> None:
    tree = ast.parse(MODULE + "\n\nclass ChoiceA(MefModel):\n    pass\n")
    renames = name_variants(tree)
    # ChoiceA is taken: Choice keeps its name, so Choice1 cannot take it either.
    assert "Choice" not in renames and "Choice1" not in renames
    assert renames["Choice3"] == "ChoiceB"


def test_renames_follow_into_the_modules_that_import_them() -> None:
    trees = {
        "a/_internal": ast.parse(MODULE),
        "a/user": ast.parse(
            "from ._internal import Choice3, Holder\n"
            "from ._internal import Other_1 as Other\n"
            "__all__ = ['Choice3', 'Holder', 'Other']\n"
        ),
        "b/reader": ast.parse(
            "from ..a import _internal\nclass R(_internal.Holder):\n    c: _internal.Choice3\n"
        ),
    }
    name_variants_across(trees)
    user = _unparse(trees["a/user"])
    assert "from ._internal import ChoiceB, Holder" in user
    assert "from ._internal import Other as Other" in user
    assert "'ChoiceB'" in user and "'Choice3'" not in user
    assert "c: _internal.ChoiceB" in _unparse(trees["b/reader"])


def test_the_placeholder_root_of_a_second_file_is_dropped() -> None:
    shared = ast.parse(
        "from typing import Any\nfrom pydantic import RootModel\n"
        "class Model_1(RootModel[Any]):\n    root: Any\n"
        "class Kept(RootModel[Any]):\n    root: Any\n"
        "__all__ = ['Kept', 'Model_1']\n"
    )
    reexport = ast.parse("from ._internal import Model_1 as Model\nfrom ._internal import Kept\n")
    drop_placeholder_root(shared)
    drop_placeholder_root(reexport)
    assert class_names(shared) == {"Kept"}
    assert "Model_1" not in _unparse(shared)
    assert _unparse(reexport) == "from ._internal import Kept"


def test_a_union_schema_is_the_union_of_its_variants() -> None:
    """The generator gave a variant the schema's name (SecurityEventNotificationOrNone
    stood for its `senNone` variant only); the schema is the union again."""
    from lso_client._generated.payloads.allegro.sd_wan import sd_wan_common as m

    assert m.SecurityEventNotificationOrNone.model_validate({"senNone": "NONE"}).root == (
        m.SecurityEventNotificationOrNoneSenNone(sen_none=m.SenNone.none)
    )
    selected = m.SecurityEventNotificationOrNone.model_validate({"senSelect": {}}).root
    assert isinstance(selected, m.SecurityEventNotificationOrNoneSenSelect)
    with pytest.raises(ValueError):
        m.SecurityEventNotificationOrNone.model_validate({})
