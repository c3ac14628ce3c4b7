"""Progress of listings and waits shown with tqdm (`pip install tqdm`, or the
`notebook` extra).

    from lso_client.progress import tqdm_progress

    with tqdm_progress(desc="orders") as bar:
        for order in client.service_orders.list(progress=bar):
            ...
    with tqdm_progress(desc="job") as bar:
        client.performance_jobs.wait(job.id, progress=bar)

One object serves both: a listing calls it with the items so far and the total expected
(a bar with a total when the seller sends `X-Total-Count`), a wait with what each poll
read (the bar counts polls and shows the state).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from ._extras import require
from ._waiting import state_of

# The extra that brings tqdm (progress bars in terminals and notebooks).
_EXTRA = "notebook"

__all__ = ["TqdmProgress", "tqdm_progress"]


class TqdmProgress:
    """A tqdm bar fed by a listing's or a wait's `progress` callback; close it (or use it
    as a context manager) when done."""

    def __init__(self, **tqdm_options: Any) -> None:
        tqdm = require(_EXTRA, "tqdm.auto")
        self.bar = tqdm.tqdm(**tqdm_options)

    def __call__(self, value: Any, total: int | None = None, /) -> None:
        """A listing's report (`value` the items so far, `total` those expected) or a
        wait's (`value` what the poll read)."""
        if isinstance(value, int) and not isinstance(value, bool):
            if total is not None and self.bar.total != total:
                self.bar.total = total
            self.bar.update(value - self.bar.n)
            return
        state = state_of(value)
        if state is None and isinstance(value, list):
            state = f"{len(value)} items"
        self.bar.set_postfix_str(f"state={state}", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        """Close the bar."""
        self.bar.close()

    def __enter__(self) -> TqdmProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def tqdm_progress(**tqdm_options: Any) -> TqdmProgress:
    """A `progress` callback drawing a tqdm bar (`tqdm_options` go to `tqdm.tqdm`, e.g.
    `desc=`, `file=`, `disable=`); raises `MissingExtraError` without tqdm."""
    return TqdmProgress(**tqdm_options)
