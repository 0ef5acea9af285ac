# Two commands do everything: `make run` and `make test`. Every other target is a step
# of those. Only python3.13 and make are needed; each venv installs itself.
SHELL := /bin/bash
PYTHON ?= python3.13
VENV := .venv
SAM_VENV := .venv-sam
SCAN_VENV := .venv-scan
UV_VENV := .venv-uv
BIN := $(CURDIR)/$(VENV)/bin
SAM := $(CURDIR)/$(SAM_VENV)/bin/sam
# packaging/Makefile runs pip and compileall with the python3.13 it finds on PATH.
export PATH := $(BIN):$(PATH)
export SAM_CLI_TELEMETRY := 0
RUN_ARGS ?=
BENCH_ARGS ?=
SNAPSHOT_ARGS ?=
CHANGES_ARGS ?=
INVOKE_ARGS ?=
# The functions' and layers' instruction set: arm64 (deployed by default) or x86_64.
ARCH ?= arm64
SAM_BUILD_DIR ?= .aws-sam/build
FUNCTION ?= GetUserFunction
EVENT ?= events/get_user.json

.PHONY: help install lock lock-check run snapshot changes openapi bench bench-instructions invoke sam-invoke sam-api test lint typecheck pytest unit integration containers validate transform verify docs scan build build-x86_64 clean

# `make help` is made from the "## " note at the end of each target's line below.
help:
	@grep -E '^[a-z0-9_-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | sed -E 's/^([a-z0-9_-]+):.*## (.*)$$/make \1|\2/' | awk -F '|' '{ printf "%-25s %s\n", $$1, $$2 }'

# Every environment installs from a lock with every file's SHA-256, and every lock is
# uv's: requirements/{dev,sam,scan}.lock for the three venvs, layers/*/requirements.lock
# for the layers (packaging/Makefile installs those for arm64 or x86_64 with pip), and
# requirements/uv.lock for uv itself. Each lock is made from the .txt beside it, whose
# top-level pins are what people edit. uv is bootstrapped from python3.13 alone: its own
# pip installs the pinned wheel, hash-checked, into .venv-uv; a uv on PATH is never used.
UV := $(CURDIR)/$(UV_VENV)/bin/uv --no-config --no-python-downloads
LOCKS := requirements/uv.lock requirements/dev.lock requirements/sam.lock requirements/scan.lock \
	layers/dependencies/requirements.lock layers/xray/requirements.lock
# Every lock is resolved afresh (--upgrade) from what PyPI had at this instant, so that
# the same requirements give the same lock on any day; a pin released later needs it moved.
LOCK_EXCLUDE_NEWER := 2026-12-01T00:00:00Z
# Universal: one lock for every platform that runs python3.13, every file's hash in it
# (the layers' lock so has the manylinux wheels of both architectures).
LOCK_COMPILE = $(UV) pip compile --quiet --universal --python-version 3.13 --generate-hashes --upgrade \
	--exclude-newer $(LOCK_EXCLUDE_NEWER) --custom-compile-command 'make lock'
# The X-Ray layer's botocore is the DependenciesLayer's: its lock is only its own two pins
# (.venv's lock resolves the two layers together).
LOCK_OPTIONS_layers/xray/requirements.lock := --no-deps
# $(call lock_into,LOCK,FILE): what uv makes of LOCK's .txt, written to FILE; one recipe
# line for each lock.
lock_into = $(LOCK_COMPILE) $(LOCK_OPTIONS_$(1)) $(1:.lock=.txt) --output-file $(2)$(newline)
define newline


endef
# $(call sync,VENV,LOCK): the venv holds exactly the lock's packages (and its own pip),
# each a hash-checked wheel (an sdist would be built with unhashed build dependencies);
# first, the lock must hold the pins of its .txt (packaging/sdk.py check-lock).
sync = $(PYTHON) packaging/sdk.py check-lock $(2:.lock=.txt) $(2) && $(PYTHON) -m venv $(1) && \
	$(UV) pip sync --quiet --require-hashes --only-binary :all: --python $(1)/bin/python $(2)

$(UV_VENV)/.installed: requirements/uv.lock
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes --only-binary=:all: -r requirements/uv.lock
	touch $@

# botocore has no finspace-data model after 1.43.116: packaging/sdk.py extracts it from
# that wheel (hash-checked) into build/botocore-data, puts that on .venv's AWS_DATA_PATH,
# and installs botocore 1.43.116 under build/sdk for the test that compares the clients.
# The project itself is installed editable with the setuptools of the lock, unisolated.
$(VENV)/.installed: requirements/dev.lock requirements/dev.txt layers/dependencies/requirements.txt layers/xray/requirements.txt pyproject.toml packaging/sdk.py packaging/finspace-data-model.txt packaging/finspace-data-model.sha256 | $(UV_VENV)/.installed
	$(call sync,$(VENV),requirements/dev.lock)
	$(UV) pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation --editable .
	$(BIN)/python packaging/sdk.py develop $(VENV)
	touch $@

