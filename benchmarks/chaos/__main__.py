"""Run the chaos scenarios and print their figures (see `benchmarks/chaos/__init__.py`).

python -m benchmarks.chaos [--quick] [--only creates,listing,listener,memory]
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from ._figures import Figure

# Scenario name -> module (inside this package) with `run(quick: bool) -> list[Figure]`.
SCENARIOS = {
    "creates": "._creates",
    "listing": "._listing",
    "memory": "._memory",
    "listener": "._listener",
}


def _table(figures: list[Figure]) -> str:
    header = ("scenario", "figure", "value", "goal", "", "note")
    rows = [
        (
            f.scenario,
            f.name,
            f.value,
            f.goal,
            "" if f.ok is None else ("met" if f.ok else "MISSED"),
            f.note,
        )
        for f in figures
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=False)).rstrip()]
    lines.append("-" * len(lines[0]))
    lines += [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in rows
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chaos")
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    args = parser.parse_args(argv)
    wanted = [n for n in args.only.split(",") if n] or list(SCENARIOS)
    unknown = sorted(set(wanted) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(unknown)}")
    figures: list[Figure] = []
    for name in wanted:
        started = time.monotonic()
        print(f"== {name}", file=sys.stderr, flush=True)
        module = importlib.import_module(SCENARIOS[name], __package__)
        figures += module.run(args.quick)
        print(f"   {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    print(_table(figures))
    return 1 if any(f.ok is False for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
