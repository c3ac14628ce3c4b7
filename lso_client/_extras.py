"""Optional dependencies, imported when first needed, with an error naming the extra."""

from __future__ import annotations

import importlib
from types import ModuleType

from ._errors import LSOError

__all__ = ["MissingExtraError", "require"]


class MissingExtraError(LSOError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


def require(extra: str, module: str | None = None) -> ModuleType:
    """Import `module` (default: the extra's own name) or raise `MissingExtraError`
    saying `pip install 'lso-client[<extra>]'`."""
    name = module or extra
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise MissingExtraError(
            f"{name} is not installed: pip install 'lso-client[{extra}]'", name=name
        ) from exc
