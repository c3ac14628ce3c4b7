"""Fixtures for the integration tests: Prism mock servers started from the MEF specs.

Every test collected under this directory is marked `integration`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from _prism import (
    REPO_ROOT,
    PrismError,
    PrismFactory,
    PrismServer,
    prism_executable,
    start_prism,
)

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.integration)


def _specs_dir() -> Path:
    configured = os.environ.get("LSO_SPECS_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "mef"


@pytest.fixture(scope="session")
def specs_dir() -> Path:
    """Root of the upstream MEF specs: `$LSO_SPECS_DIR`, else `<repo>/../shared/mef`."""
    path = _specs_dir()
    if not path.is_dir():
        pytest.fail(
            f"MEF specs not found at {path}: set LSO_SPECS_DIR to the folder holding "
            "allegro/, interlude/ and legato/",
            pytrace=False,
        )
    return path


_Key = tuple[Path, bool, "int | None", "bool | None"]


@pytest.fixture(scope="session")
def prism_factory(specs_dir: Path) -> Iterator[PrismFactory]:
    """Start Prism servers on demand, one per (spec, dynamic, seed), shared by the session.

    A cached server is handed out with its violations reset, so each test only sees the
    violations its own requests caused. Fails (never skips) when Prism is not installed:
    CI has to install it.
    """
    executable = prism_executable()
    if not executable.exists():
        pytest.fail(
            f"Prism CLI not found at {executable}: run `npm ci` (or `make install`) "
            "in the repository root",
            pytrace=False,
        )
    servers: dict[_Key, PrismServer] = {}

    def factory(
        spec: str | Path,
        *,
        dynamic: bool = False,
        seed: int | None = None,
        fill_properties: bool | None = None,
    ) -> PrismServer:
        spec_path = Path(spec)
        if not spec_path.is_absolute():
            spec_path = specs_dir / spec_path
        key: _Key = (spec_path.resolve(), dynamic, seed, fill_properties)
        server = servers.get(key)
        if server is not None and not server.running:
            del servers[key]
            server = None
        if server is None:
            try:
                server = start_prism(
                    spec_path, dynamic=dynamic, seed=seed, fill_properties=fill_properties
                )
            except PrismError as exc:
                pytest.fail(str(exc), pytrace=False)
            servers[key] = server
        else:
            server.reset()
        return server

    try:
        yield factory
    finally:
        for server in servers.values():
            server.stop()
