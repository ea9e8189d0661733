# Cauce: the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Two test processes (pytest-xdist): the suite's storage tests are isolated per process (own
# SQLite files, own PostgreSQL schema, own loopback ports), and two halve CI's wall time.
PYTEST_WORKERS ?= 2

.PHONY: help run test lint services install migration bench clean web chromium

help:
	@echo "make run    install what is needed and start Cauce on http://127.0.0.1:8000 (SQLite)"
	@echo "make test   install what is needed and run lint plus the whole test suite"
	@echo "make lint   ruff + mypy"
	@echo "make bench  run the benchmarks and print their tables"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,ai]'
	@touch $(STAMP)

install: $(STAMP)

# The web app (web/, React + Vite) is built into the Python package, which serves it. npm ci
# runs only when the lockfile changed; the build (after its unit tests) when a source changed.
WEB_DIST := src/cauce/web/dist/index.html
WEB_MODULES := web/node_modules/.package-lock.json
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html \
	web/package.json web/vite.config.ts web/tsconfig.json web/tsconfig.app.json web/tsconfig.node.json

$(WEB_MODULES): web/package-lock.json
	@command -v npm >/dev/null || { echo "make: npm is missing; install Node.js >= 20.19" >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund
	@touch $(WEB_MODULES)

$(WEB_DIST): $(WEB_MODULES) $(WEB_SOURCES)
	cd web && npm test && npm run build

web: $(WEB_DIST)

# Browser tests drive Debian's Chromium (never `playwright install`); fresh machines lack it.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; \
	  else echo "make: /usr/bin/chromium is missing; install the 'chromium' package as root" >&2; exit 1; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; \
	fi

# PostgreSQL is needed by the storage tests; start the local cluster if it is installed but down.
services:
	@if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
	  echo "starting PostgreSQL"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start; \
	  for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard bench tools)
	$(BIN)/mypy

run: $(STAMP) web
	$(BIN)/cauce init
	$(BIN)/cauce serve

test: $(STAMP) services lint web chromium
	@set +e; $(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS); code=$$?; \
	if [ $$code -eq 5 ]; then echo "make test: pytest ran no test - failing" >&2; exit 1; fi; \
	exit $$code

# Before the first release there is one initial migration, regenerated from the models.
migration: $(STAMP)
	$(BIN)/python tools/regen_initial_migration.py

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Offline AI: intent accuracy, macro-F1, confusion matrix, latency on one core, model load.
.PHONY: bench-ai
bench-ai: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python bench/ai/bench_intents.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
