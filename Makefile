# 6S Inspect. On a fresh Debian machine, as root:  make run   (or)   make test
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := app

# Debian packages: what the app needs to run (PDF rendering), and what the tests add.
APT_RUN := fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 fontconfig python3-venv
APT_TEST := chromium poppler-utils qpdf postgresql libreoffice-calc-nogui redis-server wrk nginx-light openssl

.PHONY: help run serve setup test coverage bench lint messages system-run system-test clean

help:
	@echo "make run    install everything, migrate, load demo data into an empty database, serve on http://$(HOST):$(PORT)"
	@echo "make test   install what the tests need and run the whole suite"
	@echo "make bench  benchmarks with their baselines"

# --- system packages: installed only when missing; without root we say what to install instead ---
define apt_ensure
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "system packages present: $(1)"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "NOTE: not root, so not installing:$$missing — ask an administrator to 'apt-get install$$missing'"; fi
endef

system-run:
	$(call apt_ensure,$(APT_RUN))

system-test: system-run
	$(call apt_ensure,$(APT_TEST))

# --- Python environment ---
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $(VENV)/.installed $@

# SECRET_KEY: from the environment, else generated once into instance/secret_key by the app itself.
setup: system-run $(VENV)/.installed
	$(BIN)/flask db upgrade
	$(BIN)/flask demo

run: setup serve

# gunicorn (its control socket the instance's own, never another instance's in ~/.gunicorn) and, beside it, the task
# consumer (issued reports, the periodic sweep); Ctrl-C stops both. Both count
# their metrics into one fresh folder that /metrics adds up (gunicorn.conf.py); log lines are JSON with the request
# id, the access lines included (ours, not gunicorn's, which lacks the id).
METRICS_DIR := $(CURDIR)/instance/metrics
serve:
	@echo "6S Inspect on http://$(HOST):$(PORT)  (demo logins above; Ctrl-C stops)"
	@rm -rf $(METRICS_DIR) && mkdir -p $(METRICS_DIR)
	@export PROMETHEUS_MULTIPROC_DIR=$(METRICS_DIR); \
	  $(BIN)/flask tasks consume & consumer=$$!; \
	  trap 'kill $$consumer 2>/dev/null; wait $$consumer 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/gunicorn --workers 2 --threads 4 --bind $(HOST):$(PORT) --control-socket $(CURDIR)/instance/gunicorn.ctl \
	    'app:create_app()'

# The whole suite on both cores with the machine's zone pinned to UTC; the day-and-zone tests (marker `clock`) run in
# it again as a machine in Shanghai and one in Los Angeles would run them (tests/conftest.py, MACHINE_ZONES): the
# app's days must not move with TZ. The imports must keep to the floors of docs/design.md (lint-imports).
# worksteal: a worker that runs out takes tests queued for the other, so a long test near the end no longer leaves
# one core idle while the other finishes its share.
PYTEST_WORKERS ?= 2
test: system-test $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/bandit -q -c pyproject.toml -r .
	TZ=UTC $(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal

# Branch coverage of the whole suite (compare before and after a change to the tests: it must not fall).
coverage: system-test $(VENV)/.installed-dev
	TZ=UTC $(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal -q --cov=. --cov-branch --cov-report=term:skip-covered \
	  --cov-report=json:coverage.json

bench: system-test $(VENV)/.installed-dev
	$(BIN)/python -m bench
	$(BIN)/python -m bench.large
	$(BIN)/python -m bench.load
	$(BIN)/python -m bench.storage
	$(BIN)/python -m bench.hostile

# Translations: extract the message ids (the Chinese texts), merge into the English catalogue, compile.
messages: $(VENV)/.installed-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k plain -o translations/messages.pot --no-location --omit-header \
	  --ignore-dirs=".venv tests bench migrations" .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --ignore-obsolete --no-fuzzy-matching -w 120
	$(BIN)/pybabel compile -d translations

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
