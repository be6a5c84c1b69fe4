# winsec.wmi developer entry points. Everything installs into .venv/<ansible-core version>.
#   make demo   - audit the simulated demo fleet (check mode) and print the report
#   make test   - unit + end-to-end tests on the oldest and newest supported ansible-core, then the quality gates
#   make matrix - unit + end-to-end tests on every supported ansible-core (2.18, 2.19, 2.20, 2.21)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV_DIR := .venv
CORES := 2.18 2.19 2.20 2.21
CORE_OLDEST := 2.18
CORE_NEWEST := 2.21
CORE_DEFAULT := 2.19
# ansible-core 2.20+ needs Python >= 3.12; pyenv provides these interpreters on the build machines.
PYTHON_2.18 ?= python3.11
PYTHON_2.19 ?= python3.11
PYTHON_2.20 ?= python3.12
PYTHON_2.21 ?= python3.13
PYTEST_ARGS ?=
export NO_PROXY := 127.0.0.1,localhost
export no_proxy := 127.0.0.1,localhost

.PHONY: help demo test matrix venv $(addprefix pytest-,$(CORES))

help:
	@sed -n '2,5p' Makefile

$(VENV_DIR)/%/.installed: tests/requirements/core-%.txt tests/requirements/test.txt
	rm -rf $(VENV_DIR)/$*
	$(PYTHON_$*) -m venv $(VENV_DIR)/$*
	$(VENV_DIR)/$*/bin/python -m pip install -q --disable-pip-version-check -r tests/requirements/core-$*.txt -r tests/requirements/test.txt
	touch $@

venv: $(VENV_DIR)/$(CORE_DEFAULT)/.installed

pytest-%: $(VENV_DIR)/%/.installed
	$(VENV_DIR)/$*/bin/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

demo: $(VENV_DIR)/$(CORE_DEFAULT)/.installed
	$(VENV_DIR)/$(CORE_DEFAULT)/bin/python -m tools.demo

test: pytest-$(CORE_OLDEST) pytest-$(CORE_NEWEST)

matrix: $(addprefix pytest-,$(CORES))
