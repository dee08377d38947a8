# WBX developer commands. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

.PHONY: install
install: $(STAMP) ## Create the virtual environment and install WBX with its dev tools

.PHONY: run
run: install ## Set up and run the platform on the embedded broker
	$(BIN)/wbx up --demo

.PHONY: lint
lint: install ## Ruff (lint and format check) and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

.PHONY: format
format: install ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

.PHONY: test-tools
test-tools: ## Install Debian's Chromium (browser tests), promtool (metrics lint) and kcat when missing
	@command -v chromium >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 \
		&& command -v kcat >/dev/null 2>&1 || { \
		echo "installing Debian's chromium, prometheus (promtool) and kcat for the tests (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium prometheus kcat; }

.PHONY: render
render: install ## Render the deployments' topics and ACLs from infra/topics.toml
	$(BIN)/wbx topics render --format strimzi --output infra/deploy/kubernetes/wbx-kafka.yaml
	$(BIN)/wbx topics render --format kafka-cli --output infra/deploy/compose/kafka-setup.sh

.PHONY: vendor
vendor: ## Refresh the vendored front-end files (chart.js, axe-core, the border map) with npm
	cd web && npm ci --no-audit --no-fund && node vendor.mjs

.PHONY: messages
messages: install ## Extract the pages' strings into messages.pot and add new ones to each catalogue
	$(BIN)/pybabel extract -F gateway/web/babel.cfg -k N_ -k gettext --no-location --omit-header \
		--width 100 -o gateway/web/locales/messages.pot gateway/web
	for locale in sq mk sr_Latn; do $(BIN)/pybabel update --no-fuzzy-matching --width 100 \
		-i gateway/web/locales/messages.pot -o gateway/web/locales/$$locale/messages.po -l $$locale; done

.PHONY: test
test: lint test-tools ## Set up and run the whole test suite (lint first)
	$(BIN)/pytest

RELIABILITY := tests/integration/test_hostile_inputs.py tests/integration/test_kill_loop.py \
	tests/integration/test_gateway_kill.py tests/integration/test_publish_outage.py \
	tests/integration/test_slow_consumer.py tests/integration/test_soak.py

.PHONY: audit
audit: install ## pip-audit over the installed dependencies, less infra/security/audit-allow.toml (needs the network)
	$(BIN)/python -m pip install --quiet 'pip-audit>=2.7'
	$(BIN)/python infra/security/pip_audit.py

.PHONY: reliability
reliability: install test-tools ## The long reliability runs (about 40 min); prints their figures
	$(BIN)/pytest $(RELIABILITY) --timeout 3600 --hostile-count 10000 \
		--kill-events 50000 --kills 6 --slow-events 30000 --soak-seconds 300 --soak-rate 1000 --soak-requests 200 \
		--figures var/reliability.json

.PHONY: clean
clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
