# winsec.wmi developer entry points. Everything installs into .venv/<name> with pinned packages.
#   make demo   - audit the simulated demo fleet (check mode) and print the report
#   make demo-harden - the demo, then fix the drift with winsec.wmi.harden and audit again
#   make test   - unit + end-to-end tests on every supported ansible-core (2.18-2.21) and the nox checks
#   make matrix - only the unit + end-to-end tests, on every supported ansible-core
#   make checks - only the nox sessions (antsibull-nox.toml, noxfile.py); one alone: .venv/nox/bin/nox -e lint
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
# make test runs the nox checks and, per ansible-core, the unit and the end-to-end tests as nine jobs, JOBS at a time,
# longest first; output is grouped per job. 3 on the 2-core CI machine: a job waiting (on the simulator's injected
# latency, a fleet starting, ansible's result polling) leaves its core to the third (measured: four e2e/unit files as
# jobs, 111.7 s with 2 at a time, 102.3 s with 3, the same CPU seconds). The pytest runs share ./collections, made once
# before any of them starts.
JOBS ?= 3
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
PYTHON_nox ?= $(PYTHON_3.13)

# The checks: nox with antsibull-nox (tests/requirements/nox.txt) in .venv/nox. Each nox session makes its own venv
# under .nox/ with the tools pinned by tests/requirements/nox-sessions.txt; --reuse-venv keeps them between runs
# (pip then only confirms the pins). NOX_ARGS narrows, e.g. NOX_ARGS="-e lint docs-check".
NOX_VENV := $(VENV_DIR)/nox
NOX := $(NOX_VENV)/bin/nox
NOX_ARGS ?=

.PHONY: help demo demo-harden test matrix venv browser checks gates collections-tree $(addprefix pytest-,$(CORES)) \
	$(addprefix pytest-unit-,$(CORES)) $(addprefix pytest-e2e-,$(CORES))

help:
	@sed -n '2,7p' Makefile

# --- virtual environments -------------------------------------------------------------------------------------------
# Installed once per interpreter and pinned requirement files into VENV_CACHE, .venv/<name> a link to it, so a fresh
# clone reuses what an earlier run installed from the same pins (tools/gates/venv.sh); VENV_CACHE= installs into
# .venv/ itself.
VENV_CACHE ?= $(HOME)/.cache/winsec-wmi/venvs
export VENV_CACHE
define make_venv
	@test -n "$(2)" || { echo "No Python interpreter for $(1): set PYTHON_$(notdir $(1))=..."; exit 1; }
	tools/gates/venv.sh $(1) $(2) $(3)
endef

$(VENV_DIR)/%/.installed: tests/requirements/core-%.txt tests/requirements/test.txt
	$(call make_venv,$(VENV_DIR)/$*,$(PYTHON_$*),tests/requirements/core-$*.txt tests/requirements/test.txt)

$(NOX_VENV)/.installed: tests/requirements/nox.txt
	$(call make_venv,$(NOX_VENV),$(PYTHON_nox),tests/requirements/nox.txt)

venv: $(VENV_DIR)/$(CORE_DEFAULT)/.installed

# --- tests ----------------------------------------------------------------------------------------------------------
# Debian's Chromium, for the HTML report's check in a real browser (test_report_browser.py drives it with
# Playwright). Idempotent: nothing happens where /usr/bin/chromium exists. apt-get needs root, as on CI.
browser:
	@test -x /usr/bin/chromium || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# pytest-ansible links the collection into ./collections/ansible_collections/winsec/wmi (one link per top-level
# entry) when that directory is missing. Two pytest runs starting together would both make it, and a tree made before
# a new top-level file existed would lack it; so it is made here, whole, before any run, and renamed into place.
COLLECTION_LINKS := collections/ansible_collections/winsec/wmi
collections-tree:
	@rm -rf $(COLLECTION_LINKS).new && mkdir -p $(COLLECTION_LINKS).new
	@for entry in * .[!.]*; do [ "$$entry" = collections ] || ln -s "$(CURDIR)/$$entry" "$(COLLECTION_LINKS).new/$$entry"; done
	@rm -rf $(COLLECTION_LINKS) && mv $(COLLECTION_LINKS).new $(COLLECTION_LINKS)

