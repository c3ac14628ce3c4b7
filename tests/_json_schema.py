"""Payload bodies checked against the upstream JSON Schema files of their URN, as codegen
reads them (pinned, verified, patched), by Ajv (a locked dev dependency in package.json,
installed by `make test`), in a node process started and awaited per check."""

from __future__ import annotations

import json
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from codegen._payloads import prepare, references, resolve
from codegen._spec import SpecSource

REPO_ROOT = Path(__file__).resolve().parents[1]
_MODULES = REPO_ROOT / "node_modules"

# Every upstream file is given a file URL as its `$id`, so that relative references
# resolve between them as they do between the files.
_SCRIPT = """
const Ajv = require(process.argv[1] + "/ajv").default;
const addFormats = require(process.argv[1] + "/ajv-formats").default;
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const ajv = new Ajv({strict: false, allErrors: true, validateSchema: false});
addFormats(ajv);
for (const [id, schema] of Object.entries(input.schemas)) ajv.addSchema(schema, id);
const validate = ajv.getSchema(input.root);
const found = input.bodies.map(body => validate(body) ? [] : validate.errors.map(
  e => `${e.instancePath || "/"} ${e.message} (${e.schemaPath})`));
process.stdout.write(JSON.stringify(found));
"""


@cache
def _prepared() -> Any:
    return prepare(SpecSource())


def _documents(urn: str) -> tuple[str, dict[str, Any]]:
    """The upstream file whose `$id` is `urn`, and it and every file it refers to, each
    with its file URL as `$id`."""
    prepared = _prepared()
    [root] = [path for path, found in prepared.ids.items() if found == urn]
    schemas: dict[str, Any] = {}
    pending = [root]
    while pending:
        path = pending.pop()
        doc = dict(prepared.docs[path])
        doc.pop("$schema", None)
        doc["$id"] = f"file:///{path}"
        schemas[doc["$id"]] = doc
        for ref in references(doc):
            target, _ = resolve(path, ref)
            if f"file:///{target}" not in schemas and target in prepared.docs:
                pending.append(target)
    return f"file:///{root}", schemas


def schema_errors(urn: str, bodies: list[Any]) -> list[list[str]]:
    """For each body, what the JSON Schema of `urn` finds wrong with it (empty: valid)."""
    root, schemas = _documents(urn)
    data = json.dumps({"root": root, "schemas": schemas, "bodies": bodies}, default=str)
    done = subprocess.run(
        ["node", "-e", _SCRIPT, str(_MODULES)],
        input=data,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found: list[list[str]] = json.loads(done.stdout)
    return found
