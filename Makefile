# make run   — create the venv, install, migrate the SQLite schema, load demo data, serve on HOST:PORT
#              (default 127.0.0.1:5000; e.g. `make run HOST=0.0.0.0 PORT=5100`) and print the address
# make test  — install the test extras (and Chromium for browser tests) and run the whole suite

PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
CATALOGS := $(wildcard service/translations/*/LC_MESSAGES/messages.po)
# English is the msgid language and needs no catalog.
TRANSLATED_LOCALES := zh_Hans_CN

.PHONY: run test install install-test translations assets extract-messages chromium lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(STAMP) translations assets

install-test: $(TEST_STAMP) translations assets

# Front-end packages (ECharts) from the npm registry, pinned by package-lock.json and served by the
# app itself (service/web/vendor.py); without npm the pages show their figures as tables only.
ASSETS_STAMP := node_modules/.package-lock.json
assets: $(ASSETS_STAMP)

$(ASSETS_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: charts will not be drawn (their tables still show)"; fi

# Compiled catalogs are build output, made from the committed .po files.
translations: $(STAMP) $(CATALOGS:.po=.mo)

# Fuzzy entries are guesses awaiting review: they are not compiled (the English msgid is shown instead).
%.mo: %.po
	$(BIN)/pybabel compile -i $< -o $@ --statistics

# Re-extract after adding source strings: existing translations are kept, new msgids come in empty
# (tests/unit/test_translations.py fails until they are translated), removed ones become obsolete (#~).
extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ --project=calrecall --sort-by-file \
		-o service/translations/messages.pot .
	for locale in $(TRANSLATED_LOCALES); do \
		$(BIN)/pybabel update -i service/translations/messages.pot -d service/translations -l $$locale \
			--init-missing --no-fuzzy-matching --ignore-pot-creation-date || exit 1; \
	done

run: install
	mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) demo
	@echo "Open http://$(HOST):$(PORT)/ and sign in with a login above (password demo-pass-2026)."
	$(FLASK) run --host $(HOST) --port $(PORT)

# Browser tests need Debian's Chromium, and a Chinese font: the pages are in Chinese, and the checks
# that no button is squeezed measure the real glyphs. Install them when we can (root with apt), else
# the browser tests skip.
BROWSER_PACKAGES := chromium fonts-wqy-zenhei
chromium:
	@{ command -v chromium >/dev/null 2>&1 && [ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]; } || \
		{ [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null) || \
		echo "chromium or its Chinese font not installed: browser tests may be skipped"; }

test: install-test chromium
	$(BIN)/pytest

# bandit: Medium and High findings fail; each false one is explained where it stands (# nosec BXXX # why).
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/bandit -c pyproject.toml -q -r service models notifications wsgi.py --severity-level medium

clean:
	rm -rf $(VENV) instance/*.sqlite3* .pytest_cache
