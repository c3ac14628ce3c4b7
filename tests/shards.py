"""Run pytest as several shards side by side: `python tests/shards.py N [pytest args...]`.

Each shard is a pytest process with `LSO_TEST_SHARD=i/N` (see `tests/conftest.py`: it
keeps every N-th collected test). Most of the unit tests' time is spent waiting on loopback
sockets and timers, so shards running at once finish well before one process would, even
on two cores. Each shard's output is printed when all have ended, one after the other; the
exit status is the first non-zero one among the shards (0 when all passed).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from typing import IO


def main(argv: list[str]) -> int:
    count, args = int(argv[0]), argv[1:]
    runs: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []
    for index in range(count):
        log = tempfile.NamedTemporaryFile(prefix=f"shard{index}-", suffix=".log")  # noqa: SIM115
        env = {**os.environ, "LSO_TEST_SHARD": f"{index}/{count}"}
        process = subprocess.Popen(
            [sys.executable, "-m", "pytest", *args], stdout=log, stderr=subprocess.STDOUT, env=env
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
