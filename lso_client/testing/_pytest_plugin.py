"""pytest fixtures for lso-client users (registered through the `pytest11` entry point).

Importing this module stays cheap: the seller and its dependencies load only when a
fixture is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from lso_client.testing import MockSeller

__all__ = ["mock_seller"]

# Short enough to keep scenario tests fast, long enough that each step is observable.
MOCK_SELLER_STEP_DELAY = 0.01


@pytest.fixture
def mock_seller() -> Iterator[MockSeller]:
    """A started `MockSeller` (step_delay 0.01 s), stopped after the test."""
    from lso_client.testing import MockSeller

    seller = MockSeller(step_delay=MOCK_SELLER_STEP_DELAY)
    seller.start()
    try:
        yield seller
    finally:
        seller.stop()