$(SAM_VENV)/.installed: requirements/sam.lock requirements/sam.txt | $(UV_VENV)/.installed
	$(call sync,$(SAM_VENV),requirements/sam.lock)
	touch $@

$(SCAN_VENV)/.installed: requirements/scan.lock requirements/scan.txt | $(UV_VENV)/.installed
	$(call sync,$(SCAN_VENV),requirements/scan.lock)
	touch $@

# The same again when build/ was removed but .venv was not.
DEV_MODEL := build/botocore-data/finspace-data/2020-07-13/service-2.json.gz
$(DEV_MODEL): | $(VENV)/.installed
	$(BIN)/python packaging/sdk.py develop $(VENV)

install: $(VENV)/.installed $(DEV_MODEL) $(SAM_VENV)/.installed $(SCAN_VENV)/.installed  ## the three venvs (.venv, .venv-sam, .venv-scan), each from its lock, and uv (.venv-uv); every other target makes those it needs
# To add or upgrade a dependency, edit its .txt and run `make lock`: see CONTRIBUTING.md.
# uv's own lock first, so that a new uv pin makes the other locks.
lock: $(UV_VENV)/.installed  ## every lock (the three venvs', the layers', uv's) from the requirements .txt beside it, with uv
	$(call lock_into,requirements/uv.lock,requirements/uv.lock)
	$(MAKE) --no-print-directory $(UV_VENV)/.installed
	$(foreach lock,$(filter-out requirements/uv.lock,$(LOCKS)),$(call lock_into,$(lock),$(lock)))

# Each lock made again into build/lock-check and compared: one line for each that differs.
LOCK_CHECK_DIR := build/lock-check
lock-check: $(UV_VENV)/.installed  ## fail, one line a lock, if `make lock` would change any lock (one check of make test)
	@rm -rf $(LOCK_CHECK_DIR)
	@mkdir -p $(addprefix $(LOCK_CHECK_DIR)/,$(sort $(dir $(LOCKS))))
	@$(foreach lock,$(LOCKS),$(call lock_into,$(lock),$(LOCK_CHECK_DIR)/$(lock)))
	@stale=0; for lock in $(LOCKS); do cmp -s $$lock $(LOCK_CHECK_DIR)/$$lock || { \
		echo "$$lock is stale: it is not what uv makes of $${lock%.lock}.txt (see $(LOCK_CHECK_DIR)/$$lock): run make lock"; stale=1; }; \
	done; exit $$stale

run: $(VENV)/.installed $(DEV_MODEL)  ## the local stack on 127.0.0.1 (API 3000, emulator 9010, moto 9020; RUN_ARGS='--port 3100 ...')
	$(BIN)/python -m localdev.run $(RUN_ARGS)

snapshot: $(VENV)/.installed $(DEV_MODEL)  ## an access-review snapshot of the running make run stack, else a throwaway one [SNAPSHOT_ARGS='--scheduled-time ...']
	$(BIN)/python -m localdev.snapshot $(SNAPSHOT_ARGS)

# finspace-users changes: every change of the local stack's verified history, the counts first.
changes: $(VENV)/.installed $(DEV_MODEL)  ## finspace-users changes: every verified change of the local stack [CHANGES_ARGS='--since 2026-11-22']
	$(BIN)/finspace-users changes $(CHANGES_ARGS)

# The local stack's access-review history: signatures, hashes, chain, versions, age.
VERIFY_ARGS ?=
verify: $(VENV)/.installed  ## finspace-users verify: the local stack's access-review history [VERIFY_ARGS=...]
	$(BIN)/finspace-users verify $(VERIFY_ARGS)

openapi: $(VENV)/.installed  ## regenerate openapi.json from the handlers
	$(BIN)/python -m localdev.openapi

# The artifact cold starts need our x86_64 build and the bare baseline's plain `sam build`;
# the artifact sizes, both builds.
bench: $(VENV)/.installed $(DEV_MODEL) build build-x86_64  ## cold start, warm overhead, sizes, snapshot and verify cost [BENCH_ARGS=--quick]
	$(SAM) build --template benchmarks/bare/template.yaml --build-dir build/bench/bare-build --cache-dir build/bench/bare-cache
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# The same cold starts counted in CPU instructions under valgrind: immune to machine noise.
bench-instructions: $(VENV)/.installed  ## cold starts in CPU instructions (valgrind)
	$(BIN)/python -m benchmarks.instructions

