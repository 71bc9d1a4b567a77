# Two commands do all set-up on a fresh machine:
#   make demo   create .venv, install the package with its extras from the lock, run the main job
#   make test   the same set-up, then every check and every notebook test
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Named by what the install depends on, by content (nbdev_export rewrites pyproject.toml unchanged, so a date would not do).
STAMP  := $(VENV)/.installed-$(shell cat settings.ini setup.py pyproject.toml constraints.txt tools/install.py 2>/dev/null | md5sum | cut -c1-12)
LIB    := softmax_scratch
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PYTHONHASHSEED := 0
# Keras/TensorFlow: quiet logs, deterministic CPU kernels.
export TF_CPP_MIN_LOG_LEVEL := 2
export TF_ENABLE_ONEDNN_OPTS := 0

.PHONY: setup demo test tests check-export check-clean check-readme check-dist check-lines check-nbdev readme notebooks docs \
        docs-test screenshots bench bench-memmap test-wheel test-floors clean

# Re-run only when what the install depends on changed (a stamp, not a reinstall). tools/install.py installs with uv
# (half pip's time), reading pip's configuration, and falls back to pip.
$(STAMP):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	-$(BIN)/python -m pip install -q -c constraints.txt uv  # where it cannot be installed, tools/install.py uses pip
	$(BIN)/python tools/install.py
	@rm -f $(VENV)/.installed*; touch $@

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/softmax-scratch compare

# The quick checks first (the docs build reads what they check), then the pytest files beside the docs build (two
# notebooks at a time), then the browser checks of the built site; each prints its output when it ends. The pytest
# files wait on child processes much of the time, so they fill what the build leaves idle; every library thread pool
# gets one core (OMP_NUM_THREADS=1; a notebook or test that sets threads itself still does), since spinning pools that
# each take both cores run everything several times slower. nbdev's own doc processing of every notebook
# (check-nbdev, minutes) is a target of its own.
test: $(STAMP)
	@$(MAKE) --no-print-directory check-export check-clean check-readme check-dist check-lines
	@OMP_NUM_THREADS=1 $(MAKE) --no-print-directory -j2 --output-sync=target tests docs-test

# The library is generated from the notebooks: exporting again must change nothing.
check-export: $(STAMP)
	@before=$$(find $(LIB) -name '*.py' -type f | sort | xargs md5sum); \
	$(BIN)/nbdev_export; \
	after=$$(find $(LIB) -name '*.py' -type f | sort | xargs md5sum); \
	if [ "$$before" != "$$after" ]; then \
	  echo "nbdev_export changed $(LIB)/: the notebooks and the library disagree; commit the export."; \
	  diff <(echo "$$before") <(echo "$$after") || true; exit 1; fi; \
	echo "check-export: $(LIB)/ matches the notebooks"

# Notebooks are committed clean: cleaning again must change nothing.
check-clean: $(STAMP)
	@before=$$(find nbs -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort | xargs md5sum); \
	$(BIN)/nbdev_clean; \
	after=$$(find nbs -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort | xargs md5sum); \
	if [ "$$before" != "$$after" ]; then \
	  echo "nbdev_clean changed notebooks under nbs/: commit the cleaned notebooks."; \
	  diff <(echo "$$before") <(echo "$$after") || true; exit 1; fi; \
	echo "check-clean: notebooks are clean"

# README.md is generated from nbs/index.ipynb (offline: Quarto is not installable here).
readme: $(STAMP)
	$(BIN)/python tools/readme.py

check-readme: $(STAMP)
	$(BIN)/python tools/readme.py --check

# The sdist, and the wheel built from it, as `python -m build` makes them in a clean copy of the checkout; pip installs
# the sdist too (tests/test_dist.py). Offline, seconds: this venv's setuptools (--no-isolation). The wheel stays in dist/.
check-dist: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_dist.py

# Lines of at most 120 characters in the notebooks' code (ruff.toml) and in the library, whose one exception is the
# `__all__` line nbdev writes (it wraps at 120 before its 10-character prefix); and the shape of the house: imports
# pointing down, no cycle, no private name across modules, modules ≤ 400 lines, functions ≤ 40 (tests/test_shape.py).
check-lines: $(STAMP)
	$(BIN)/ruff check nbs
	$(BIN)/python -m pytest -q tests/test_shape.py

# nbdev's own doc processing of every notebook, what nbdev_docs and nbdev_readme run before Quarto (tests/test_nbdev.py):
# minutes (it runs every cell with an import), so not part of `make test`; run it after changing a notebook's imports.
check-nbdev: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_nbdev.py

# Every notebook is a test file: nbdev_test runs them all (cells flagged `#| slow` are skipped). `make test` does not
# call it: the docs build below runs every cell of every notebook the same way and fails on the first error, so
# running nbdev_test as well would execute each notebook twice.
notebooks: $(STAMP)
	$(BIN)/nbdev_test --n_workers 2 --timing
	@echo "notebooks: $$(ls nbs/*.ipynb | wc -l) passed, 0 failed"

# The long case lists (hostile inputs, the command line, checkpoints, properties) that the notebooks summarise.
tests: $(STAMP)
	$(BIN)/python -m pytest tests -q --ignore=tests/test_docs.py --ignore=tests/test_dist.py --ignore=tests/test_nbdev.py \
	  --ignore=tests/test_shape.py --ignore=tests/test_estimator_optimum.py

