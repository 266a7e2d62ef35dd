# `make demo`, `make test` and `make check` work from a fresh clone: they create .venv and install
# the pinned requirements (requirements.txt to run, requirements-dev.txt to test and lint).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test check lint bench clean

$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.installed-dev: $(BIN)/.installed requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

demo: $(BIN)/.installed
	$(BIN)/python -m tests.fixtures.newsroom.demo

# Everything: unit tests, real crawls, and the tests on this machine's PostgreSQL and Redis.
test: $(BIN)/.installed-dev
	$(BIN)/python -m pytest -n auto --dist loadgroup

# The linter and the type checker.
lint: $(BIN)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Quick, to run often: the linters and the tests that need neither crawls nor services.
check: lint
	$(BIN)/python -m pytest -q -m "not crawl and not services and not restarts_services"

bench: $(BIN)/.installed-dev
	$(BIN)/python -m bench.extraction
	$(BIN)/python -m bench.crawl

clean:
	rm -rf $(VENV) demo-data .pytest_cache .mypy_cache .ruff_cache
