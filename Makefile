# winsec.wmi developer entry points. Everything installs into .venv/<name> with pinned packages.
#   make demo   - audit the simulated demo fleet (check mode) and print the report
#   make demo-harden - the demo, then fix the drift with winsec.wmi.harden and audit again
#   make test   - unit + end-to-end tests on every supported ansible-core (2.18-2.21), then the quality gates
#   make matrix - only the unit + end-to-end tests, on every supported ansible-core
#   make gates  - only the quality gates; each also alone: make gate-sanity, gate-ansible-lint, ... (see GATES)
#   make bench  - fleet benchmark on the simulator (audit vs the typical playbook); writes benchmarks/results/
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV_DIR := .venv
CORES := 2.18 2.19 2.20 2.21
CORE_OLDEST := 2.18
CORE_NEWEST := 2.21
CORE_DEFAULT := 2.19
PYTEST_ARGS ?=
# make test runs the gates beside the test runs (the two pytest runs stay one after the other: they share
# ./collections, written by pytest-ansible). 2 jobs fit the 2-core CI machine; output is grouped per target.
JOBS ?= 2
export NO_PROXY := 127.0.0.1,localhost
export no_proxy := 127.0.0.1,localhost

# Interpreters: `python3.X` when it runs, else pyenv's install of 3.X (pyenv's shims refuse versions that are
# installed but not selected). Override with e.g. `make test PYTHON_3.13=/usr/bin/python3.13`.
find_python = $(shell for c in python$(1) $(HOME)/.pyenv/versions/$(1).*/bin/python$(1) /usr/bin/python$(1); do \
	"$$c" -c '' >/dev/null 2>&1 && { command -v "$$c"; break; }; done)
PYTHON_3.11 ?= $(call find_python,3.11)
PYTHON_3.12 ?= $(call find_python,3.12)
PYTHON_3.13 ?= $(call find_python,3.13)
# ansible-core 2.20+ needs Python >= 3.12.
PYTHON_2.18 ?= $(PYTHON_3.11)
PYTHON_2.19 ?= $(PYTHON_3.11)
PYTHON_2.20 ?= $(PYTHON_3.12)
PYTHON_2.21 ?= $(PYTHON_3.13)
PYTHON_gates ?= $(PYTHON_3.13)
PYTHON_sanity ?= $(PYTHON_3.13)

# Quality gates, in the order the summary lists them. Tools live in .venv/gates (tests/requirements/gates.txt);
# ansible-test in .venv/sanity (gates-sanity.txt, ansible-core 2.21 only). Neither is a test venv.
GATES := sanity ansible-lint galaxy-importer docs changelog ruff mypy yamllint ps-argspec
GATES_VENV := $(VENV_DIR)/gates
SANITY_VENV := $(VENV_DIR)/sanity
GATE := tools/gates/run_gate.sh
RESULTS := build/gates/results
PY_DIRS := plugins simulator tools tests benchmarks
# ansible-test must see the collection outside any git work tree (tools/gates/sanity.sh); one per checkout.
SANITY_WORK ?= $(or $(TMPDIR),/tmp)/winsec-wmi-sanity-$(shell printf %s "$(CURDIR)" | cksum | cut -d' ' -f1)

.PHONY: help demo demo-harden test matrix venv browser gates tests-matrix $(addprefix pytest-,$(CORES)) $(addprefix gate-,$(GATES))

help:
	@sed -n '2,7p' Makefile

# --- virtual environments -------------------------------------------------------------------------------------------
# This machine's pip config lists extra local indexes that are often absent; pip warns once per package about them.
PIP_NOISE := ^WARNING: Location 'file:///.*' is ignored
define make_venv
	@test -n "$(2)" || { echo "No Python interpreter for $(1): set PYTHON_$(notdir $(1))=..."; exit 1; }
	rm -rf $(1)
	$(2) -m venv $(1)
	$(1)/bin/python -m pip install -q --disable-pip-version-check $(3) 2>&1 | { grep -v "$(PIP_NOISE)" || true; }
	touch $(1)/.installed
endef

$(VENV_DIR)/%/.installed: tests/requirements/core-%.txt tests/requirements/test.txt
	$(call make_venv,$(VENV_DIR)/$*,$(PYTHON_$*),-r tests/requirements/core-$*.txt -r tests/requirements/test.txt)

$(GATES_VENV)/.installed: tests/requirements/gates.txt
	$(call make_venv,$(GATES_VENV),$(PYTHON_gates),-r tests/requirements/gates.txt)

$(SANITY_VENV)/.installed: tests/requirements/gates-sanity.txt
	$(call make_venv,$(SANITY_VENV),$(PYTHON_sanity),-r tests/requirements/gates-sanity.txt)

