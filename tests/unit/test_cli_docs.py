"""The shell examples of docs/cli.md, run in order in one bash script against the mock
seller they start themselves (`lso` a wrapper running this tree's CLI)."""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "cli.md"
# Bounds a script that would otherwise hang; never an assertion about speed.
PATIENCE = 300


def _sh_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_every_shell_example_of_the_cli_guide_runs(tmp_path: Path) -> None:
    blocks = _sh_blocks(GUIDE.read_text(encoding="utf-8"))
    assert len(blocks) >= 6
    # The install block installs nothing here: the tree under test is the CLI.
    blocks = [b for b in blocks if "pip install" not in b]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "lso"
    wrapper.write_text(
        f'#!/bin/sh\nexec {sys.executable} -c "from lso_client.cli import main; main()" "$@"\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    port = str(_free_port())
    script = "set -e\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" + "\n".join(
        block.replace("8765", port) for block in blocks
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LSO_")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "exit code 3" in done.stdout  # the not-found example
    assert "completed" in (tmp_path / "events.jsonl").read_text()
    rows = (tmp_path / "measurements.csv").read_text().splitlines()
    assert rows[0].startswith("reportId,") and len(rows) > 1
