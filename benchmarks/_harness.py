"""Running contenders interleaved, checking their results, and collecting table rows."""

from __future__ import annotations

import gc
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from ._data import REPO_ROOT, Checksum


@dataclass
class Row:
    """One line of the results table."""

    scenario: str
    contender: str
    value: float | None  # the median, in `unit`
    unit: str
    ratio: float | None = None  # to the scenario's reference row
    check: str = "ok"  # "ok", "FAIL: ...", or "-" when nothing is checked
    note: str = ""
    samples: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Expected:
    count: int
    digest: str


@dataclass
class Contender:
    name: str
    run: Callable[[], Any]  # returns a Checksum, or None when nothing can be checked
    note: str = ""
    diagnostic: bool = False  # shown, but not a contender for the targets
    disable_gc: bool = False
    expected: Expected | None = None  # its own count and checksum (it reads fewer fields)


def run_interleaved(
    scenario: str,
    contenders: list[Contender],
    expected: Expected,
    *,
    runs: int,
    unit_per: int = 1,
    unit: str = "ms",
    reference: str | None = None,
    after_run: Callable[[str], str | None] | None = None,
) -> list[Row]:
    """Time each contender `runs` times, round-robin (rotating who goes first), and
    check every run's count and checksum. Values are medians in ms, divided by
    `unit_per` (calls per run) for per-call units. `after_run(name)` may return a
    failure text (server-side checks)."""
    times: dict[str, list[float]] = {c.name: [] for c in contenders}
    failures: dict[str, str] = {}
    for run in range(runs):
        shift = run % len(contenders)
        for contender in contenders[shift:] + contenders[:shift]:
            gc.collect()
            if contender.disable_gc:
                gc.disable()
            try:
                start = time.perf_counter()
                result = contender.run()
                elapsed = time.perf_counter() - start
            finally:
                gc.enable()
            times[contender.name].append(elapsed)
            problem = _check(result, contender.expected or expected)
            # Always run: it also resets the server's counters for the next contender.
            server_problem = after_run(contender.name) if after_run is not None else None
            problem = "; ".join(p for p in (problem, server_problem) if p) or None
            if problem is not None and contender.name not in failures:
                failures[contender.name] = problem
    scale = (1000.0 if unit == "ms" else 1e6) / unit_per
    ref_name = reference or contenders[0].name
    ref = statistics.median(times[ref_name])
    rows = []
    for contender in contenders:
        samples = times[contender.name]
        median = statistics.median(samples)
        checked = contender.run.__name__ != "_unchecked"
        rows.append(
            Row(
                scenario=scenario,
                contender=contender.name,
                value=median * scale,
                unit=unit,
                ratio=median / ref,
                check=("FAIL: " + failures[contender.name])
                if contender.name in failures
                else ("ok" if checked else "-"),
                note=contender.note,
                samples=[s * scale for s in samples],
            )
        )
    return rows


def _check(result: Any, expected: Expected) -> str | None:
    if result is None:
        return None
    if not isinstance(result, Checksum):
        raise TypeError(f"a contender returned {type(result).__name__}, not a Checksum")
    if result.count != expected.count:
        return f"{result.count} orders, expected {expected.count}"
    if result.digest != expected.digest:
        return "checksum differs (data dropped or altered)"
    return None


def unchecked(fn: Callable[[], Any]) -> Callable[[], None]:
    """Wrap a contender whose result cannot be checked (transport only)."""

    def _unchecked() -> None:
        fn()

    return _unchecked


class ServerProcess:
    """The loopback seller (`benchmarks._server`) in a child process."""

    def __init__(self, *args: str) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._server", *args],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line.strip():
            self.close()
            raise SystemExit("the benchmark server failed to start")
        self.url = f"http://127.0.0.1:{int(line)}"
        self._control = httpx.Client(base_url=self.url)

    def reset(self) -> None:
        self._control.post("/_reset").raise_for_status()

    def stats(self) -> dict[str, Any]:
        response = self._control.get("/_stats")
        response.raise_for_status()
        found: dict[str, Any] = json.loads(response.content)
        return found

    def close(self) -> None:
        if hasattr(self, "_control"):
            self._control.close()
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
