"""Benchmarks of lso-client against hand-written baselines; run `python -m benchmarks`."""
