"""The public model surface, `lso_client.types`: one re-export module per generated
model module, written from templates.

The names come from the generated source itself (read with `ast`: its top-level
classes and type aliases), so this step does not depend on how the models were made.
`lso_client/_generated/<module>.py` gives `lso_client/types/<module>.py`, and
`lso_client/_generated/payloads/<path>.py` gives `lso_client/types/payloads/<path>.py`.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import jinja2

from ._models import ruff_format
from ._spec import REPO_ROOT

GENERATED = REPO_ROOT / "lso_client" / "_generated"
PUBLIC = REPO_ROOT / "lso_client" / "types"
PAYLOADS = "payloads"

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates" / "public"),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)

# `(Service Ordering Management 1.0.1, sha256 ...)` in a generated module's header.
_TITLE = re.compile(r"^# \((.+?), sha256 ", re.M)

# Re-exported by `lso_client.types` itself: the bases and shared types of every model.
_ROOT_NAMES = ("DateTime", "MefEnum", "MefModel", "Payload")
_LINE = 100
# The generated URN registry: which payload model each URN selects.
_REGISTRY = GENERATED / PAYLOADS / "_registry.py"


def public_names(source: str) -> list[str]:
    """The public top-level classes and type aliases (`X: TypeAlias = ...`) defined in
    `source`."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            annotation = node.annotation
            alias = annotation.id if isinstance(annotation, ast.Name) else None
            if isinstance(annotation, ast.Attribute):
                alias = annotation.attr
            if alias == "TypeAlias":
                names.add(node.target.id)
    return sorted(n for n in names if not n.startswith("_"))


def _dotted(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_model_module(path: Path) -> bool:
    """A generated module of models that gets a public twin."""
    if path.suffix != ".py":
        return False
    relative = path.relative_to(GENERATED)
    if len(relative.parts) == 1:
        name = relative.name
        return not name.startswith("_") and not name.endswith("_resources.py")
    if relative.parts[0] != PAYLOADS:
        return False
    return all(not part.startswith("_") for part in relative.parts[:-1]) and (
        relative.name == "__init__.py" or not relative.name.startswith("_")
    )


def _registry(source: str | None) -> dict[str, tuple[str, str]]:
    """URN -> (module, class name), read from the generated registry's source."""
    if source is None:
        return {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "REGISTRY" for t in targets):
                assert node.value is not None
                found: dict[str, tuple[str, str]] = ast.literal_eval(node.value)
                return found
    return {}


def _title(source: str) -> str | None:
    found = _TITLE.search(source[:600])
    return found.group(1) if found else None


def emit_public(generated: Mapping[Path, str]) -> dict[Path, str]:
    """Every file of `lso_client/types` for the generated files `generated`."""
    module = _TEMPLATES.get_template("module.py.jinja")
    files: dict[Path, str] = {}
    # Package folder -> its modules and subpackages; the re-exports of its `__init__`.
    packages: dict[Path, set[str]] = {PUBLIC / PAYLOADS: set()}
    exports: dict[Path, tuple[str, list[str]]] = {}
    api_modules: list[dict[str, str | None]] = []
    urns = _registry(generated.get(_REGISTRY))
    for path in sorted(generated):
        if not path.is_relative_to(GENERATED) or not _is_model_module(path):
            continue
        relative = path.relative_to(GENERATED)
        target = PUBLIC / relative
        source = generated[path]
        names = public_names(source)
        for folder in relative.parents[:-1]:
            packages.setdefault(PUBLIC / folder, set())
            if folder.parent != Path("."):
                packages.setdefault(PUBLIC / folder.parent, set()).add(f"{folder.name}/")
        if relative.name == "__init__.py":
            if names:
                exports[target.parent] = (_dotted(path), names)
            continue
        if len(relative.parts) == 1:
            title = _title(source)
            api_modules.append({"name": target.stem, "title": title})
            doc = f"Models of {title}." if title else f"Models of `{target.stem}`."
        else:
            packages[target.parent].add(target.stem)
            selected = sorted(
                (name, urn) for urn, (where, name) in urns.items() if where == _dotted(path)
            )
            doc = "Service payload models" + (
                ", selected by `@type`:\n\n"
                + "".join(f"- `{name}`: `{urn}`\n" for name, urn in selected)
                if selected
                else " (definitions shared by payload schemas).\n"
            )
        doc = doc.rstrip("\n") + (
            f"\n\nThe classes of\n`{_dotted(path)}`,\nre-exported under a stable import path.\n"
        )
        files[target] = _render(module, doc=doc, source=_dotted(path), names=names)
    root_doc = _TEMPLATES.get_template("root_doc.jinja").render(modules=api_modules)
    files[PUBLIC / "__init__.py"] = _render(
        module, doc=root_doc.strip() + "\n", source="lso_client._model", names=list(_ROOT_NAMES)
    )
    for package, children in packages.items():
        source, names = exports.get(package, ("", []))
        files[package / "__init__.py"] = _render(
            module, doc=_package_doc(package, sorted(children)), source=source, names=names
        )
    return {path: _tidy(path, content) for path, content in sorted(files.items())}


def _render(template: jinja2.Template, *, doc: str, source: str, names: list[str]) -> str:
    return template.render(doc=doc, source=source, names=names)


def _tidy(path: Path, source: str) -> str:
    """`source` with its imports and `__all__` in the order ruff keeps them, formatted."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--fix-only",
            "--select=I001,RUF022",
            "--quiet",
            f"--stdin-filename={path.relative_to(REPO_ROOT)}",
            "-",
        ],
        input=source,
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
    )
    if result.returncode != 0:
        raise RuntimeError(f"sorting the imports of {path.name} failed:\n{result.stderr}")
    formatted = ruff_format(result.stdout)
    if any(len(line) > _LINE for line in formatted.splitlines()):
        # Dotted module paths and class names longer than a line cannot be wrapped.
        head, rest = formatted.split("\n", 1)
        formatted = f"{head}\n# ruff: noqa: E501\n{rest}"
    return formatted


def _package_doc(package: Path, children: list[str]) -> str:
    if package == PUBLIC / PAYLOADS:
        head = (
            "Service payload models selected by `@type`, grouped as the upstream payload\n"
            "schemas are; `lso_client.payloads.payload_models()` lists them with their URNs."
        )
    else:
        head = f"Service payload models under `{_dotted(package / '__init__.py')}`."
    if not children:
        return head + "\n"
    lines = "\n".join(f"- `{c}`" for c in children)
    return f"{head}\n\nContents:\n\n{lines}\n"
