# Build, lint, test and run lacre. `make test` works on a fresh Debian machine.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.lacre-pyproject.sha256
PORT ?= 3000
PYTEST_WORKERS ?= auto
PYTEST_ARGS ?=
LINT_PATHS := src tests benchmarks
# Runs a command with one throwaway PostgreSQL (LACRE_TEST_POSTGRES_DSN).
WITH_SERVICES := $(BIN)/python -m lacre.testing.services --

.PHONY: test lint serve bench clean system-deps venv test-peers

## system-deps: install missing Debian packages (postgresql, softhsm2, docker-registry, python3-venv)
system-deps:
	@PYTHON=$(PYTHON) scripts/install-system-deps

## venv: create .venv and install lacre with its test extras when pyproject.toml changed
venv: system-deps
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@want="$$(sha256sum pyproject.toml | cut -d' ' -f1)"; \
	if [ "$$(cat $(STAMP) 2>/dev/null)" != "$$want" ]; then \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'; \
		echo "$$want" > $(STAMP); \
	fi

## lint: ruff, formatting, mypy (strict) and import contracts
lint: venv
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy
	$(BIN)/lint-imports

## test-peers: install the pinned sigstore-js CLI the tests use (tests/peers/node)
test-peers:
	@scripts/install-test-peers

## test: lint, then the whole test suite in parallel against a throwaway PostgreSQL and registry
test: lint test-peers
	$(WITH_SERVICES) $(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

## serve: run a development server on 127.0.0.1:$(PORT) with data in .lacre
serve: venv
	$(BIN)/lacre server --dev --data-dir .lacre --host 127.0.0.1 --port $(PORT)

## bench: run every benchmark (benchmarks/*.py but _helpers) with --quick; each prints one JSON line last
bench: venv
	@$(WITH_SERVICES) bash -c 'shopt -s nullglob; \
		benches=(benchmarks/[!_]*.py); failed=0; \
		[ $${#benches[@]} -gt 0 ] || { echo "no benchmarks/*.py found" >&2; exit 1; }; \
		for b in "$${benches[@]}"; do \
			echo "== $$b" >&2; \
			$(BIN)/python "$$b" --quick || { echo "FAILED: $$b" >&2; failed=1; }; \
		done; exit $$failed'

## clean: remove the virtualenv, development data and caches
clean:
	rm -rf $(VENV) .lacre .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache \
		build dist
	find . -path ./.git -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -type d -prune \
		-exec rm -rf {} +
