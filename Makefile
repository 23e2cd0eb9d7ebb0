# Recordbase build and test entry points. See README.md.
#
#   make run        install everything, create ./var/recordbase.sqlite3 with the
#                   sales CRM demo (once), serve on http://127.0.0.1:5000
#   make test       install everything (Chromium too, when root), ruff, mypy, pytest
#
# Everything the project needs is installed from here: PyPI into .venv, npm into
# node_modules (copied into the package's static/vendor/), Debian packages when root.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.installed

NPM ?= npm
NODE_STAMP := node_modules/.installed
VENDOR_DIR := platform/recordbase/static/vendor
VENDOR_STAMP := $(VENDOR_DIR)/.copied
# Files copied from node_modules into static/vendor/ (served by the app itself).
VENDOR_FILES := node_modules/htmx.org/dist/htmx.min.js \
	node_modules/sortablejs/Sortable.min.js
# CodeMirror 5 (the template editor): the core, HTML/CSS modes and Jinja overlaid on HTML.
CODEMIRROR_FILES := lib/codemirror.js lib/codemirror.css mode/xml/xml.js \
	mode/javascript/javascript.js mode/css/css.js mode/htmlmixed/htmlmixed.js \
	mode/jinja2/jinja2.js addon/mode/overlay.js addon/mode/multiplex.js

CONFIG ?= sample_configs/sales_crm
HOST ?= 127.0.0.1
PORT ?= 5000

CHROMIUM ?= /usr/bin/chromium
PG_BINDIR ?= /usr/lib/postgresql/15/bin
FONT_FILE ?= /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
ARTIFACTS := artifacts
PYTEST_WORKERS ?= 2
# Extra pytest arguments, e.g. make test PYTEST_ARGS='-k harness --db=sqlite'
PYTEST_ARGS ?=
# Set to a path to write a JUnit XML report, e.g. make test JUNIT=artifacts/junit.xml
JUNIT ?=

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export RECORDBASE_TEST_CHROMIUM := $(CHROMIUM)
export RECORDBASE_TEST_PG_BINDIR := $(PG_BINDIR)

.PHONY: help install venv assets run test system-deps print-deps bench-deps lint typecheck pytest bench clean

help:
	@echo "make run        install, create the demo database once, serve on $(HOST):$(PORT)"
	@echo "make test       install, then ruff + mypy + pytest (SQLite and PostgreSQL)"
	@echo "make bench      run tests/benchmarks/bench_*.py"
	@echo "make venv       create .venv and pip install -e '.[test]' (alias: install)"
	@echo "make assets     npm ci and copy front-end files into $(VENDOR_DIR)/"
	@echo "make lint | typecheck | clean"

# --- Python --------------------------------------------------------------------

install venv: $(VENV_STAMP)

$(VENV_STAMP): pyproject.toml
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet -e '.[test]'
	touch $@

# --- Front-end libraries (npm registry, pinned by package-lock.json) ------------

assets: $(VENDOR_STAMP)

$(NODE_STAMP): package.json package-lock.json
	$(NPM) ci --no-audit --no-fund --ignore-scripts
	touch $@

$(VENDOR_STAMP): $(NODE_STAMP) Makefile
	mkdir -p $(VENDOR_DIR)/codemirror
	cp $(VENDOR_FILES) $(VENDOR_DIR)/
	for f in $(CODEMIRROR_FILES); do cp node_modules/codemirror/$$f $(VENDOR_DIR)/codemirror/; done
	cp node_modules/codemirror/LICENSE $(VENDOR_DIR)/codemirror/LICENSE
	touch $@

# --- Run -------------------------------------------------------------------------

run: venv assets print-deps
	$(VENV)/bin/recordbase init --config $(CONFIG) --demo-data --if-missing
	$(VENV)/bin/recordbase serve --host $(HOST) --port $(PORT)

# --- Checks ----------------------------------------------------------------------

test: venv assets system-deps
	$(MAKE) lint typecheck pytest

# Debian packages the test suite needs: Chromium (browser tests) and PostgreSQL 15
# (the harness in tests/support/pgcluster.py starts a throwaway cluster).
system-deps:
	@missing=""; \
	test -x $(CHROMIUM) || missing="$$missing chromium"; \
	test -x $(PG_BINDIR)/initdb || missing="$$missing postgresql-15"; \
	test -f $(FONT_FILE) || missing="$$missing fonts-dejavu-core"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" -ne 0 ]; then \
		echo "error: missing Debian packages:$$missing; install them as root:" >&2; \
		echo "  apt-get update && apt-get install -y$$missing" >&2; \
		exit 1; \
	fi; \
	echo "installing Debian packages:$$missing"; \
	apt-get update -q; \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing

# The benchmarks' load generator is wrk (Debian package), a C program that leaves the
# two cores to the server it measures.
bench-deps:
	@command -v wrk >/dev/null && exit 0; \
	if [ "$$(id -u)" -ne 0 ]; then \
		echo "error: wrk is missing; install it as root:" >&2; \
		echo "  apt-get update && apt-get install -y wrk" >&2; \
		exit 1; \
	fi; \
	apt-get update -q; \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk

# Printing needs the DejaVu fonts (Cyrillic and Armenian in PDFs); make run installs
# them as root like system-deps does (tests also need poppler-utils' pdftoppm).
print-deps:
	@test -f $(FONT_FILE) && exit 0; \
	if [ "$$(id -u)" -ne 0 ]; then \
		echo "error: the DejaVu fonts are missing; install them as root:" >&2; \
		echo "  apt-get update && apt-get install -y fonts-dejavu-core" >&2; \
		exit 1; \
	fi; \
	apt-get update -q; \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-dejavu-core

lint: venv
	$(VENV)/bin/ruff check platform tests

typecheck: venv
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy tests/support

# pytest exits 5 when it collected no test and 2 on collection errors: both fail here.
pytest: venv assets
	mkdir -p $(ARTIFACTS)
	@rc=0; \
	$(VPY) -m pytest -n $(PYTEST_WORKERS) -p xdist \
		$(if $(JUNIT),--junitxml=$(JUNIT)) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests" >&2; fi; \
	exit $$rc

bench: venv assets system-deps bench-deps
	@found=0; \
	for script in tests/benchmarks/bench_*.py; do \
		[ -e "$$script" ] || continue; \
		found=1; \
		echo "== $$script"; \
		PYTHONPATH=tests $(VPY) "$$script"; \
	done; \
	if [ $$found -eq 0 ]; then echo "no benchmarks: tests/benchmarks/bench_*.py matches nothing"; fi

# Keeps var/ (your database) on purpose.
clean:
	rm -rf $(VENV) node_modules $(VENDOR_DIR) $(ARTIFACTS) \
		.pytest_cache .mypy_cache .ruff_cache .hypothesis build
	find platform tests -name __pycache__ -type d -prune -exec rm -rf {} +
	find platform -maxdepth 1 -name '*.egg-info' -type d -exec rm -rf {} +
