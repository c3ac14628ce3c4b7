"""Optional dependencies: import one, or say which extra installs it."""

from __future__ import annotations

import importlib
from types import ModuleType

from ._errors import LSOError

__all__ = ["MissingExtraError", "require"]


class MissingExtraError(ImportError, LSOError):
    """A feature needs an optional dependency that is not installed; the message names
    the extra that installs it (`pip install 'lso-client[pandas]'`)."""


def require(extra: str, module: str | None = None) -> ModuleType:
    """Import `module` (by default the extra's own name) and return it, or raise
    `MissingExtraError` naming the extra `extra` that installs it."""
    name = module or extra
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise MissingExtraError(
            f"this needs {name}, which is not installed: pip install 'lso-client[{extra}]'",
            name=name,
        ) from exc
