# Every target bootstraps its own virtual environment: a fresh clone needs nothing but make and Python.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# Lambda runs python3.13: prefer it (pyenv or PATH), fall back to python3.
PYTHON ?= $(shell for p in $$HOME/.pyenv/versions/3.13*/bin/python3 python3.13 python3; do \
  command -v $$p >/dev/null 2>&1 && { echo $$p; break; }; done)
PORT ?= 3000
EMULATOR_PORT ?= 3001
FTP_PORT ?= 2121

.PHONY: run test lint build bench invoke reconcile clean

$(VENV)/.installed: requirements-dev.txt layers/common/requirements.txt
	@echo "Installing into $(VENV) (once, about a minute): Python packages of requirements-dev.txt -"
	@echo "  boto3, moto (the AWS emulator), aws-lambda-powertools, lxml, zeep, pytest, ruff, mypy..."
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $@

run: $(VENV)/.installed cext
	PORT=$(PORT) EMULATOR_PORT=$(EMULATOR_PORT) FTP_PORT=$(FTP_PORT) PYTHONPATH=layers/common/python $(PY) -m lending.local.stack

# Readium's r2-lcp-js, which the LCP tests use to open the hub's licences: from the npm registry, pinned by
# tests/lcp/node/package-lock.json, into a git-ignored folder. Node.js and npm from Debian when missing.
LCP_NODE := tests/lcp/node/node_modules/.installed
$(LCP_NODE): tests/lcp/node/package.json tests/lcp/node/package-lock.json
	@command -v npm >/dev/null 2>&1 || { sudo -n true 2>/dev/null && SUDO=sudo; \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q nodejs npm; }
	cd tests/lcp/node && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

test: $(VENV)/.installed cext chromium $(LCP_NODE)
	$(PY) -m pytest

# The console's browser tests drive Debian's chromium (Playwright's own browser download cannot work
# offline); installed when missing (as root, or through sudo).
CHROMIUM := /usr/bin/chromium
.PHONY: chromium
chromium:
	@test -x $(CHROMIUM) || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

# The ONIX reader's walk in C (layers/common/src/onixwalk.c), compiled by ziglang (a pip package) into
# the layer's package dir, git-ignored; again only when the source changed. `make build` cross-compiles
# the one it ships for the template's architecture (tools/build.py).
.PHONY: cext
cext: $(VENV)/.installed
	@$(PY) -m tools.cext

lint: $(VENV)/.installed
	$(PY) -m ruff check layers functions tests tools
	$(PY) -m mypy

build: $(VENV)/.installed
	$(PY) -m tools.build

bench: $(VENV)/.installed cext
	$(PY) -m tools.bench

# The long hostile run (tests/fuzzing.py) against a local stack of its own; prints its figures, the
# stack's peak memory included, and fails on any 5xx, dropped connection or answer over 5 s.
#   make fuzz [REQUESTS=10000] [CLIENTS=4]
.PHONY: fuzz
fuzz: $(VENV)/.installed
	REQUESTS=$(or $(REQUESTS),10000) CLIENTS=$(or $(CLIENTS),4) PYTHONPATH=layers/common/python $(PY) -m tools.fuzz

# make invoke FN=PnbSendOrderFunction EVENT=events/pnb_send_order.json
invoke: $(VENV)/.installed
	$(PY) -m tools.invoke $(FN) $(EVENT)

# Counters against loan records, on the running `make run` stack (deployed: invoke ReconcileFunction).
reconcile: $(VENV)/.installed
	ENDPOINT=http://127.0.0.1:$(EMULATOR_PORT) $(PY) -m tools.invoke ReconcileFunction events/reconcile.json

clean:
	rm -rf build .aws-sam

# The DRM billing report of one month (warehouse lending URL): written to the bucket, printed here.
#   make drm-report MONTH=2026-11                  the deployed stack (STACK=lending-hub by default)
#   AWS_ENDPOINT_URL=http://127.0.0.1:3001 make drm-report MONTH=2026-11    local
.PHONY: drm-report
drm-report: $(VENV)/.installed
	PYTHONPATH=layers/common/python $(PY) -m lending.warehouse.billing "$(MONTH)" "$(STACK)"

# The lending systems warehouse loans may bill their DRM fee to (bill_drm_to): register one, or list them.
#   make lending-system ID=SIGB42 NAME="SIGB Example"   [STACK=lending-hub]; AWS_ENDPOINT_URL=... for local
.PHONY: lending-system
lending-system: $(VENV)/.installed
	PYTHONPATH=layers/common/python $(PY) -m lending.warehouse.systems "$(ID)" "$(NAME)" "$(STACK)"

# Send the early-return callbacks parked in the dead-letter queue back for another series of tries.
# make redrive ARGS="--stack lending-hub"  |  ARGS="--endpoint http://127.0.0.1:3001"
.PHONY: redrive
redrive: $(VENV)/.installed
	PYTHONPATH=layers/common/python $(PY) -m lending.notify.redrive $(ARGS)

# An organisation's first console account (its admin): prints a one-time invitation link (docs/operations.md).
#   make console-owner GLN=3010999000049 EMAIL=admin@example.org [ARGS="--mail"]   the deployed stack
#   AWS_ENDPOINT_URL=http://127.0.0.1:3001 make console-owner GLN=... EMAIL=...      local (`make run` up)
.PHONY: console-owner
console-owner: $(VENV)/.installed
	$(PY) -m tools.console_owner "$(GLN)" "$(EMAIL)" $(if $(STACK),--stack "$(STACK)") $(ARGS)

# The demo console staff's current TOTP codes (against `make run`: their secrets are printed there).
.PHONY: console-codes
console-codes: $(VENV)/.installed
	@PYTHONPATH=layers/common/python $(PY) -c "from lending.local import demo; demo.print_codes()"

# A book's EPUB enters the hub: stored and protected for Readium LCP once (docs/lcp.md).
#   make epub-file EAN=9791000000015 FILE=book.epub [STACK=lending-hub]; AWS_ENDPOINT_URL=... for local
.PHONY: epub-file
epub-file: $(VENV)/.installed
	PYTHONPATH=layers/common/python $(PY) -m lending.catalogue.epub_files "$(EAN)" "$(FILE)" "$(STACK)"

# The patron space's reader (epub.js from npm, pinned in tools/reader/package-lock.json): fetch the
# pinned version and copy its dist file and licence into the layer's static files (committed).
.PHONY: reader
reader:
	tools/reader/vendor.sh
