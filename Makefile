# Developer and CI entry points. `make test` is the project's test command.
PYTHON ?= python3
VENV := .venv
VENV_PY := $(VENV)/bin/python
# Stamps: reinstall only when the dependency declarations change.
PY_STAMP := $(VENV)/.lso-installed
NODE_STAMP := node_modules/.lso-installed

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install test demo codegen

install: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): pyproject.toml
	test -x $(VENV_PY) || $(PYTHON) -m venv $(VENV)
	$(VENV_PY) -m pip install --quiet -e '.[dev]'
	touch $@

# npm ci wipes node_modules first, so the stamp inside it goes when a reinstall starts.
$(NODE_STAMP): package-lock.json package.json
	npm ci --no-audit --no-fund
	touch $@

test: install
	$(VENV_PY) -m pytest -q
	$(VENV)/bin/ruff check lso_client tests codegen examples benchmarks
	$(VENV)/bin/mypy

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
