# Entry points: `make run` serves the embedded mode, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

# Compiled catalogs are build output, never committed.
messages: $(VENV)/.runtime-installed
	@command -v msgfmt >/dev/null || scripts/ensure-system-packages
	$(BIN)/python manage.py compilemessages --ignore=.venv -v 0

run: $(VENV)/.runtime-installed messages
	$(BIN)/python manage.py migrate --no-input -v 0
	$(BIN)/python manage.py seed_demo
	@echo "God Mode: http://$(HOST):$(PORT)/  (Ctrl+C stops it)"
	$(BIN)/daphne -b $(HOST) -p $(PORT) sweetmodels.asgi:application

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(VENV)/.dev-installed
	scripts/ensure-system-packages --with-browser
	$(MAKE) messages lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
