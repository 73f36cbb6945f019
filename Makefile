# flannot — set-up and test entry points (see README "Quick start").
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint format bench system-deps clean sample fuzz

# Debian packages: Xvfb + Qt xcb libraries (napari's canvas needs an X server and OpenGL),
# and dicom3tools (dciodvfy validates every DICOM we write). Installed only when missing and root.
system-deps:
	@bash tools/system-deps.sh

$(STAMP): pyproject.toml $(wildcard plugins/*/pyproject.toml)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test,bench]"
	@# the Qt binding is PySide6 (LGPL); drop the PyQt6 (GPL) an older flannot installed
	@if $(BIN)/python -m pip show -q PyQt6 >/dev/null 2>&1; then \
	  $(BIN)/python -m pip uninstall -q -y PyQt6 PyQt6-Qt6 PyQt6-sip; fi
	@for p in plugins/*/; do [ -f "$$p/pyproject.toml" ] && $(BIN)/python -m pip install -q -e "$$p" || true; done
	@touch $(STAMP)

install: system-deps $(STAMP)

demo: install
	@if [ -z "$$DISPLAY" ] && ! [ "$$(uname)" = Darwin ]; then \
	  echo "No display found. To see the workspace, run under a virtual X server:"; \
	  echo "    xvfb-run -a -s '-screen 0 1600x1000x24' $(BIN)/flannot demo --screenshot demo.png"; \
	  echo "or, on a machine with a screen, run 'make demo' there."; \
	  echo "Rendering a screenshot to demo.png now with xvfb-run ..."; \
	  xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/flannot demo --screenshot demo.png; \
	else \
	  $(BIN)/flannot demo; \
	fi

LINT_PATHS := $(wildcard conftest.py src tests plugins benchmarks docs/images/*.py)

lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy  # the headless core (files and settings in pyproject.toml)

format: install
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

# The whole suite, headless: starts Xvfb itself when there is no display.
test: install lint
	@if [ -z "$$DISPLAY" ]; then \
	  xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/python -m pytest $(PYTEST_ARGS); \
	else \
	  $(BIN)/python -m pytest $(PYTEST_ARGS); \
	fi

# A longer fuzzing campaign (tests/fuzz with hypothesis's "campaign" profile):
# FUZZ_EXAMPLES examples per property, new random seeds every run.
FUZZ_EXAMPLES ?= 2000
fuzz: install
	FLANNOT_FUZZ=campaign FLANNOT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/fuzz -p no:randomly $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m pytest benchmarks --benchmark-enable -p no:randomly $(PYTEST_ARGS); \
	  status=$$?; $(BIN)/python benchmarks/report_table.py; exit $$status

# The sample teaching set: the phantom cases and the CT-derived cases (real anatomy), with
# the README previews. Fetches the TotalSegmentator 2.18.0 example CT once from PyPI into
# the test cache (checksum-verified, tests/sim/reference_ct.py), then renders everything;
# the same bytes every time (tests/sim/test_sample_ct.py checks the whole folder).
sample: install
	PYTHONPATH=. $(BIN)/python -c "from tests.sim.reference_ct import fetch; fetch()"
	$(BIN)/flannot sample sample_dicoms --with-ct --previews docs/images

clean:
	rm -rf $(VENV) .pytest_cache build dist
