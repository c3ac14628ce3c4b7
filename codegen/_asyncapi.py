"""The AsyncAPI listing in the documents written for mock servers (`--emit-specs`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DOCUMENT = Path(__file__).resolve().parent / "asyncapi_document.yaml"
# The schema the Streaming Management API gives its AsyncAPI listing.
SCHEMA = "AsyncAPIModel"


def asyncapi_for_mocks(doc: dict[str, Any]) -> None:
    """Where the document types an answer as the AsyncAPI document (a schema left an open
    object by the patch for asyncapi.com references), give mock servers the schema of
    `asyncapi_document.yaml` instead, so that they answer with a listing, not `{}`."""
    schemas = doc.get("components", {}).get("schemas", {})
    if SCHEMA not in schemas:
        return
    if schemas[SCHEMA] != {"type": "object"}:
        raise RuntimeError(f"{SCHEMA} is not the open object the asyncapi.com patch leaves")
    schemas[SCHEMA] = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
