"""`make chaos`: the SDK under faults, at sizes too large for the test suite.

Each scenario module has `run(quick: bool) -> list[Figure]`; `python -m benchmarks.chaos`
runs them all (or `--only name,...`) and prints one table. Every fault is injected by a
server on loopback; nothing leaves 127.0.0.1.
"""
