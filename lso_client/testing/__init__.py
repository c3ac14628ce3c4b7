"""Test support: an embedded mock seller for developing and testing buyer code.

```python
from lso_client.testing import MockSeller

with MockSeller(step_delay=0.01) as seller:
    ...  # point a client at seller.url; seller.set_scenario("failed"); seller.wait_idle()
    seller.raise_alarm("legato", perceivedSeverity="critical")
    seller.api("pm_streaming", "interlude")  # family-specific controls live on API objects
```

With pytest, the `mock_seller` fixture gives a started seller per test.

The results of PM, FM and SFT jobs are payloads of the result or report schema that
answers the job's configuration. MEF publishes no result schema for STAMP (its report
file is empty) nor for the IP threshold-crossing configuration: such a job's results are
typed `RESULTS_WITHOUT_SCHEMA`, the mock seller's own URN, with the configuration's URN in
`configurationType`; they never pass for another schema's results.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._examples import example_service_configuration, example_service_order
    from ._payloads import RESULTS_WITHOUT_SCHEMA
    from ._runtime import Delivery
    from ._scenarios import SCENARIOS, Scenario, Step
    from ._seller import FAMILIES, REFERENCE_POINTS, MockSeller

__all__ = [
    "FAMILIES",
    "REFERENCE_POINTS",
    "RESULTS_WITHOUT_SCHEMA",
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
    "RESULTS_WITHOUT_SCHEMA": "._payloads",
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
