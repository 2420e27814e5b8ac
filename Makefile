# Country Partnership Portal. `make run` and `make test` work on a machine with only Python 3.11+.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run test lint install messages bench e2e fuzz clean screenshots axe

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) locale/.compiled

# Translations compile with Babel (pure Python), so no gettext is needed to run the portal.
locale/.compiled: $(STAMP) $(wildcard locale/*/LC_MESSAGES/django.po)
	$(VENV)/bin/pybabel compile --domain django --directory locale --statistics 2>&1 | tail -n 5
	touch locale/.compiled

run: install
	PORT=$(PORT) $(PY) -m portal.launcher

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

# Regenerate .po files from the templates and code (needs GNU gettext: Debian 'gettext').
messages: install
	for lang in ja fr es ar; do $(PY) manage.py makemessages --locale $$lang --ignore '.venv/*' --ignore '.data/*' --ignore 'tests/*' --ignore 'bench/*' --no-obsolete; done

# The README's screenshots: the e2e walk (Debian chromium) saves them to docs/screenshots/.
screenshots: install
	PORTAL_SCREENSHOTS=$(CURDIR)/docs/screenshots $(PY) -m pytest tests/e2e/test_walk.py -q -p no:cacheprovider

# Refresh the vendored axe-core (npm package) used by the e2e walk.
AXE_VERSION ?= 4.10.3
axe:
	cd $$(mktemp -d) && npm pack --silent axe-core@$(AXE_VERSION) && tar xzf axe-core-$(AXE_VERSION).tgz && cp package/axe.min.js package/LICENSE $(CURDIR)/tests/e2e/vendor/

bench: install
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(PY) -m bench.run

# The OpenAPI schema against a running portal, as four roles (tests/fuzz/run.py).
fuzz: install
	$(PY) -m tests.fuzz.run

clean:
	rm -rf $(VENV) .data
