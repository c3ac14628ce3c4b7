"""Baseline models: what a user gets from datamodel-code-generator by hand.

The Allegro ordering spec is turned into models at benchmark time, into a temporary
directory, with the generator's default options, and imported from there. The
defaults give plain pydantic v2 models with `extra="ignore"`, which silently drop the
service payload (`serviceConfiguration` keeps only `@type`): the checksum catches
that, so that variant is shown failing. A second variant adds only
`--extra-fields allow`, the generator's own option for keeping unknown fields.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from ._data import allegro_ordering_spec

VARIANTS = {"default": [], "allow": ["--extra-fields", "allow"]}


def generate(directory: Path, variant: str) -> ModuleType:
    output = directory / f"dmcg_{variant}.py"
    command = [
        str(Path(sys.executable).with_name("datamodel-codegen")),
        "--input",
        str(allegro_ordering_spec()),
        "--output",
        str(output),
        *VARIANTS[variant],
    ]
    subprocess.run(command, check=True, capture_output=True)
    spec = importlib.util.spec_from_file_location(output.stem, output)
    if spec is None or spec.loader is None:
        raise ImportError(output)
    module = importlib.util.module_from_spec(spec)
    # Postponed annotations are resolved through sys.modules.
    sys.modules[output.stem] = module
    spec.loader.exec_module(module)
    return module


def generate_all() -> dict[str, ModuleType]:
    with tempfile.TemporaryDirectory(prefix="lso-bench-dmcg-") as tmp:
        return {variant: generate(Path(tmp), variant) for variant in VARIANTS}
