# Two commands for a newcomer: `make run` (the gateway, embedded defaults) and `make test`.
# Both install what they need first: Debian packages, the venv, and the npm bundle.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
BRIDGE := session_host/bridge
WAJS := $(BRIDGE)/node_modules/@wppconnect/wa-js/dist/wppconnect-wa.js

DASHBOARD_PORT ?= 9181

.PHONY: run test bench demo dashboard deps system venv bundle migrate lint format tf-check package clean

run: deps ## Run the gateway locally (SQLite, a local Redis, gunicorn on $$PORT or 8080)
	scripts/run.sh

test: deps ## Lint and run every test against real Redis, PostgreSQL and Chromium
	scripts/services.sh
	scripts/test.sh

bench: deps ## Measure latency, memory and restore time; writes bench/results/latest.json
	scripts/services.sh
	$(PY) -m bench

demo: deps ## Run the whole inbound loop offline against the simulator and exit (DEMO_ARGS=--keep: stay up)
	$(PY) -m simulator.demo $(DEMO_ARGS)

dashboard: venv ## RQ dashboard alone on 127.0.0.1:$$DASHBOARD_PORT (9181) for $$REDIS_URL (the API also serves it at /rq)
	$(VENV)/bin/rq-dashboard --json --bind 127.0.0.1 --port $(DASHBOARD_PORT) --redis-url "$${REDIS_URL:-redis://127.0.0.1:6379/0}"

deps: system venv bundle

system:
	scripts/ensure-system.sh

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

bundle: $(WAJS)

$(WAJS): $(BRIDGE)/package.json $(BRIDGE)/package-lock.json
	cd $(BRIDGE) && (npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error)
	test -f $@ && touch $@

migrate: venv ## Create or upgrade the database schema
	$(PY) -m functions.migrate

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

tf-check: ## terraform fmt + validate per env, then tflint/checkov when installed (else skipped, with a message)
	infra/scripts/tf_check.sh

package: venv ## Build the Lambda zip (LAMBDA_ARCH=x86_64|arm64, LAMBDA_PYTHON=3.12); prints its path and size
	infra/scripts/build_lambda_zip.sh $(or $(LAMBDA_ARCH),x86_64) $(or $(LAMBDA_PYTHON),3.12) var/dist/lambda.zip
	@$(PY) -c "import os, zipfile; p = 'var/dist/lambda.zip'; print(f'{p}: {os.path.getsize(p) / 1e6:.2f} MB, {len(zipfile.ZipFile(p).infolist())} files')"

clean:
	rm -rf var .pytest_cache .ruff_cache
