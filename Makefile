# slotbook: `make run` to try it, `make test` to prove it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test check bench screenshots install migrate demo-data clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(BIN)/slotbook migrate

demo-data: migrate
	$(BIN)/slotbook demo-data

run: demo-data
	$(BIN)/slotbook serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/pytest

check: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)
	$(BIN)/mypy src

screenshots: $(STAMP)
	SLOTBOOK_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/pytest $(wildcard tests/e2e/test_browser_*.py)

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) slotbook.db slotbook.db-wal slotbook.db-shm sandbox-gateway.db sandbox-gateway.db-wal sandbox-gateway.db-shm .pytest_cache .mypy_cache .ruff_cache
