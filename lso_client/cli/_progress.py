"""Progress of long listings and waits, drawn by rich on stderr when it is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .._waiting import state_of
from ._output import printable

__all__ = ["listing", "waiting"]


def _shown() -> bool:
    return sys.stderr.isatty()


def _progress(*columns: Any) -> Any:
    from rich.console import Console
    from rich.progress import Progress

    # Nothing of stdout goes through the display: piped output stays whole.
    return Progress(
        *columns,
        console=Console(file=sys.stderr),
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
    )


def _description() -> Any:
    """The task's description as plain text: it holds ids and states of the seller (and
    arguments), never read as rich markup."""
    from rich.progress import TextColumn

    return TextColumn("{task.description}", markup=False)


@contextmanager
def listing(
    label: str, *, streaming: bool = False
) -> Iterator[Callable[[int, int | None], None] | None]:
    """A listing's `progress` callback (None when stderr is not a terminal, or when the
    items stream to the same terminal as they come): a bar when the seller says how many
    items there are, a counter otherwise."""
    if not _shown() or (streaming and sys.stdout.isatty()):
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn

    with _progress(SpinnerColumn(), _description(), BarColumn(), MofNCompleteColumn()) as progress:
        task = progress.add_task(printable(f"listing {label}"), total=None)

        def report(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        yield report


@contextmanager
def waiting(label: str) -> Iterator[Callable[[Any], None] | None]:
    """A wait's `progress` callback (None when stderr is not a terminal): a spinner with
    the state last read and the number of polls."""
    if not _shown():
        yield None
        return
    from rich.progress import SpinnerColumn, TimeElapsedColumn

    shown = printable(f"waiting for {label}")
    with _progress(SpinnerColumn(), _description(), TimeElapsedColumn()) as bar:
        task = bar.add_task(shown, total=None)
        polls = 0

        def report(current: Any) -> None:
            nonlocal polls
            polls += 1
            state = state_of(current)
            if state is None and isinstance(current, list):
                state = f"{len(current)} ready"
            bar.update(task, description=f"{shown}: {printable(str(state))} (poll {polls})")

        yield report
