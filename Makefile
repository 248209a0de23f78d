# Accord: `make run` serves the demo on the embedded SQLite store; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ASSETS := web/static/.built
GOVUK := node_modules/govuk-frontend/dist/govuk
MOJ := node_modules/@ministryofjustice/frontend/moj

.PHONY: run test lint typecheck pytest bench screenshots chromium clean

run: $(INSTALLED) $(ASSETS)
	$(BIN)/accord serve

test: lint typecheck pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(INSTALLED)
	$(BIN)/mypy domain service

pytest: $(INSTALLED) $(ASSETS) chromium
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

# The pages' assets: GOV.UK Frontend and MOJ Frontend from the npm registry (package-lock.json), served by Flask
# from web/static/ (not committed); nothing comes from a CDN.
$(ASSETS): package.json package-lock.json web/frontend/*
	@command -v npm >/dev/null || { echo "The pages' assets need Node.js 18+ and npm: install them (Debian: apt-get install nodejs npm), then run make again" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf web/static && mkdir -p web/static
	cp -R $(GOVUK)/assets/fonts $(GOVUK)/assets/images $(GOVUK)/assets/manifest.json web/static/
	cp -R $(MOJ)/assets/images/. web/static/images/
	cp $(GOVUK)/govuk-frontend.min.css $(GOVUK)/govuk-frontend.min.js $(MOJ)/moj-frontend.min.css $(MOJ)/moj-frontend.min.js web/static/
	cp web/frontend/* web/static/
	touch $@

# Browser tests drive Debian's Chromium (never a downloaded browser); CI runs as root and installs it when missing.
chromium:
	@command -v chromium >/dev/null || test -x /usr/bin/chromium || \
		{ test "$$(id -u)" = 0 && apt-get update -q && apt-get install -y -q chromium; } || \
		{ echo "The browser tests need Chromium: sudo apt-get install chromium" >&2; exit 1; }

screenshots: $(INSTALLED) $(ASSETS) chromium
	$(BIN)/python -m tests.e2e.screenshots docs/screenshots

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache node_modules web/static
