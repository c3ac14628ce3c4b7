"""Optional dependencies: import one where a feature needs it, or name the extra to install.

`import lso_client` and the HTTP clients need only the core dependencies. What a feature
needs beyond them comes with a package extra (see pyproject.toml); `require()` imports it
where the feature is used and raises `MissingExtraError` naming the extra when it is
missing.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from ._errors import MissingExtraError

__all__ = ["EXTRA_MODULES", "ensure_installed", "require"]

# The module each extra is checked by when `require()` is given no module.
EXTRA_MODULES: dict[str, str] = {
    "listener": "uvicorn",
    "oauth": "authlib",
    "cli": "typer",
    "pandas": "pandas",
    "polars": "polars",
    "kafka": "aiokafka",
    "redis": "redis",
    "notebook": "nbclient",
    "docs": "mkdocs",
    "truststore": "truststore",
}


def require(extra: str, module: str | None = None) -> ModuleType:
    """Import `module` (by default the extra's main module) and return it, or raise
    `MissingExtraError` saying which extra to install.

    A module that is installed but misses one of its own dependencies counts as missing
    too: installing the extra brings both.
    """
    name = module if module is not None else EXTRA_MODULES.get(extra, extra)
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise MissingExtraError(extra, exc.name or name) from None


def ensure_installed(extra: str, *modules: str) -> None:
    """Raise `MissingExtraError` unless every one of `modules` (top-level names) can be
    found, without importing them: for features that import them later, on first need."""
    for name in modules or (EXTRA_MODULES.get(extra, extra),):
        try:
            found = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            found = None
        if found is None:
            raise MissingExtraError(extra, name)
