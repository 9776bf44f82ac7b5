# Two commands for a newcomer: `make run` and `make test`. Everything else is for us.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test install system-deps lint lint-imports docs docs-serve format migrate seed messages makemessages bench worker beat clean

system-deps:  ## Debian packages: MySQL client headers, gettext, Chromium for browser tests
	@if ! dpkg -s libmariadb-dev pkg-config gettext chromium chromium-driver >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q libmariadb-dev pkg-config gettext chromium chromium-driver; \
		else sudo apt-get update -q && sudo apt-get install -y -q libmariadb-dev pkg-config gettext chromium chromium-driver; fi; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e ".[dev,mysql]"
	touch $(STAMP)

install: system-deps $(STAMP) messages

messages: $(STAMP)  ## compile the translation catalogues (.mo files are built, never committed)
	@if ls locale/*/LC_MESSAGES/*.po >/dev/null 2>&1; then \
		DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv --ignore=.venv-compat -v 0; fi

makemessages: $(STAMP)
	DEBUG=1 $(PY) manage.py makemessages -l fr -l it -l es --ignore=.venv --ignore=.venv-compat --ignore=tests --ignore=bench --no-obsolete

.env:
	$(PY) -c "from payplug.devenv import write_dev_env; write_dev_env('.env', port=$(PORT))"

migrate: install .env
	$(PY) manage.py migrate --noinput

# runplatform = runserver + the periodic tasks in-process (payplug/scheduler.py); seed_demo_data gives
# the demo merchant 30 days of sample data once (fraud/demo_data.py).
run: install .env migrate  ## the embedded platform at http://127.0.0.1:8000 with a demo merchant
	PUBLIC_BASE_URL=http://$(HOST):$(PORT) $(PY) manage.py seed_demo
	PUBLIC_BASE_URL=http://$(HOST):$(PORT) $(PY) manage.py seed_demo_data
	PUBLIC_BASE_URL=http://$(HOST):$(PORT) $(PY) manage.py runplatform $(HOST):$(PORT)

test: install  ## the whole suite (SQLite by default; DATABASE_URL / REDIS_URL switch to MariaDB / Redis)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)  ## ruff (style, imports at the top) and the import-linter contracts of pyproject.toml
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

lint-imports: $(STAMP)  ## which part may import which (ARCHITECTURE.md), as import-linter contracts
	$(VENV)/bin/lint-imports

DOCS_SITE ?= $(or $(TMPDIR),/tmp)/payplatform-docs-site
docs: $(STAMP)  ## the documentation site (MkDocs Material), built strictly: a broken link fails
	$(VENV)/bin/mkdocs build --strict --clean --site-dir $(DOCS_SITE)
	@echo "docs built in $(DOCS_SITE) (open index.html, or: make docs-serve)"

docs-serve: $(STAMP)
	$(VENV)/bin/mkdocs serve --strict --dev-addr $(HOST):8001

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install  ## benchmarks; results under bench/results/
	$(PY) bench/run.py

worker: install .env
	$(VENV)/bin/celery -A payplug worker -l info

beat: install .env
	$(VENV)/bin/celery -A payplug beat -l info --schedule $(or $(TMPDIR),/tmp)/payplatform-celerybeat-schedule

clean:
	rm -rf $(VENV) staticfiles
