"""The developer habits the repository promises: the pre-commit hooks run what `make test`
runs, `make test` builds the docs strictly, every docs page is in the site's nav, and the
changelog has a place for what is not released yet."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]

# Pages other parts of the project add; the nav lists them where they are added.
PAGES_ADDED_ELSEWHERE = {"install.md", "real-seller.md", "cli.md", "notebooks.md"}


def _recipe(target: str) -> list[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(target)}:[^\n]*\n((?:\t[^\n]*\n)+)", text, re.M)
    assert match, f"no {target} target"
    return [line.strip().replace("$(VENV)", ".venv") for line in match[1].splitlines()]


def _two_shards(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`tests/shards.py 2` run on the tests in `tmp_path`."""
    args = ["2", "-q", "-p", "no:cacheprovider", str(tmp_path)]
    return subprocess.run(
        [sys.executable, str(ROOT / "tests" / "shards.py"), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )


def test_pre_commit_hooks_are_local_and_run_what_make_test_runs() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    entries = {hook["id"]: hook["entry"] for hook in config["repos"][0]["hooks"]}
    recipe = _recipe("test")
    assert entries["ruff"] in recipe
    assert entries["mypy"] in recipe
    assert all(hook["language"] == "system" for hook in config["repos"][0]["hooks"])


def test_make_test_builds_the_docs_strictly_and_test_unit_leaves_out_the_servers() -> None:
    assert any("mkdocs build --strict" in line for line in _recipe("test"))
    (unit,) = [line for line in _recipe("test-unit") if " -m " in line]
    for marker in ("integration", "broker", "redis", "slow"):
        assert f"not {marker}" in unit


def _nav_files(nav: object) -> set[str]:
    if isinstance(nav, str):
        return {nav}
    if isinstance(nav, list):
        return set().union(*(_nav_files(item) for item in nav))
    if isinstance(nav, dict):
        return set().union(*(_nav_files(value) for value in nav.values()))
    return set()


def test_every_docs_page_is_in_the_nav() -> None:
    # mkdocs.yml names a hook file but uses no YAML tags: a safe load reads it.
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    in_nav = _nav_files(config["nav"])
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert pages - in_nav <= PAGES_ADDED_ELSEWHERE
    assert in_nav <= pages


def test_the_changelog_keeps_an_unreleased_section_first() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## \[([^\]]+)\]", text, re.M)
    assert sections[0] == "Unreleased"


def test_shards_split_the_tests_between_them(tmp_path: Path) -> None:
    (tmp_path / "test_five.py").write_text(
        "import pytest\n\n@pytest.mark.parametrize('n', range(5))\ndef test_n(n):\n    pass\n"
    )
    (tmp_path / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text())
    (tmp_path / "_faulty.py").write_text((ROOT / "tests" / "_faulty.py").read_text())
    run = _two_shards(tmp_path)
    assert run.returncode == 0, run.stdout
    assert "== shard 1 of 2" in run.stdout and "== shard 2 of 2" in run.stdout
    assert "3 passed, 2 deselected" in run.stdout and "2 passed, 3 deselected" in run.stdout

    (tmp_path / "test_fails.py").write_text("def test_fails():\n    assert False\n")
    failed = _two_shards(tmp_path)
    assert failed.returncode == 1


def test_the_operations_page_lists_every_operation_of_every_client() -> None:
    import importlib.util

    import lso_client

    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs_hooks.py")
    assert spec is not None and spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    page = (ROOT / "docs" / "reference" / "operations.md").read_text()
    built = hooks.on_page_markdown(page, page=None)
    rows = [line for line in built.splitlines() if line.startswith("| `")]
    every = list(lso_client.operations())
    assert len(rows) == len(every) > 300
    for op in every:
        assert any(f"`{op.operation_id}`" in row and f"`{op.method}`" in row for row in rows)


def test_no_link_is_committed() -> None:
    # A link to a checkout's own node_modules (or anything else on one machine) breaks a
    # clean clone; the ignore rules must cover links as well as directories.
    import subprocess

    listed = subprocess.run(
        ["git", "ls-files", "-s"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    links = [line.split("\t", 1)[1] for line in listed.splitlines() if line.startswith("120000")]
    assert links == []
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "node_modules"], cwd=ROOT, capture_output=True
    )
    assert ignored.returncode == 0


def test_make_test_splits_by_a_marker_and_its_complement() -> None:
    import shards

    (line,) = [line for line in _recipe("test") if "shards.py" in line]
    assert '--by "broker or redis"' in line
    broker, rest = shards._shards(["--by", "broker or redis", "-q"])
    assert broker == (["-m", "(broker or redis)", "-q"], {})
    assert rest == (["-m", "not (broker or redis)", "-q"], {})
    # The caller's own `-m` narrows both.
    narrowed = shards._shards(["--by", "broker", "-q", "-m", "not slow", "tests/unit"])
    assert narrowed == [
        (["-m", "(broker) and (not slow)", "-q", "tests/unit"], {}),
        (["-m", "not (broker) and (not slow)", "-q", "tests/unit"], {}),
    ]
    assert shards._shards(["2", "-q"]) == [
        (["-q"], {"LSO_TEST_SHARD": "0/2"}),
        (["-q"], {"LSO_TEST_SHARD": "1/2"}),
    ]
