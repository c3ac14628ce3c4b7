"""Start-up cost and list throughput, each against its floor, measured in one run.

    .venv/bin/python benchmarks/foundation.py [--runs 7] [--orders 10000]

1. Cold import, each in a fresh interpreter, interleaved: `import httpx, pydantic`
   (the floor), `import lso_client`, and `import lso_client` plus constructing the
   three clients.
2. Listing every order from the embedded mock seller (page size 500, realistic
   orders of two items): plain httpx + `json.loads` (the floor) against
   `client.service_orders.list()` with full models. Each run checks the count and a
   checksum of ids and payload fields, so a contender that drops data fails.

Medians of `--runs` interleaved runs; ratios are to the floor of the same run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
import pydantic

# The first call of each API family in a fresh interpreter: what lazy loading of the
# generated models costs when a family is first used (answered by an in-process
# transport, so no server time is included).
_FIRST_CALL = """
import time, httpx, lso_client
start = time.perf_counter()
client = lso_client.AllegroClient(
    "http://seller.invalid",
    http_client=httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=[]))),
)
client.{resource}.list()
print(time.perf_counter() - start)
"""
FAMILIES = {
    "service_ordering": "service_orders",
    "service_inventory": "services",
    "performance_monitoring": "performance_jobs",
    "pm_streaming": "streaming_topics",
    "fault_management": "fault_management_jobs",
    "alarm_management": "alarms",
    "service_function_testing": "test_jobs",
}
IMPORTS = {
    "import httpx, pydantic": "import httpx, pydantic",
    "import lso_client": "import lso_client",
    "import + 3 clients": (
        "import lso_client as l; "
        "[c('http://seller.invalid', token='t') for c in "
        "(l.AllegroClient, l.InterludeClient, l.LegatoClient)]"
    ),
}
PAGE = 500


def _time_import(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


Fields = tuple[Any, ...]


def _checksum(rows: list[Fields]) -> str:
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _fields(order_id: str, item_id: str, config: dict[str, Any]) -> Fields:
    return (
        order_id,
        item_id,
        config["sVlanId"],
        config["bandwidthProfile"]["cir"]["amount"],
        config["endPoints"][1]["uniId"],
    )


def _list_plain(url: str) -> tuple[int, list[Fields]]:
    rows: list[Fields] = []
    count = 0
    with httpx.Client() as http:
        offset = 0
        while True:
            response = http.get(url + "serviceOrder", params={"offset": offset, "limit": PAGE})
            page = json.loads(response.content)
            count += len(page)
            rows += [
                _fields(o["id"], i["id"], i["service"]["serviceConfiguration"])
                for o in page
                for i in o["serviceOrderItem"]
            ]
            offset += len(page)
            if not page or offset >= int(response.headers["X-Total-Count"]):
                return count, rows


def _list_sdk(client: Any) -> tuple[int, list[Fields]]:
    rows: list[Fields] = []
    count = 0
    for order in client.service_orders.list(limit=PAGE):
        count += 1
        for item in order.service_order_item:
            # The payload's own fields are kept as received, beside the model's.
            rows.append(_fields(order.id, item.id, item.service.service_configuration.model_extra))
    return count, rows


def _median_table(results: dict[str, list[float]], floor: str) -> list[str]:
    base = statistics.median(results[floor])
    rows = []
    for name, times in results.items():
        median = statistics.median(times)
        rows.append(f"  {name:28} {median * 1000:9.1f} ms   {median / base:5.2f}x")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--orders", type=int, default=10_000)
    args = parser.parse_args()
    print(
        f"Python {platform.python_version()}, httpx {httpx.__version__}, "
        f"pydantic {pydantic.VERSION}, {platform.machine()}"
    )

    imports: dict[str, list[float]] = {name: [] for name in IMPORTS}
    for _ in range(args.runs):
        for name, code in IMPORTS.items():
            imports[name].append(_time_import(code))
    print("cold import (wall time of a fresh interpreter)")
    print("\n".join(_median_table(imports, "import httpx, pydantic")))

    first: dict[str, list[float]] = {family: [] for family in FAMILIES}
    for _ in range(args.runs):
        for family, resource in FAMILIES.items():
            code = _FIRST_CALL.format(resource=resource)
            out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
            first[family].append(float(out.stdout))
    print("first call of each family after import (client construction + first list())")
    for family, times in first.items():
        print(f"  {family:28} {statistics.median(times) * 1000:9.1f} ms")

    from lso_client import AllegroClient
    from lso_client.testing import MockSeller

    with MockSeller() as seller, AllegroClient(seller.url, max_retries=0) as client:
        seller.max_page_size = PAGE
        seller.seed_orders(args.orders, items=2, realistic=True)
        url = seller.api_url("allegro")
        expected: str | None = None
        contenders: dict[str, Callable[[], tuple[int, list[Fields]]]] = {
            "httpx + json.loads": lambda: _list_plain(url),
            "lso_client list()": lambda: _list_sdk(client),
        }
        times: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(args.runs):
            for name, run in contenders.items():
                start = time.perf_counter()
                count, rows = run()
                times[name].append(time.perf_counter() - start)
                if count != args.orders:
                    raise SystemExit(f"{name}: {count} orders, expected {args.orders}")
                checksum = _checksum(rows)
                expected = expected or checksum
                if checksum != expected:
                    raise SystemExit(f"{name}: checksum differs, data was lost")
    print(f"list and parse {args.orders} orders, page size {PAGE}")
    print("\n".join(_median_table(times, "httpx + json.loads")))


if __name__ == "__main__":
    main()
