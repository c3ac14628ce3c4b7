"""Every public hand-written class, method and property has a docstring.

Public means reachable without a leading underscore from the public modules: their exported
names, the attributes of exported classes (inherited ones included), and the classes those
attributes' annotations name, followed transitively (a client's resources, a page's items,
a subscription's context manager). Generated code (`lso_client._generated`,
`lso_client.types`) documents itself from the specs and is not checked here; the
hand-written bases generated classes inherit from are.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import typing
from collections.abc import Iterator
from typing import Any

import pytest

PUBLIC_MODULES = (
    "lso_client",
    "lso_client.notifications",
    "lso_client.testing",
    "lso_client.payloads",
    "lso_client.asyncapi",
    "lso_client.frames",
    "lso_client.progress",
    "lso_client.cli",
)


def _hand_written(module: str) -> bool:
    return module.startswith("lso_client") and not module.startswith(
        ("lso_client._generated", "lso_client.types")
    )


def _function(value: Any) -> Any:
    if isinstance(value, (staticmethod, classmethod)):
        return value.__func__
    if isinstance(value, property):
        return value.fget
    if isinstance(value, functools.cached_property):
        return value.func
    return value


def _classes_named(annotation: Any) -> Iterator[type]:
    if isinstance(annotation, type):
        yield annotation
    origin = typing.get_origin(annotation)
    if isinstance(origin, type):
        yield origin
    for argument in typing.get_args(annotation):
        yield from _classes_named(argument)


def _annotated_classes(function: Any) -> list[type]:
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # names imported only for type checking: not followed
        return []
    return [c for hint in hints.values() for c in _classes_named(hint)]


def _has_doc(obj: Any) -> bool:
    return bool((getattr(obj, "__doc__", None) or "").strip())


def _roots() -> list[Any]:
    roots: list[Any] = []
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        exported = getattr(module, "__all__", None) or [
            n for n in dir(module) if not n.startswith("_")
        ]
        roots.extend(getattr(module, n) for n in exported)
    # A client's resources are reached through cached properties whose annotations name
    # modules imported only for type checking: take the resource modules' classes directly.
    import lso_client._generated as generated

    for info in pkgutil.iter_modules(generated.__path__):
        if info.name.endswith("_resources"):
            module = importlib.import_module(f"lso_client._generated.{info.name}")
            roots.extend(
                v
                for v in vars(module).values()
                if isinstance(v, type) and v.__module__ == module.__name__
            )
    return roots


def undocumented() -> list[str]:
    """The qualified names of public hand-written objects without a docstring."""
    missing: set[str] = set()
    seen: set[type] = set()
    queue: list[type] = []

    def check(qualname: str, value: Any, module: str) -> None:
        function = _function(value)
        if not (inspect.isfunction(function) or isinstance(value, functools.cached_property)):
            return
        if _hand_written(module) and not _has_doc(function):
            missing.add(qualname)
        queue.extend(
            c for c in _annotated_classes(function) if c.__module__.startswith("lso_client")
        )

    for root in _roots():
        if isinstance(root, type):
            queue.append(root)
        elif inspect.isfunction(root):
            check(f"{root.__module__}.{root.__qualname__}", root, root.__module__)

    while queue:
        cls = queue.pop()
        if cls in seen or not cls.__module__.startswith("lso_client"):
            continue
        seen.add(cls)
        if (
            _hand_written(cls.__module__)
            and not cls.__name__.startswith("_")
            and not (cls.__dict__.get("__doc__") or "").strip()
        ):
            missing.add(f"{cls.__module__}.{cls.__qualname__}")
        for base in cls.__mro__:
            if not base.__module__.startswith("lso_client"):
                continue
            for name, value in vars(base).items():
                if not name.startswith("_"):
                    check(f"{base.__module__}.{base.__qualname__}.{name}", value, base.__module__)
    return sorted(missing)


def test_every_public_hand_written_object_has_a_docstring() -> None:
    assert undocumented() == []


@pytest.mark.parametrize(
    ("module", "path"),
    [
        ("lso_client._resource", "RawResponse.parse"),  # an exported class
        ("lso_client._resource", "SyncResource.reconcile"),  # inherited by a client's resources
        ("lso_client._pagination", "PageInfo"),  # named by an annotation only
        ("lso_client.notifications._inbox", "MemoryInbox.put"),  # an override
    ],
)
def test_the_walk_finds_a_missing_docstring(
    monkeypatch: pytest.MonkeyPatch, module: str, path: str
) -> None:
    target: Any = importlib.import_module(module)
    for part in path.split("."):
        target = getattr(target, part)
    monkeypatch.setattr(target, "__doc__", None)
    assert undocumented() == [f"{module}.{path}"]
