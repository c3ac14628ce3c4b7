"""Reading the pinned API definitions: manifest, checksums, bundling and stripping."""

from __future__ import annotations

import copy
import hashlib
import os
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
MANIFEST = REPO_ROOT / "specs" / "manifest.yaml"
# Where the pinned files are read from unless told otherwise.
DEFAULT_SOURCE = Path(os.environ.get("LSO_SPECS_DIR") or REPO_ROOT.parent / "shared" / "mef")


class SpecError(Exception):
    """A spec file is missing, altered or cannot be prepared."""


@dataclass(frozen=True)
class PinnedFile:
    path: str  # "<source>/<path inside that release>"
    sha256: str

    @property
    def source(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def upstream_path(self) -> str:
        return self.path.split("/", 1)[1]


@dataclass(frozen=True)
class ApiEntry:
    module: str
    family: str
    role: str  # "management", "notification" or "message" (no HTTP API: a streamed model)
    version: str
    file: PinnedFile
    also: tuple[PinnedFile, ...]
    reference_points: dict[str, str] = field(hash=False)


@dataclass(frozen=True)
class Manifest:
    sources: dict[str, dict[str, str]]
    apis: tuple[ApiEntry, ...]

    def api(self, module: str) -> ApiEntry:
        for entry in self.apis:
            if entry.module == module:
                return entry
        raise KeyError(module)


def load_manifest(path: Path = MANIFEST) -> Manifest:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    apis = []
    for item in raw["apis"]:
        apis.append(
            ApiEntry(
                module=item["module"],
                family=item["family"],
                role=item["role"],
                version=str(item["version"]),
                file=PinnedFile(**item["file"]),
                also=tuple(PinnedFile(**f) for f in item.get("also", ())),
                reference_points=dict(item["reference_points"]),
            )
        )
    return Manifest(sources=raw["sources"], apis=tuple(apis))


class SpecSource:
    """Reads pinned files from a directory or a base URL, verifying each checksum once."""

    def __init__(self, location: str | Path = DEFAULT_SOURCE) -> None:
        self.location = str(location)
        self._cache: dict[str, bytes] = {}

    def _fetch(self, relative: str) -> bytes:
        if self.location.startswith(("http://", "https://")):
            url = self.location.rstrip("/") + "/" + relative
            with urllib.request.urlopen(url, timeout=60) as response:
                data: bytes = response.read()
                return data
        path = Path(self.location) / relative
        if not path.is_file():
            raise SpecError(f"{relative}: not found under {self.location}")
        return path.read_bytes()

    def exists(self, relative: str) -> bool:
        """Whether the release has a file at `relative` (pinned or not; a URL source is
        asked with HEAD)."""
        if self.location.startswith(("http://", "https://")):
            url = self.location.rstrip("/") + "/" + relative
            request = urllib.request.Request(url, method="HEAD")
            try:
                with urllib.request.urlopen(request, timeout=60):
                    return True
            except OSError:
                return False
        return (Path(self.location) / relative).is_file()

    def read(self, pinned: PinnedFile) -> bytes:
        if pinned.path not in self._cache:
            data = self._fetch(pinned.path)
            digest = hashlib.sha256(data).hexdigest()
            if digest != pinned.sha256:
                raise SpecError(
                    f"{pinned.path}: sha256 {digest} does not match the manifest's "
                    f"{pinned.sha256}; update specs/manifest.yaml deliberately if upstream changed"
                )
            self._cache[pinned.path] = data
        return self._cache[pinned.path]


def load_document(source: SpecSource, entry: ApiEntry) -> dict[str, Any]:
    """The entry's main document with every relative-file `$ref` bundled into it."""
    pinned = {f.path: f for f in (entry.file, *entry.also)}

    def read_yaml(path: str) -> Any:
        if path not in pinned:
            raise SpecError(f"{entry.file.path} refers to {path}, which the manifest does not pin")
        return yaml.safe_load(source.read(pinned[path]))

    root = read_yaml(entry.file.path)
    _Bundler(root, entry.file.path, read_yaml).run()
    return root


class _Bundler:
    """Copies schemas that live in other files into the root document's components.

    A reference `other.yaml#/components/schemas/X` becomes `#/components/schemas/X`; a
    reference to a whole file (`models/Topic.yaml`) becomes a schema named after the file.
    """

    def __init__(self, root: dict[str, Any], root_path: str, read: Any) -> None:
        self.root = root
        self.root_path = root_path
        self.read = read
        self.docs: dict[str, Any] = {root_path: root}
        self.done: dict[tuple[str, str], str] = {}

    def run(self) -> None:
        # A component that only points at another file (`Topic: {$ref: models/Topic.yaml}`)
        # becomes that file's schema under the component's own name.
        for kind, section in self.root.get("components", {}).items():
            for name, node in list(section.items()):
                ref = node.get("$ref") if isinstance(node, dict) else None
                if isinstance(ref, str) and len(node) == 1 and not ref.startswith(("#", "http")):
                    target = _normalise(str(PurePosixPath(self.root_path).parent.joinpath(ref)))
                    target_path, _, fragment = target.partition("#")
                    resolved = self._doc(target_path)
                    for part in [p for p in fragment.split("/") if p]:
                        resolved = resolved[part]
                    section[name] = copy.deepcopy(resolved)
                    self.done[(target_path, fragment)] = f"#/components/{kind}/{name}"
                    self._walk(section[name], target_path)
        self._walk(self.root, self.root_path)

    def _doc(self, path: str) -> Any:
        if path not in self.docs:
            self.docs[path] = self.read(path)
        return self.docs[path]

    def _walk(self, node: Any, here: str) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                node["$ref"] = self._rewrite(ref, here)
            # Bundling adds to the root's components: walk a snapshot.
            for value in list(node.values()):
                self._walk(value, here)
        elif isinstance(node, list):
            for value in node:
                self._walk(value, here)

    def _rewrite(self, ref: str, here: str) -> str:
        target, _, fragment = ref.partition("#")
        if not target:
            if here == self.root_path:
                return ref
            target = here  # an internal reference inside a bundled file
        elif target.startswith(("http://", "https://")):
            return ref  # left for a patch: generation never fetches
        else:
            target = str(PurePosixPath(here).parent.joinpath(target))
            target = _normalise(target)
        key = (target, fragment)
        if key in self.done:
            return self.done[key]
        doc = self._doc(target)
        if fragment:
            parts = [p for p in fragment.split("/") if p]
            node = doc
            for part in parts:
                node = node[part]
            kind = parts[1] if len(parts) == 3 and parts[0] == "components" else "schemas"
            name = parts[-1]
        else:
            node, kind, name = doc, "schemas", PurePosixPath(target).stem
        section = self.root.setdefault("components", {}).setdefault(kind, {})
        local = f"#/components/{kind}/{name}"
        self.done[key] = local
        if target == self.root_path:
            return local
        if name in section and section[name] != node:
            raise SpecError(f"{self.root_path}: bundling {ref} would overwrite {local}")
        copied = copy.deepcopy(node)
        section[name] = copied
        self._walk(copied, target)
        return local


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


# Keys whose value maps names (not keywords) to objects: a property called
# "description" must survive stripping.
_NAME_MAPS = frozenset(
    {
        "properties",
        "schemas",
        "responses",
        "parameters",
        "paths",
        "headers",
        "content",
        "variables",
        "mapping",
        "securitySchemes",
        "requestBodies",
        "callbacks",
        "patternProperties",
        "definitions",
        "scopes",
    }
)
_PROSE = frozenset({"description", "summary", "example", "examples", "externalDocs", "title"})


def strip_prose(node: Any, *, names: bool = False) -> Any:
    """A copy of the document without descriptions, summaries, titles and examples."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if names:
                out[key] = strip_prose(value)
            elif key in _PROSE or (key.startswith("x-") and key not in ("x-discriminator-value",)):
                continue
            else:
                out[key] = strip_prose(value, names=key in _NAME_MAPS)
        return out
    if isinstance(node, list):
        return [strip_prose(value) for value in node]
    return node
