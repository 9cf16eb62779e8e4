# One command to set up, one to test; CI calls the same targets.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# This checkout's packages, whatever the venv has installed; functions/api for `chalicelib`.
LINT_IMPORTS := PYTHONPATH=layers:infrastructure:tooling:functions/api $(BIN)/lint-imports --no-cache

# The SAM CLI pins its own aws-sam-translator, cfn-lint and pydantic, which would fight the dev
# environment's (moto's) pins, so it has a virtualenv of its own.
SAM_CLI   := 1.170
SAM_VENV  ?= .local/sam-venv
SAM_STAMP := $(SAM_VENV)/.installed-$(SAM_CLI)
REGION    ?= ap-northeast-2

# checkov pins dozens of libraries of its own (boto3, pydantic, networkx...): its own venv too.
CHECKOV       := 3.3.30
CHECKOV_VENV  ?= .local/checkov-venv
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV)

.PHONY: dev tools interop demo up test validate checkov imports unit localcloud contract integration localstack localstack-start localstack-stop packages bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

dev: $(STAMP)                 ## create the virtual environment and install everything

# The TypeScript SD-JWT VC library the wallet's interoperability tests run with node, and axe-core
# for the kiosk page's browser tests (test-only, pinned by its lock; no install scripts).
# `make test` installs them when npm is here; without node, those tests skip and say why.
NPM := $(shell command -v npm 2>/dev/null)
INTEROP_STAMP := tests/interop/node_modules/.installed

$(INTEROP_STAMP): tests/interop/package-lock.json
	npm ci --prefix tests/interop --no-audit --no-fund --ignore-scripts
	touch $(INTEROP_STAMP)

interop: $(INTEROP_STAMP)     ## npm ci of tests/interop (the wallet's outside verifier, axe-core)

# The linters that live in virtual environments of their own (below); CI installs them while
# LocalStack starts, `make test` installs them on first use.
tools: $(SAM_STAMP) $(CHECKOV_STAMP) ## install the SAM CLI and checkov into .local/

demo: $(STAMP)                ## deploy into the local cloud, drive the complaint chain, report
	$(BIN)/gyeonggi local demo

up: $(STAMP)                  ## serve the stack on 127.0.0.1 (API :8000, MQTT :1883, AWS :5000)
	$(BIN)/gyeonggi local up

$(SAM_STAMP):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet 'aws-sam-cli~=$(SAM_CLI).0'
	touch $(SAM_STAMP)

# The SAM translator, then (--lint) SAM's own cfn-lint. Offline, and no credentials needed:
# checked with no network and no AWS variables. Telemetry off, so nothing is sent.
validate: $(SAM_STAMP)        ## sam validate --lint: the template as the SAM CLI sees it
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam validate --lint --template template.yaml \
		--region $(REGION)

$(CHECKOV_STAMP):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet 'checkov==$(CHECKOV)'
	touch $(CHECKOV_STAMP)

# Security and best-practice checks on template.yaml, offline (--skip-download: no policies
# fetched from a platform). Every check skipped is skipped in the template, in the resource's
# Metadata (checkov: skip: id, comment) with its reason; a failing check fails the target.
checkov: $(CHECKOV_STAMP)     ## checkov on template.yaml (skips and their reasons are in it)
	$(CHECKOV_VENV)/bin/checkov --skip-download --framework cloudformation --compact --quiet \
		--file template.yaml

# Every tier of pyproject.toml's testpaths but the LocalStack one (named, not --ignore'd: pytest
# collects a testpath given to it whatever --ignore says).
OTHER_TIERS := tests/unit tests/localcloud tests/contract tests/integration

# The LocalStack tier mostly waits on LocalStack (its deployment, its queues' polling), so it runs
# beside the other tiers in a pytest of its own; its report follows theirs, and either failing
# fails the target. Without a LocalStack it skips at once, saying why.
test: $(STAMP) validate checkov $(if $(NPM),interop) ## the whole suite: lint, types, template, unit, contract, integration, LocalStack
	$(BIN)/ruff check .
	$(BIN)/mypy layers infrastructure functions tests tooling
	$(LINT_IMPORTS)
	@mkdir -p .local
	$(BIN)/python -m pytest tests/localstack > .local/localstack-tier.log 2>&1 & tier=$$!; \
	$(BIN)/python -m pytest $(OTHER_TIERS); others=$$?; \
	wait $$tier; localstack=$$?; \
	echo "---- the LocalStack tier (tests/localstack, run beside the others) ----"; \
	cat .local/localstack-tier.log; \
	test $$others -eq 0 && test $$localstack -eq 0

imports: $(STAMP)             ## the import contracts alone (pyproject.toml [tool.importlinter])
	$(LINT_IMPORTS)

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

localcloud: $(STAMP)          ## tests of the embedded local cloud itself
	$(BIN)/python -m pytest tests/localcloud

contract: $(STAMP)
	$(BIN)/python -m pytest tests/contract

integration: $(STAMP)
	$(BIN)/python -m pytest tests/integration

localstack: $(STAMP)          ## deploy to a running LocalStack and run the LocalStack tier
	$(BIN)/python -m localcloud.localstack test

localstack-start: $(STAMP)    ## a host-mode LocalStack (no Docker) on 127.0.0.1:4566, as CI runs it
	$(BIN)/python -m localcloud.localstack_host start --timeout 180

localstack-stop:
	$(BIN)/python -m localcloud.localstack_host stop

packages: $(STAMP)            ## build the Lambda packages (ARCH=arm64|x86_64) and print their sizes
	$(BIN)/python -m localcloud.packaging build $(if $(ARCH),--arch $(ARCH))

bench: $(STAMP)               ## benchmarks (by hand, not in CI); figures go to docs/BENCHMARKS.md
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache
