# Developer and CI entry points. `make test` is the project's test command.
PYTHON ?= python3
VENV := .venv
VENV_PY := $(VENV)/bin/python
# Stamps: reinstall only when the dependency declarations change.
PY_STAMP := $(VENV)/.lso-installed
NODE_STAMP := node_modules/.lso-installed

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install test test-unit docs demo codegen

install: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): pyproject.toml
	test -x $(VENV_PY) || $(PYTHON) -m venv $(VENV)
	$(VENV_PY) -m pip install --quiet -e '.[dev]'
	touch $@

# npm ci wipes node_modules first, so the stamp inside it goes when a reinstall starts.
$(NODE_STAMP): package-lock.json package.json
	npm ci --no-audit --no-fund
	touch $@

# Every test, in two pytest processes side by side (tests/shards.py): the tests that start
# a Kafka broker or redis-server, which mostly wait on the broker's timers, beside all the
# others.
test: install
	$(VENV_PY) tests/shards.py --by "broker or redis" -q
	$(VENV)/bin/ruff check lso_client tests codegen examples benchmarks
	$(VENV)/bin/mypy
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

# The fast tests: not the Prism integration tests, nor those that start a Kafka broker or
# redis-server, nor the slow sweeps (regenerating the package, mypy on it, every spec);
# in UNIT_SHARDS pytest processes side by side (tests/shards.py), as most tests wait on
# loopback sockets and timers.
UNIT_SHARDS ?= 4
test-unit: $(PY_STAMP)
	$(VENV_PY) tests/shards.py $(UNIT_SHARDS) -q tests/unit -m "not integration and not broker and not redis and not slow"

# The documentation site, built into site/ (`mkdocs serve` to browse it while editing).
docs: $(PY_STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# The demo needs the core and the `listener` extra only (the mock seller and the listener
# serve with uvicorn): a fresh clone runs it without the test and development tools.
DEMO_STAMP := $(VENV)/.lso-demo-installed

$(DEMO_STAMP): pyproject.toml
	test -x $(VENV_PY) || $(PYTHON) -m venv $(VENV)
	$(VENV_PY) -m pip install --quiet -e '.[listener]'
	touch $@

demo: $(DEMO_STAMP)
	$(VENV_PY) examples/demo.py

codegen:
	$(VENV_PY) -m codegen

# The benchmark suite (benchmarks/README.md): `make bench`, or `make bench ARGS=--quick`.
BENCH_STAMP := $(VENV)/.lso-bench-installed

$(BENCH_STAMP): $(PY_STAMP) pyproject.toml
	$(VENV_PY) -m pip install --quiet -e '.[dev,bench]'
	touch $@

.PHONY: bench
bench: $(BENCH_STAMP)
	$(VENV_PY) -m benchmarks $(ARGS)

# Faults at full size (benchmarks/chaos): `make chaos`, or `make chaos ARGS=--quick`.
.PHONY: chaos
chaos: $(PY_STAMP)
	$(VENV_PY) -m benchmarks.chaos $(ARGS)
