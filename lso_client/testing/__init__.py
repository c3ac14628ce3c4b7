"""Test support: an embedded mock seller for developing and testing buyer code.

```python
from lso_client.testing import MockSeller

with MockSeller(step_delay=0.01) as seller:
    ...  # point a client at seller.url; seller.set_scenario("failed"); seller.wait_idle()
    seller.raise_alarm("legato", perceivedSeverity="critical")
    seller.api("pm_streaming", "interlude")  # family-specific controls live on API objects
```

With pytest, the `mock_seller` fixture gives a started seller per test.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._examples import example_service_configuration, example_service_order
    from ._runtime import Delivery
    from ._scenarios import SCENARIOS, Scenario, Step
    from ._seller import FAMILIES, REFERENCE_POINTS, MockSeller

__all__ = [
    "FAMILIES",
    "REFERENCE_POINTS",
    "SCENARIOS",
    "Delivery",
    "MockSeller",
    "Scenario",
    "Step",
    "example_service_configuration",
    "example_service_order",
]

# Loaded on first use, so that the pytest plugin (imported by every pytest run once
# the package is installed) does not pull in uvicorn.
_HOMES = {
    "Delivery": "._runtime",
    "FAMILIES": "._seller",
    "REFERENCE_POINTS": "._seller",
    "SCENARIOS": "._scenarios",
    "Scenario": "._scenarios",
    "Step": "._scenarios",
    "MockSeller": "._seller",
    "example_service_configuration": "._examples",
    "example_service_order": "._examples",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
