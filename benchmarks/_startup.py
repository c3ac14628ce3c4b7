"""Scenario (f): cold import, client construction and the first call of each API family.

Each measurement is a fresh interpreter (wall time, interleaved). The first call of a
family is timed inside its interpreter, once `import lso_client` and the client's
construction are done: one `list()` answered by an in-process transport, so no server
time is included; it is what the first use of that family adds (lazily loading its
generated models and the request machinery).
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time

from ._data import REPO_ROOT
from ._harness import Row

FLOOR = "import httpx, pydantic"
IMPORTS = {
    FLOOR: "import httpx, pydantic",
    "import lso_client": "import lso_client",
    "import + 3 clients": (
        "import lso_client as l; "
        "[c('http://seller.invalid', token='t') for c in "
        "(l.AllegroClient, l.InterludeClient, l.LegatoClient)]"
    ),
}
_FIRST_CALL = """
import time, httpx, lso_client
client = lso_client.AllegroClient(
    "http://seller.invalid",
    http_client=httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=[]))),
)
start = time.perf_counter()
client.{resource}.list()
print(time.perf_counter() - start)
"""
FAMILIES = {
    "service_ordering": "service_orders",
    "service_inventory": "services",
    "performance_monitoring": "performance_jobs",
    "pm_streaming": "streaming_topics",
    "fault_management": "fault_management_jobs",
    "alarm_management": "alarms",
    "service_function_testing": "test_jobs",
}


def _run(code: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *flags, "-c", code],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    )


def compile_package() -> None:
    """Byte-compile lso_client first, as installing a package does: httpx and pydantic come
    compiled from their wheels, and a checkout edited since its last run (or a shell with
    PYTHONDONTWRITEBYTECODE set) would otherwise time the compiler too."""
    import compileall

    compileall.compile_dir(REPO_ROOT / "lso_client", quiet=1)


def _wall(code: str) -> float:
    start = time.perf_counter()
    _run(code)
    return time.perf_counter() - start


def imports(runs: int) -> list[Row]:
    compile_package()
    times: dict[str, list[float]] = {name: [] for name in IMPORTS}
    names = list(IMPORTS)
    for run in range(runs):
        shift = run % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(_wall(IMPORTS[name]))
    floor = statistics.median(times[FLOOR])
    return [
        Row(
            "(f) cold start",
            name,
            statistics.median(samples) * 1000,
            "ms",
            statistics.median(samples) / floor,
            "-",
            "wall time of a fresh interpreter",
            [s * 1000 for s in samples],
        )
        for name, samples in times.items()
    ]


def first_calls(runs: int) -> list[Row]:
    compile_package()
    times: dict[str, list[float]] = {family: [] for family in FAMILIES}
    for _ in range(runs):
        for family, resource in FAMILIES.items():
            code = _FIRST_CALL.format(resource=resource)
            times[family].append(float(_run(code).stdout))
    rows = []
    for family, samples in times.items():
        median = statistics.median(samples)
        rows.append(
            Row(
                "(f) first call",
                family,
                median * 1000,
                "ms",
                None,
                "-",
                "first list() after import + client",
                [s * 1000 for s in samples],
            )
        )
    return rows


def importtime_top(code: str = IMPORTS["import + 3 clients"], top: int = 12) -> list[str]:
    """The modules with the largest cumulative import time (`python -X importtime`)."""
    stderr = _run(code, "-X", "importtime").stderr
    entries: list[tuple[int, str]] = []
    for line in stderr.splitlines():
        found = re.match(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)", line)
        if found:
            depth = len(found.group(3)) // 2
            # Top-level and second-level modules: the ones a change could act on.
            if depth <= 2:
                entries.append((int(found.group(2)), found.group(4)))
    entries.sort(reverse=True)
    return [f"{cumulative / 1000:7.1f} ms  {name}" for cumulative, name in entries[:top]]
