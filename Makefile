# Transformers, built step by step. The two commands a learner needs:
#   make lab    install the course into .venv (once) and open JupyterLab on the welcome notebook
#   make test   the same install, then every unit test and every notebook re-run and compared (nbval)
# More: make execute (re-run notebooks in place, as committed), make slides, make bench, make help.

PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(VENV)/bin
PY       := $(BIN)/python
STAMP    := $(VENV)/.installed
PORT     ?= 8888
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
NBVAL    := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 900
# Jupyter finds the kernel and its tools on PATH: put the course's environment first.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: help install lab test test-unit test-notebooks execute slides bench constraints clean

help:
	@sed -n '1,6p' Makefile

# The install runs again only when pyproject.toml or constraints.txt changed (or .venv is gone).
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	@touch $(STAMP)
	@echo "Installed the course into $(VENV)."

install: $(STAMP)

# Jupyter refuses to run as root (containers, some cloud machines) unless told it is on purpose.
ROOT_FLAG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

lab: install
	$(BIN)/jupyter lab --port=$(PORT) $(ROOT_FLAG) notebooks/00_welcome.ipynb

test: install test-unit test-notebooks

test-unit: install
	$(PY) -m pytest -q tests

test-notebooks: install
	$(PY) -m pytest -q $(NBVAL) --durations=0 --durations-min=2 notebooks

# Re-run every notebook from a clean kernel and save it with its outputs, the way they are committed.
# One notebook: make execute NOTEBOOKS=notebooks/01_tensors.ipynb
execute: install
	@for nb in $(NOTEBOOKS); do \
	  echo "executing $$nb"; \
	  $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=900 --ExecutePreprocessor.kernel_name=python3 \
	    --ExecutePreprocessor.record_timing=False $$nb || exit 1; \
	done

slides: install
	@mkdir -p build/slides
	$(BIN)/jupyter nbconvert --to slides --output-dir build/slides $(NOTEBOOKS)
	@echo "Decks are in build/slides/. Open one in a browser; press ? for the keys."

bench: install
	$(PY) -m helpers.bench

# Refresh the pinned versions: a clean venv without constraints, then freeze it.
constraints:
	rm -rf build/constraints-venv
	$(PYTHON) -m venv build/constraints-venv
	build/constraints-venv/bin/pip install --quiet torch==2.13.0 -e .
	( sed -n '1,2p' constraints.txt; build/constraints-venv/bin/pip freeze --exclude-editable | sed 's/+cpu//' ) > constraints.new
	mv constraints.new constraints.txt

clean:
	rm -rf build .pytest_cache