venv: $(VENV_DIR)/$(CORE_DEFAULT)/.installed

# --- tests ----------------------------------------------------------------------------------------------------------
# Debian's Chromium, for the HTML report's check in a real browser (test_report_browser.py drives it with
# Playwright). Idempotent: nothing happens where /usr/bin/chromium exists. apt-get needs root, as on CI.
browser:
	@test -x /usr/bin/chromium || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# A static pattern rule: make skips implicit-rule search for .PHONY targets, so a plain pytest-% would never run.
$(addprefix pytest-,$(CORES)): pytest-%: $(VENV_DIR)/%/.installed browser
	$(GATE) pytest-$* $(VENV_DIR)/$*/bin/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

demo: $(VENV_DIR)/$(CORE_DEFAULT)/.installed
	$(VENV_DIR)/$(CORE_DEFAULT)/bin/python -m tools.demo

# The demo's second half: audit, fix the drift with winsec.wmi.harden, audit again.
demo-harden: $(VENV_DIR)/$(CORE_DEFAULT)/.installed
	$(VENV_DIR)/$(CORE_DEFAULT)/bin/python -m tools.demo --harden

matrix: $(addprefix pytest-,$(CORES))

# The fleet benchmark: about 8 minutes on 2 cores (BENCH_ARGS=--full adds 500 hosts, about 20; --quick 30 s; --help).
.PHONY: bench
BENCH_ARGS ?=
bench: $(VENV_DIR)/$(CORE_DEFAULT)/.installed
	$(VENV_DIR)/$(CORE_DEFAULT)/bin/python benchmarks/fleet_audit.py $(BENCH_ARGS)

# make test runs the whole matrix: it fits CI's time easily (about 100 s of pytest per ansible-core on 2 cores).
# Narrow it with e.g. TEST_CORES="2.18 2.21" (the oldest and the newest are the least a change must pass).
TEST_CORES ?= $(CORES)

# One ansible-core after the other (they share ./collections), each even when an earlier one failed.
tests-matrix:
	@rc=0; for core in $(TEST_CORES); do $(MAKE) --no-print-directory pytest-$$core || rc=1; done; exit $$rc

# Everything runs (make -k), then the summary prints, then the exit code says whether anything failed.
test:
	@rm -rf $(RESULTS)
	@rc=0; $(MAKE) --no-print-directory -k -j$(JOBS) --output-sync=target tests-matrix gates || rc=$$?; \
	  python3 tools/gates/summary.py $(RESULTS) $(addprefix pytest-,$(TEST_CORES)) $(GATES) || rc=1; \
	  exit $$rc

gates: $(addprefix gate-,$(GATES))

# --- quality gates --------------------------------------------------------------------------------------------------
gate-sanity: $(SANITY_VENV)/.installed $(GATES_VENV)/.installed
	SANITY_VENV=$(SANITY_VENV) GATES_VENV=$(GATES_VENV) SANITY_WORK=$(SANITY_WORK) $(GATE) sanity tools/gates/sanity.sh

# Production profile, no skip list (.ansible-lint); roles/ and playbooks/ are the content users run.
gate-ansible-lint: $(GATES_VENV)/.installed
	GATES_VENV=$(GATES_VENV) $(GATE) ansible-lint tools/gates/ansible_lint.sh

gate-galaxy-importer: $(GATES_VENV)/.installed
	GATES_VENV=$(GATES_VENV) $(GATE) galaxy-importer tools/gates/galaxy_import.sh

gate-docs: $(GATES_VENV)/.installed
	GATES_VENV=$(GATES_VENV) $(GATE) docs tools/gates/docsite.sh

gate-changelog: $(GATES_VENV)/.installed
	$(GATE) changelog bash -c '$(GATES_VENV)/bin/antsibull-changelog lint && \
	  $(GATES_VENV)/bin/antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml'

gate-ruff: $(GATES_VENV)/.installed
	$(GATE) ruff bash -c 'rc=0; $(GATES_VENV)/bin/ruff check $(PY_DIRS) || rc=1; \
	  $(GATES_VENV)/bin/ruff format --check $(PY_DIRS) || rc=1; exit $$rc'

gate-mypy: $(GATES_VENV)/.installed
	GATES_VENV=$(GATES_VENV) $(GATE) mypy tools/gates/mypy.sh

gate-yamllint: $(GATES_VENV)/.installed
	$(GATE) yamllint $(GATES_VENV)/bin/yamllint --strict .

gate-ps-argspec: $(GATES_VENV)/.installed
	$(GATE) ps-argspec $(GATES_VENV)/bin/python tools/gates/ps_argspec_check.py
