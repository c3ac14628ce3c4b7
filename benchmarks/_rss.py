"""Scenario (e): peak RSS while iterating N orders, in a fresh interpreter per measurement.

    python -m benchmarks._rss {floor,sdk} URL COUNT

Iterates COUNT orders from the generator server page by page (keeping nothing but a
running checksum), then prints JSON: the RSS once imports and the client are ready,
the peak RSS (`VmHWM`, else `ru_maxrss`), the elapsed time, and the count and checksum.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from functools import partial

import httpx

from ._data import BASE_PATH, POOL, Checksum, dict_fields, generated_id, template
from ._throughput import PAGE, list_sdk


def expected(count: int) -> Checksum:
    """The checksum of the generator server's first `count` orders, from its templates."""
    fields = [dict_fields(template(position)) for position in range(min(POOL, count))]
    check = Checksum()
    for index in range(count):
        check.add((generated_id(index), *fields[index % POOL][1:]))
    return check


def _floor(url: str, count: int) -> Checksum:
    check = Checksum()
    with httpx.Client() as http:
        offset = 0
        while offset < count:
            response = http.get(url, params={"offset": offset, "limit": min(PAGE, count - offset)})
            response.raise_for_status()
            page = json.loads(response.content)
            for order in page:
                check.add(dict_fields(order))
            offset += len(page)
    return check


def _status_kib(field: str) -> int:
    """A memory figure of this process, in KiB. On Linux from /proc: `ru_maxrss` would
    carry the parent's high-water mark over fork and exec, `VmHWM` belongs to this image
    alone. Elsewhere `ru_maxrss` stands in for both figures."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    kind, base, count_text = sys.argv[1:4]
    count = int(count_text)
    run: Callable[[], Checksum]
    if kind == "sdk":
        from lso_client import AllegroClient

        client = AllegroClient(base)
        run = partial(list_sdk, client, max_items=count)
    else:
        run = partial(_floor, base + BASE_PATH + "serviceOrder", count)
    ready = _status_kib("VmRSS") * 1024
    start = time.perf_counter()
    check = run()
    elapsed = time.perf_counter() - start
    peak_kb = _status_kib("VmHWM")
    print(
        json.dumps(
            {
                "ready_mb": ready / 2**20,
                "peak_mb": peak_kb / 1024,
                "seconds": elapsed,
                "count": check.count,
                "digest": check.digest,
            }
        )
    )


if __name__ == "__main__":
    main()
