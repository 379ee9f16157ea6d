# Careline: `make run` starts the platform on the embedded default; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := /tmp/careline-uv/bin/uv
PYTEST_ARGS ?=
# `make test` runs the suite in parallel (pytest-xdist), one process per core; `make pytest` runs serially
# unless given PYTEST_WORKERS (a number or auto). Each worker has its own test database, var directory and
# Redis database (careline/testing/xdist_worker.py); whole files go to one worker (--dist loadfile).
PYTEST_WORKERS ?=

.PHONY: run test lint typecheck pytest bench chaos lock clean messages screenshots

$(VENV)/.base-installed: requirements/base.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/base.lock
	touch $@

$(VENV)/.dev-installed: requirements/dev.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/dev.lock
	touch $@ $(VENV)/.base-installed

## run: migrate the embedded database, load the demo clinic when empty, start web + worker + scheduler
run: $(VENV)/.base-installed
	$(PY) manage.py run_platform

## test: lint, type checks and the whole test suite
test: $(VENV)/.dev-installed lint typecheck pytest
test: PYTEST_WORKERS = auto

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check careline bench
	$(VENV)/bin/ruff format --check careline bench

typecheck: $(VENV)/.dev-installed
	$(VENV)/bin/mypy careline bench

# The suite runs on the database named by CARELINE_TEST_DATABASE_URL (PostgreSQL), else SQLite.
pytest: $(VENV)/.dev-installed
	CARELINE_VAR_DIR=$(CURDIR)/var/test $(if $(CARELINE_TEST_DATABASE_URL),DATABASE_URL=$(CARELINE_TEST_DATABASE_URL)) \
		$(VENV)/bin/pytest $(if $(PYTEST_WORKERS),-n $(PYTEST_WORKERS) --dist loadfile) $(PYTEST_ARGS)

## bench: patient search latency (and later pipelines) with figures for the README
bench: $(VENV)/.dev-installed
	CARELINE_VAR_DIR=$(CURDIR)/var/bench $(PY) -m bench

## chaos: 10,000 reminders and 2,000 inbound texts while workers are killed and PostgreSQL and Redis restart
## (the run's own, on spare ports); checks nothing was lost or doubled (bench/chaos.py; CHAOS_ARGS=--short)
CHAOS_ARGS ?=
chaos: $(VENV)/.dev-installed
	$(PY) -m bench.chaos $(CHAOS_ARGS)

# Patient texts: English msgids in the code, other languages in careline/locale/<code>/LC_MESSAGES/django.po.
MESSAGE_LANGUAGES ?= es
MAKEMESSAGES_IGNORE := -i bench -i docs -i var -i node_modules -i 'careline/demo/*' -i '*/tests/*'

## messages: refresh each language's .po from the code, then compile the .mo files (both are committed)
messages: $(VENV)/.base-installed
	$(PY) manage.py makemessages $(foreach code,$(MESSAGE_LANGUAGES),-l $(code)) --no-location --no-obsolete \
		$(MAKEMESSAGES_IGNORE)
	$(PY) manage.py compilemessages $(foreach code,$(MESSAGE_LANGUAGES),-l $(code)) -i .venv -i var

## screenshots: the README's pictures of the demo clinic (inbox, calendar week; desktop and phone) into docs/screenshots/
screenshots: $(VENV)/.dev-installed
	$(PY) -m careline.demo.screenshots --out docs/screenshots

## lock: re-resolve requirements/*.lock from pyproject.toml (maintainers only)
lock:
	test -x $(UV) || ($(PYTHON) -m venv /tmp/careline-uv && /tmp/careline-uv/bin/pip install --quiet uv)
	$(UV) pip compile pyproject.toml --python-version 3.11 --generate-hashes -o requirements/base.lock
	$(UV) pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements/dev.lock

clean:
	rm -rf $(VENV) var/test var/bench
