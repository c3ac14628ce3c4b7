"""Run pytest as several shards side by side.

`python tests/shards.py N [pytest args...]`: N shards, each a pytest process with
`LSO_TEST_SHARD=i/N` (see `tests/conftest.py`: it keeps every N-th collected test).

`python tests/shards.py --by EXPR [pytest args...]`: two shards, the tests the marker
expression EXPR selects (`-m EXPR`) and all the others (`-m "not (EXPR)"`).

Most of the tests' time is spent waiting on loopback sockets, brokers and timers, so shards
running at once finish well before one process would, even on two cores. Each shard's
output is printed when all have ended, one after the other; the exit status is the first
non-zero one among the shards (0 when all passed; a shard that collects no test exits 5).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from typing import IO


def _shards(argv: list[str]) -> list[tuple[list[str], dict[str, str]]]:
    """(pytest arguments, extra environment) of each shard."""
    if argv[0] == "--by":
        expression, args = argv[1], list(argv[2:])
        # A `-m` of the caller's narrows both shards (pytest would keep only the last one).
        if "-m" in args:
            at = args.index("-m")
            narrowed = f" and ({args[at + 1]})"
            del args[at : at + 2]
        else:
            narrowed = ""
        return [
            (["-m", f"({expression}){narrowed}", *args], {}),
            (["-m", f"not ({expression}){narrowed}", *args], {}),
        ]
    count, args = int(argv[0]), argv[1:]
    return [(args, {"LSO_TEST_SHARD": f"{index}/{count}"}) for index in range(count)]


def main(argv: list[str]) -> int:
    shards = _shards(argv)
    count = len(shards)
    runs: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []
    for index, (args, extra) in enumerate(shards):
        log = tempfile.NamedTemporaryFile(prefix=f"shard{index}-", suffix=".log")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "pytest", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **extra},
        )
        runs.append((process, log))
    status = 0
    for index, (process, output) in enumerate(runs):
        code = process.wait()
        output.seek(0)
        sys.stdout.write(f"== shard {index + 1} of {count}\n")
        sys.stdout.write(output.read().decode(errors="replace"))
        output.close()
        status = status or code
    sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
