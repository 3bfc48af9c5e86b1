# The two commands of the README: `make demo` and `make test`. Both set up what they
# need (Debian packages, a virtual environment, the package) and are safe to re-run.

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
APT_PACKAGES := pcscd libpcsclite-dev swig pcsc-tools libccid vsmartcard-vpcd pkg-config umockdev gir1.2-umockdev-1.0 python3-gi
STAMP := $(VENV)/.installed

.PHONY: setup system-packages venv demo test lint typecheck bench clean

setup: system-packages $(STAMP)

# Installs the Debian packages that are missing (needs root, or sudo).
system-packages:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	command -v cc >/dev/null 2>&1 || missing="$$missing gcc"; \
	command -v python3 >/dev/null 2>&1 || missing="$$missing python3"; \
	if command -v python3 >/dev/null 2>&1; then \
	  python3 -c "import venv, ensurepip" 2>/dev/null || missing="$$missing python3-venv"; \
	  python3 -c "import os, sysconfig; assert os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h'))" 2>/dev/null || missing="$$missing python3-dev"; \
	fi; \
	if [ -n "$$missing" ]; then \
	  echo "cardcheck setup: installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

$(STAMP): pyproject.toml
	@python3 -c "import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)" || \
	  { echo "cardcheck needs Python 3.11 or newer (python3 is $$(python3 -V))"; exit 1; }
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

demo: setup
	$(PY) -m cardcheck.demo

lint: setup
	$(VENV)/bin/ruff check cardcheck tests bench
	$(VENV)/bin/ruff format --check cardcheck tests bench

typecheck: setup
	$(VENV)/bin/mypy

test: setup lint typecheck
	$(VENV)/bin/pytest

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis
