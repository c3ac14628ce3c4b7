"""Where the time goes: pyinstrument profiles summarised by category and by function.

A sample's self time is charged to the category of its file (HTTP stack, JSON and
validation, lso_client, ...); frames of other modules (the standard library:
`typing`, `logging`, `enum` ...) are charged to the nearest categorised caller, so
`logging` called by the SDK counts as SDK time. The garbage collector has no frame:
its time lands in whatever allocated when it ran (mostly validation), which is why
scenario (a) also has a `gc.disable()` row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyinstrument import Profiler

from ._data import REPO_ROOT

RESULTS = REPO_ROOT / "benchmarks" / "results"

# (substring of the file path, category); the first match wins.
_CATEGORIES = (
    ("/lso_client/", "lso_client"),
    ("/benchmarks/", "benchmark harness"),
    ("/pydantic_core/", "JSON + validation"),
    ("/pydantic/", "JSON + validation"),
    ("/json/", "JSON + validation"),
    ("/orjson", "JSON + validation"),
    ("/httpx/", "HTTP"),
    ("/httpcore/", "HTTP"),
    ("/h11/", "HTTP"),
    ("/uvicorn/", "HTTP server"),
    ("/starlette/", "HTTP server"),
    ("/anyio/", "event loop"),
    ("/asyncio/", "event loop"),
    ("/selectors.py", "event loop"),
    ("/socket.py", "HTTP"),
    ("/ssl.py", "HTTP"),
    ("/http/", "HTTP"),
)


def _category(path: str | None) -> str | None:
    if not path:
        return None
    for marker, name in _CATEGORIES:
        if marker in path:
            return name
    return None


def summarise(profiler: Profiler, top: int = 12) -> dict[str, Any]:
    """Shares by category and the functions with the most self time."""
    session = profiler.last_session
    root = session.root_frame() if session is not None else None
    shares: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    if root is None:
        return {"seconds": 0.0, "shares": {}, "top": []}

    def walk(frame: Any, inherited: str, parent_path: str) -> None:
        path = frame.file_path or ""
        category = _category(path) or inherited
        self_time = frame.total_self_time
        if path == "<built-in>":
            # Blocked in epoll/select under the selector: waiting, not work.
            if parent_path.endswith("selectors.py"):
                category = "idle (waiting for I/O)"
            elif frame.function.startswith("socket."):
                category = "socket I/O"
        shares[category] += self_time
        if self_time > 0:
            location = frame.file_path_short or frame.file_path or "?"
            functions[f"{frame.function} ({location}:{frame.line_no})"] += self_time
        for child in frame.children:
            if not child.is_synthetic:
                walk(child, category, path)

    walk(root, "other", "")
    total = root.time or 1.0
    return {
        "seconds": root.time,
        "shares": {name: value / total for name, value in shares.most_common()},
        "top": [(name, value / total) for name, value in functions.most_common(top)],
    }


def profile(name: str, run: Callable[[], Any]) -> dict[str, Any]:
    """Profile one call of `run`; saves the text tree to `results/profile-<name>.txt`."""
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    profiler.start()
    try:
        run()
    finally:
        profiler.stop()
    save(name, profiler)
    return summarise(profiler)


def save(name: str, profiler: Profiler) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"profile-{name}.txt"
    path.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    return path


def format_summary(name: str, summary: dict[str, Any]) -> list[str]:
    lines = [f"profile {name} ({summary['seconds']:.2f} s sampled)"]
    lines.append(
        "  shares: "
        + ", ".join(f"{category} {share:.0%}" for category, share in summary["shares"].items())
    )
    lines += [f"  {share:5.1%}  {function}" for function, share in summary["top"]]
    return lines
