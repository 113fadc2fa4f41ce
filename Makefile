# The two commands a new user needs: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# checkov pins boto3, networkx and packaging older than the project's: it gets a virtualenv of its own.
CHECKOV_VENV := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-stamp
PORT ?= 3000
AWS_PORT ?= 4566

.PHONY: run test bench install lint typecheck openapi check-openapi build clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required (found %s)" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

$(CHECKOV_STAMP): constraints-checkov.txt | $(STAMP)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r constraints-checkov.txt
	@touch $(CHECKOV_STAMP)

install: $(STAMP) $(CHECKOV_STAMP)

## Start the whole service locally: embedded AWS (moto) on 127.0.0.1:$(AWS_PORT), demo data, API on http://127.0.0.1:$(PORT)
run: $(STAMP)
	$(BIN)/points-local --port $(PORT) --moto-port $(AWS_PORT)

## Invoke one function once, as `sam local invoke` does: make invoke FUNCTION=RedeemFunction EVENT=events/redeem.json
## (its JSON result alone on stdout, an install first on stderr; INVOKE_ARGS for more, e.g. INVOKE_ARGS='--endpoint-url http://127.0.0.1:4566')
.PHONY: invoke
invoke:
	@test -n "$(FUNCTION)" || { echo "usage: make invoke FUNCTION=RedeemFunction [EVENT=events/redeem.json]" >&2; exit 2; }
	@$(MAKE) --no-print-directory -s $(STAMP) >&2  # an install's output on stderr: stdout is the result alone
	@$(BIN)/points-local invoke $(FUNCTION) $(if $(EVENT),-e $(EVENT)) $(INVOKE_ARGS)

## Every check, offline: lint, types, OpenAPI drift, unit, integration, template and end-to-end tests
test: $(STAMP) $(CHECKOV_STAMP) chromium lint typecheck check-openapi
	$(BIN)/python -m pytest

## Debian's Chromium, for the browser test of the API docs page (tests/local_stack/test_api_docs.py), if missing
.PHONY: chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
chromium:
	@if [ -z "$$CHROMIUM" ] && ! command -v chromium >/dev/null; then \
		$(SUDO) apt-get update --quiet && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install --quiet -y --no-install-recommends chromium; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy layers/points_core/python/points_core src functions

## Regenerate docs/openapi.json from the code
openapi: $(STAMP)
	$(BIN)/python -m points_local.openapi --write docs/openapi.json

check-openapi: $(STAMP)
	$(BIN)/python -m points_local.openapi --check docs/openapi.json

## Benchmark: DynamoDB round trips and capacity, cold init, warm latency, local-stack throughput
bench: $(STAMP)
	$(BIN)/python -m benchmarks

build: $(STAMP)
	$(BIN)/sam build

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
