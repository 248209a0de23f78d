# Accord: `make run` serves the demo on the embedded SQLite store; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench clean

run: $(INSTALLED)
	$(BIN)/accord serve

test: lint typecheck pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(INSTALLED)
	$(BIN)/mypy domain service

pytest: $(INSTALLED)
	scripts/with-services $(BIN)/pytest

bench: $(INSTALLED)
	scripts/with-services $(BIN)/python -m bench

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Accord needs Python 3.11 or newer: set PYTHON=/path/to/python3.11" >&2; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