# Random-sample tests (the reply fuzzer, Hypothesis properties): under make test the K-th of its N cores draws share
# K/N of each sample (tests/conftest.py, --sample-share), so the matrix draws every sample whole, once; every test still
# runs on every core. A pytest target run alone (SAMPLE_CORES empty) draws the whole sample.
SAMPLE_CORES ?=
sample_share = $(if $(filter $(1),$(SAMPLE_CORES)),--sample-share $(shell n=0; for core in $(SAMPLE_CORES); do \
	[ "$$core" = "$(1)" ] && echo $$n; n=$$((n + 1)); done)/$(words $(SAMPLE_CORES)))

# A static pattern rule: make skips implicit-rule search for .PHONY targets, so a plain pytest-% would never run.
# Each run has its own pytest temporary directory, so runs side by side never clean up each other's.
$(addprefix pytest-,$(CORES)): pytest-%: $(VENV_DIR)/%/.installed browser collections-tree
	@echo "--- pytest on ansible-core $*"
	@mkdir -p build  # pytest creates --basetemp itself but not its parent (a fresh clone has no build/)
	$(VENV_DIR)/$*/bin/python -m pytest -p no:cacheprovider --basetemp=build/pytest-$* $(call sample_share,$*) $(PYTEST_ARGS)

# The same run in two halves, so make test can schedule nine jobs of 1-6 minutes instead of five of 4-8 (two slots
# then finish close together). The browser test is a unit test; the e2e half needs no browser.
$(addprefix pytest-unit-,$(CORES)): pytest-unit-%: $(VENV_DIR)/%/.installed browser collections-tree
	@echo "--- pytest tests/unit on ansible-core $*"
	@mkdir -p build
	$(VENV_DIR)/$*/bin/python -m pytest -p no:cacheprovider --basetemp=build/pytest-unit-$* $(call sample_share,$*) \
		$(PYTEST_ARGS) tests/unit

$(addprefix pytest-e2e-,$(CORES)): pytest-e2e-%: $(VENV_DIR)/%/.installed collections-tree
	@echo "--- pytest tests/e2e on ansible-core $*"
	@mkdir -p build
	$(VENV_DIR)/$*/bin/python -m pytest -p no:cacheprovider --basetemp=build/pytest-e2e-$* $(call sample_share,$*) \
		$(PYTEST_ARGS) tests/e2e

demo: $(VENV_DIR)/$(CORE_DEFAULT)/.installed
	$(VENV_DIR)/$(CORE_DEFAULT)/bin/python -m tools.demo

# The demo's second half: audit, fix the drift with winsec.wmi.harden, audit again.
demo-harden: $(VENV_DIR)/$(CORE_DEFAULT)/.installed
	$(VENV_DIR)/$(CORE_DEFAULT)/bin/python -m tools.demo --harden

matrix:
	@$(MAKE) --no-print-directory SAMPLE_CORES="$(TEST_CORES)" $(addprefix pytest-,$(TEST_CORES))

# The fleet benchmark: about 8 minutes on 2 cores (BENCH_ARGS=--full adds 500 hosts, about 20; --quick 30 s; --help).
.PHONY: bench
BENCH_ARGS ?=
bench: $(VENV_DIR)/$(CORE_DEFAULT)/.installed
	$(VENV_DIR)/$(CORE_DEFAULT)/bin/python benchmarks/fleet_audit.py $(BENCH_ARGS)

# make test runs the whole matrix (README.md, "Checks" has the timings).
# Narrow it with e.g. TEST_CORES="2.18 2.21" (the oldest and the newest are the least a change must pass).
TEST_CORES ?= $(CORES)

# Everything runs (make -k: a failure stops nothing else); the exit code says whether anything failed. nox prints
# its own table of sessions at the end of the checks; pytest its summary per ansible-core.
# make starts jobs in the order listed: the e2e halves (4-6 minutes each), the checks (about 4), the unit halves (1-3).
test:
	@$(MAKE) --no-print-directory -k -j$(JOBS) --output-sync=target SAMPLE_CORES="$(TEST_CORES)" \
		$(addprefix pytest-e2e-,$(TEST_CORES)) checks $(addprefix pytest-unit-,$(TEST_CORES))

# The nox sessions: antsibull-nox's (lint, docs-check, license-check, extra-checks, build-import-check, ansible-lint)
# and ours (ansible-test-sanity, ps-argspec, changelog, docsite, ee-requirements); `$(NOX) --list` lists them.
checks: $(NOX_VENV)/.installed
	@echo "--- nox $(NOX_ARGS)"
	$(NOX) --reuse-venv yes --no-color $(NOX_ARGS)

gates: checks