# SoftmaxRegression against scikit-learn's optimum to 1e-6: iris, wine, breast cancer, digits, raw and standardised,
# C in {1e-3, 1, 1e3} (tests/test_estimator_optimum.py; minutes, so not in `make test`).
test-parity: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_estimator_optimum.py

# The docs site in _docs/, offline: the notebooks executed (they are committed without outputs), processed by
# nbdev and rendered by smalldocs, or by Quarto where it is installed (tools/docs.py). Rebuilt only on a change.
DOCS_STAMP := _docs/.built
$(DOCS_STAMP): $(STAMP) tools/docs.py tools/cdn.py tools/search.py nbs/styles.css settings.ini $(shell find nbs $(LIB) -type f -not -path '*/.ipynb_checkpoints/*' -not -name '*.pyc')
	$(BIN)/python tools/docs.py
	@echo "notebooks: $$(ls nbs/*.ipynb | wc -l) passed, 0 failed (every cell run by the docs build)"
	@touch $@

docs: $(DOCS_STAMP)

# Every page of the site in headless Chromium (Debian's; installed here when missing, as root): math typeset,
# plots loaded, signatures, links and sidebar, no tracebacks, every request leaving 127.0.0.1 blocked, layout at 1280 and 390 px,
# the reference complete (tests/test_docs.py).
docs-test: $(STAMP) $(DOCS_STAMP)
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	$(BIN)/python -m pytest tests/test_docs.py -q

# The Learn pages' content against the layout alone (height ≤ 20 000 px, code within the column at 1280): seconds
# once the site is built, for editing a Learn page; `make test` runs it with the other browser checks.
docs-content: $(STAMP) $(DOCS_STAMP)
	$(BIN)/python -m pytest tests/test_docs.py -q -k learn_page_fits

# The same checks, and a screenshot of every page at 1280 and 390 px in _docs/_screenshots/ (to look at a layout).
screenshots: $(STAMP) $(DOCS_STAMP)
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	SCREENSHOTS=1 $(BIN)/python -m pytest tests/test_docs.py -q

# The benchmark page's recorded run (minutes; run it on a quiet machine, then commit nbs/bench/). The peers' run waits
# up to 5 minutes for the load the tables before it leave to settle (07c records the load it started at).
bench: $(STAMP)
	@mkdir -p nbs/bench
	$(BIN)/softmax-scratch bench --json nbs/bench/bench.json --growth nbs/bench/growth.json --optimum nbs/bench/optimum.json \
	  --peers nbs/bench/peers.json --quiet-for 300

# One SGD epoch over a 10^7 x 100 float32 .npy pair (4 GB, written to a temporary folder under /tmp and removed), from
# its memory maps and from memory, each in a fresh process: peak RSS, seconds per row, the ratio (issue 28; minutes,
# 4 GB of disk and 6 GB of memory for the run from memory). tools/bench_memmap.py --help for a smaller file.
bench-memmap: $(STAMP)
	$(BIN)/python tools/bench_memmap.py

# The wheel from check-dist in a fresh venv with its requirements and no extras (the plain `pip install`), and README.md's
# Python code run there, outside the checkout (tests/readme_code.py). Minutes: the requirements come from the registry.
WHEEL_VENV := .cache/wheel-venv
test-wheel: check-dist
	@start=$$SECONDS; rm -rf $(WHEEL_VENV); $(PYTHON) -m venv $(WHEEL_VENV); \
	$(WHEEL_VENV)/bin/python -m pip install -q -c constraints.txt dist/*.whl; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; $(BIN)/python tests/readme_code.py > $$tmp/readme.py; \
	echo "test-wheel: installed in $$((SECONDS - start)) s; running README.md's code in $$tmp"; \
	(cd $$tmp && env -u PYTHONPATH MPLBACKEND=Agg $(CURDIR)/$(WHEEL_VENV)/bin/python readme.py); \
	echo "test-wheel: passed in $$((SECONDS - start)) s"

# settings.ini's lower bounds, each installed exactly (tests/floors.py), in a fresh venv with the wheel and no extras;
# then the estimator's tests (scikit-learn's estimator checks), the shuffled-epoch training tests and a smoke run that
# reaches tqdm and matplotlib. Minutes.
FLOORS_VENV := .cache/floors-venv
test-floors: check-dist
	@start=$$SECONDS; rm -rf $(FLOORS_VENV); $(PYTHON) -m venv $(FLOORS_VENV); \
	pins="$$($(BIN)/python tests/floors.py)"; echo "test-floors: installing $$pins"; \
	$(FLOORS_VENV)/bin/python -m pip install -q $$pins $$(grep -E '^pytest==' constraints.txt) dist/*.whl; \
	echo "test-floors: installed in $$((SECONDS - start)) s"; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; cd $$tmp; \
	env -u PYTHONPATH $(CURDIR)/$(FLOORS_VENV)/bin/python $(CURDIR)/tests/floors.py --smoke; \
	env -u PYTHONPATH $(CURDIR)/$(FLOORS_VENV)/bin/python -m pytest -q -p no:cacheprovider \
	  $(CURDIR)/tests/test_estimator.py $(CURDIR)/tests/test_shuffle.py; \
	echo "test-floors: passed in $$((SECONDS - start)) s"

clean:
	rm -rf $(VENV) _docs _proc build dist *.egg-info
