# Constituent: two commands do everything on a fresh machine (Python 3.11 + Node/npm):
#   make demo   sample data under ./instance, then serve it
#   make test   the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Test processes (pytest-xdist). Most tests wait on servers and browsers, so three keep two cores
# busy: about 6 minutes for the whole suite where one process takes 12 (TEST_WORKERS=0: one process).
TEST_WORKERS ?= 3

.PHONY: demo test lint bench web web-check venv clean i18n

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

tests/yjs_client/node_modules/.installed: tests/yjs_client/package.json tests/yjs_client/package-lock.json
	cd tests/yjs_client && npm ci --no-audit --no-fund --loglevel=error --omit=optional
	touch $@

demo: $(STAMP)
	$(VENV)/bin/constituent demo --port $${PORT:-5000}

tests/a11y/node_modules/.installed: tests/a11y/package.json tests/a11y/package-lock.json
	cd tests/a11y && npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: $(STAMP) web/node_modules/.installed tests/yjs_client/node_modules/.installed tests/a11y/node_modules/.installed
	node --test tests/browser_editor_unit/
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# Static checks (CI runs them): ruff on the Python sources, mypy on the libraries and the core.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# The scenarios of the benchmark suite, one table (bench/README.md); bench/node (y-websocket, pinned) is
# installed by the scripts on first use. BENCH_ARGS=--quick for a
# smaller scale, --extra for the older figure scripts too.
bench: $(STAMP)
	$(PY) bench/run.py $(BENCH_ARGS)

# Rebuild the committed browser bundle from web/src.
web: web/node_modules/.installed
	cd web && npm run --silent build

# CI: the committed bundle must be exactly what a fresh build produces.
web-check: web
	git diff --exit-code --stat -- web/static/dist

clean:
	rm -rf $(VENV) web/node_modules tests/yjs_client/node_modules tests/a11y/node_modules

# Interface strings: extract, merge into the Spanish catalogue, compile (commit all three).
i18n: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o editor/translations/messages.pot .
	$(VENV)/bin/pybabel update -i editor/translations/messages.pot -d editor/translations
	$(VENV)/bin/pybabel compile -d editor/translations
