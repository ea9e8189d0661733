# Cauce: the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: help run test lint services install migration bench clean

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

run: $(STAMP)
	$(BIN)/cauce init
	$(BIN)/cauce serve

test: $(STAMP) services lint
	@set +e; $(BIN)/pytest $(PYTEST_ARGS); code=$$?; \
	if [ $$code -eq 5 ]; then echo "make test: pytest ran no test - failing" >&2; exit 1; fi; \
	exit $$code

# Before the first release there is one initial migration, regenerated from the models.
migration: $(STAMP)
	$(BIN)/python tools/regen_initial_migration.py

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
