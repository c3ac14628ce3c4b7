"""Every ```python block of README.md and docs/**/*.md runs.

The blocks of one file run in order, in one namespace, against a mock seller started for
that file: `LSO_BASE_URL` points at it (a client built without a base URL reads it) and
`seller` is bound to the `MockSeller`. What the mock seller lacks, the test provides:

- `LSO_NOTIFICATION_TOKEN` is set, and the seller sends that token with every
  notification (`MockSeller(notification_token=...)`), so a listener checking it accepts
  the seller's events;
- `token_url` is an OAuth 2.0 token endpoint on loopback (a `FaultySeller` answering with
  a token), `client_id` and `client_secret` credentials it accepts;
- a page listed in `KAFKA_PAGES` gets a seller with a real Kafka-protocol broker
  (`MockSeller(kafka=True)`); those pages are marked `broker` (not in `make test-unit`).

Shell blocks (```sh) and other languages are not run. A block that truly cannot run is
fenced ```python-norun; each one is listed in `NORUN` with the reason, and the test fails
when the blocks so fenced differ from that list, so their number cannot grow silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _faulty import FaultySeller, Reply, Request

ROOT = Path(__file__).resolve().parents[2]

NOTIFICATION_TOKEN = "token-the-seller-sends"
CLIENT_ID = "buyer-42"
CLIENT_SECRET = "client-secret-of-buyer-42"

# Pages whose snippets consume PM streams: their seller publishes to a real broker.
KAFKA_PAGES = frozenset({"docs/guides/streaming.md"})

# (page, first line of the block): why it cannot run.
NORUN: dict[tuple[str, str], str] = {}

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<ticks>```+)(?P<info>[^`]*)$")


@dataclass(frozen=True)
class Block:
    """One fenced block: its info string (`python`, `sh`, ...), first line number, code."""

    language: str
    line: int
    code: str


def blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown text, indented ones (in lists) included."""
    found: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, ticks = opening["indent"], opening["ticks"]
        language = opening["info"].strip().split(" ")[0]
        body: list[str] = []
        j = i + 1
        while j < len(lines) and lines[j].strip() != ticks:
            line = lines[j]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            j += 1
        if j == len(lines):
            raise ValueError(f"the block opened on line {i + 1} is never closed")
        found.append(Block(language, i + 2, "\n".join(body) + "\n"))
        i = j + 1
    return found


def run_blocks(path: Path, text: str, namespace: dict[str, Any]) -> int:
    """Run the ```python blocks of `text` in order in `namespace`; returns how many ran.

    Each block is compiled as `path` with its own line numbers, so a traceback points at
    the Markdown line that failed."""
    ran = 0
    for block in blocks(text):
        if block.language != "python":
            continue
        code = compile("\n" * (block.line - 1) + block.code, str(path), "exec")
        exec(code, namespace)
        ran += 1
    return ran


def pages() -> list[str]:
    """README.md and every Markdown page of the docs, relative to the project root."""
    docs = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").rglob("*.md"))
    return ["README.md", *docs]


def _token_endpoint(request: Request) -> Reply:
    form = request.body.decode()
    if f"client_id={CLIENT_ID}" in form or request.headers.get("authorization"):
        return Reply.json({"access_token": "loopback-token", "token_type": "Bearer"})
    return Reply.json({"error": "invalid_client"}, status=401)


def _close_all(namespace: dict[str, Any]) -> None:
    from lso_client._client import SyncBaseClient
    from lso_client.notifications import NotificationListener

    for value in namespace.values():
        if isinstance(value, NotificationListener):
            value.stop()
        elif isinstance(value, SyncBaseClient):
            value.close()


@pytest.fixture
def snippet_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with FaultySeller(_token_endpoint) as token_server:
        monkeypatch.setenv("LSO_NOTIFICATION_TOKEN", NOTIFICATION_TOKEN)
        yield {
            "token_url": token_server.url + "/oauth2/token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }


def _with_python(page: str) -> bool:
    text = (ROOT / page).read_text(encoding="utf-8")
    return any(b.language == "python" for b in blocks(text))


def _params() -> list[Any]:
    # Pages without a Python block have nothing to run (the runner's own tests below
    # check that a page's blocks are all found).
    return [
        pytest.param(page, id=page, marks=[pytest.mark.broker] if page in KAFKA_PAGES else [])
        for page in pages()
        if _with_python(page)
    ]


def test_the_readme_and_most_guides_have_snippets_to_run() -> None:
    assert "README.md" in [p.values[0] for p in _params()]
    assert len(_params()) >= 10


@pytest.mark.parametrize("page", _params())
def test_snippets_run(
    page: str, snippet_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from lso_client.testing import MockSeller

    text = (ROOT / page).read_text(encoding="utf-8")
    options: dict[str, Any] = {"step_delay": 0.02, "notification_token": NOTIFICATION_TOKEN}
    if page in KAFKA_PAGES:
        options["kafka"] = True
    with MockSeller(**options) as seller:
        monkeypatch.setenv("LSO_BASE_URL", seller.url)
        namespace: dict[str, Any] = {"__name__": "__snippets__", "seller": seller, **snippet_env}
        try:
            run_blocks(ROOT / page, text, namespace)
        finally:
            _close_all(namespace)


def test_norun_blocks_are_the_listed_ones() -> None:
    fenced = {
        (page, block.code.splitlines()[0] if block.code.strip() else "")
        for page in pages()
        for block in blocks((ROOT / page).read_text(encoding="utf-8"))
        if block.language == "python-norun"
    }
    assert fenced == set(NORUN)
    assert len(NORUN) <= 5


def test_every_page_with_python_is_found() -> None:
    found = pages()
    assert found[0] == "README.md"
    assert "docs/index.md" in found


# -- the runner itself ----------------------------------------------------------------------


def test_runner_runs_blocks_in_order_in_one_namespace(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n```python\nx = 1\n```\n\n```sh\nexit 1\n```\n\n"
        "- a list item:\n\n  ```python\n  y = x + 1\n  ```\n",
        encoding="utf-8",
    )
    namespace: dict[str, Any] = {}
    assert run_blocks(page, page.read_text(), namespace) == 2
    assert namespace["y"] == 2


def test_runner_fails_on_a_broken_snippet_at_its_markdown_line(tmp_path: Path) -> None:
    page = tmp_path / "broken.md"
    page.write_text(
        "Intro\n\n```python\nfrom lso_client import AllegroClient\n```\n\n"
        "```python\nclients = [AllegroClient]\nprint(order_body)\n```\n",
        encoding="utf-8",
    )
    with pytest.raises(NameError, match="order_body") as caught:
        run_blocks(page, page.read_text(), {})
    frames = [f for f in caught.traceback if str(f.path) == str(page)]
    assert [f.lineno + 1 for f in frames] == [9]  # `print(order_body)`; pytest counts from 0


def test_runner_reports_an_unclosed_block(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="line 1"):
        blocks("```python\nx = 1\n")