invoke: $(VENV)/.installed $(DEV_MODEL)  ## one function, in-process [FUNCTION=GetUserFunction EVENT=events/get_user.json INVOKE_ARGS=--running]
	$(BIN)/python -m localdev.invoke $(FUNCTION) $(EVENT) $(INVOKE_ARGS)

# sam local, in containers, on the x86_64 build (localdev/sam_local.py), which runs
# `make build-x86_64` itself so that a Ctrl-C during the build ends it with one line too.
sam-invoke: $(SAM_VENV)/.installed $(VENV)/.installed $(DEV_MODEL)  ## the same as make invoke, through sam local invoke in a container
	$(BIN)/python -m localdev.sam_local invoke $(FUNCTION) $(EVENT)

sam-api: $(SAM_VENV)/.installed $(VENV)/.installed $(DEV_MODEL)  ## SAM's local API (sam local start-api) on 127.0.0.1:3001
	$(BIN)/python -m localdev.sam_local start-api

test: lock-check lint typecheck docs validate scan build build-x86_64 pytest  ## every check: the locks, ruff, mypy, docs, sam validate --lint, cfn-lint + checkov, sam build, every pytest suite
# The documentation site (mkdocs.yml, docs/) into build/site; --strict fails on any broken
# link, anchor or included file.
docs: $(VENV)/.installed  ## the documentation site (docs/, mkdocs-material) into build/site, --strict
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

lint: $(VENV)/.installed  ## ruff (one check of make test)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Each handler on its own: both are named app.py, which one mypy run cannot tell apart.
typecheck: $(VENV)/.installed  ## mypy --strict: the package, the CLI, localdev, benchmarks, tests and each handler
	$(BIN)/mypy
	$(BIN)/mypy functions/get_user/app.py
	$(BIN)/mypy functions/list_users/app.py

validate: $(SAM_VENV)/.installed  ## sam validate --lint
	$(SAM) validate --lint

# template.yaml as SAM's transform turns it into what AWS deploys (localdev/transform.py).
TRANSFORMED := build/transformed/template.json
transform: $(SAM_VENV)/.installed
	$(SAM_VENV)/bin/python -m localdev.transform $(TRANSFORMED)

# cfn-lint with the serverless rules, and checkov offline, on the source and on what
# SAM's transform makes of it. Every suppression sits in template.yaml beside its
# resource, with its reason.
scan: $(SAM_VENV)/.installed $(SCAN_VENV)/.installed transform  ## cfn-lint and checkov, on template.yaml and on SAM's transform of it
	$(SAM_VENV)/bin/cfn-lint --template template.yaml $(TRANSFORMED) --append-rules cfn_lint_serverless.rules
	$(SCAN_VENV)/bin/checkov --file template.yaml --file $(TRANSFORMED) --framework cloudformation --compact --quiet --skip-download

# Plain `sam build`: packaging/Makefile builds every function and layer, bytecode
# included. ARCH goes to both the template and that Makefile, which SAM tells nothing.
build: $(SAM_VENV)/.installed $(VENV)/.installed  ## sam build (arm64 by default) into .aws-sam/build [ARCH=x86_64]
	ARCH=$(ARCH) $(SAM) build --parameter-overrides Architecture=$(ARCH) --build-dir $(SAM_BUILD_DIR)

# What sam local and the artifact benchmark run on this x86_64 machine, beside the
# arm64 build that deploys.
build-x86_64:
	$(MAKE) build ARCH=x86_64 SAM_BUILD_DIR=.aws-sam/build-x86_64

# pytest exits 5 when it collects no test: a failure here like any other.
pytest: $(VENV)/.installed $(DEV_MODEL) $(SAM_VENV)/.installed
	$(BIN)/pytest

unit: $(VENV)/.installed $(DEV_MODEL) $(SAM_VENV)/.installed  ## the unit suite
	$(BIN)/pytest -m "not integration and not build and not containers"

integration: $(VENV)/.installed $(DEV_MODEL)  ## the integration suite (boto3 over HTTP against the emulator and moto)
	$(BIN)/pytest -m integration

containers: build-x86_64 $(DEV_MODEL)  ## the sam local suite, in containers
	$(BIN)/pytest -m containers

clean:  ## remove the venvs, builds and caches (build/, .aws-sam, __pycache__, test caches)
	rm -rf $(VENV) $(SAM_VENV) $(SCAN_VENV) $(UV_VENV) .aws-sam build .pytest_cache .mypy_cache .ruff_cache .hypothesis .schemathesis *.egg-info
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
