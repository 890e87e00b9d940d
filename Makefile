# peelian: two commands matter — `make demo` and `make test`. Everything else is a step of theirs.
SHELL := /bin/bash
PYTHON ?= python3
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= .peelian-demo
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install demo demo-data test test-fast lint bench migration browser clean help

help:
	@echo "make demo   - install, build the demo database from the bundled data, serve http://127.0.0.1:8000"
	@echo "make test   - install and run the whole test suite (ruff, import-linter, mypy, pytest)"
	@echo "make bench  - run the benchmarks in benchmarks/ and print their figures"

$(UV):
	$(PYTHON) -m pip install --quiet --target .tools/lib uv
	mkdir -p .tools/bin && ln -sf ../lib/bin/uv .tools/bin/uv

# Creates .venv and installs peelian with its dev dependencies exactly as locked in uv.lock.
install: $(BIN)/peelian
$(BIN)/peelian: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $(BIN)/peelian

# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium; never `playwright install`).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; \
	fi

demo: install
	$(BIN)/peelian demo --data-dir $(DEMO_DIR) --serve

test: install browser
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

test-fast: install
	$(BIN)/pytest -n 2 -m "not browser and not slow" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/lint-imports

bench: install
	$(BIN)/python benchmarks/run_all.py

# Regenerate the pre-release initial migration after changing src/peelian/data/tables/.
migration: install
	flock /tmp/peelian-migration.lock $(BIN)/python scripts/regenerate_initial_migration.py
	$(BIN)/ruff check --fix -q src/peelian/data/migrations/versions
	$(BIN)/ruff format -q src/peelian/data/migrations/versions

clean:
	rm -rf $(VENV) .tools .pytest_cache .ruff_cache $(DEMO_DIR)
