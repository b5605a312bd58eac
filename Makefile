# rnnbook: the two commands of the quick start are `make book` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.rnnbook-installed
TEST_STAMP := $(VENV)/.rnnbook-test-installed
CHAPTERS_MD := $(wildcard book/[0-9][0-9]-*.md)
CHAPTERS := $(CHAPTERS_MD:.md=.ipynb)
# One thread count everywhere: reductions then add up in the same order on every run, and
# no OpenMP thread waits for a core another process holds (a 2-thread kernel on a busy
# 2-core machine trained a small RNN 50 times slower than a 1-thread one).
export OMP_NUM_THREADS ?= 1
export PYTHONHASHSEED := 0

.PHONY: help install book test unit nbval nbval-loaded colab float-paths browser browser-deps screenshot \
	notebooks lint clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# Test-only packages (Triton, about 1 GB, runs the GPU kernel's tests on the CPU through its
# interpreter): installed by the test targets, never by `make book` or Binder.
$(TEST_STAMP): $(STAMP) requirements-test.txt
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	touch $@

install: $(STAMP)  ## create .venv and install requirements.txt and rnnbook (editable)

book: $(STAMP)  ## build the static site into _build/html (fails on any warning or stored cell error)
	$(BIN)/pytest -q -p no:cacheprovider tests/test_notebooks.py
	$(BIN)/jupyter-book build . -nW --keep-going

unit: $(TEST_STAMP)  ## lint and unit tests
	$(BIN)/ruff check src tests scripts
	$(BIN)/pytest --ignore=tests/browser --ignore=tests/colab

NBVAL := $(BIN)/pytest -p no:cacheprovider --nbval --nbval-current-env \
	--nbval-sanitize-with book/nbval-sanitize.cfg $(CHAPTERS)

nbval: $(STAMP)  ## re-execute every chapter and compare with its stored outputs
	$(NBVAL)

# A learner's laptop or a CI runner is rarely quiet: every chapter again while busy
# processes keep each core occupied (the chapters' timing claims must hold there too).
nbval-loaded: $(STAMP)  ## nbval over every chapter while other processes keep the cores busy
	$(BIN)/python scripts/with_load.py -- $(NBVAL)

colab: $(STAMP)  ## run a chapter twice in a fresh kernel without rnnbook, as Colab does
	$(BIN)/pytest -p no:cacheprovider tests/colab

# The same checks on other floating-point paths: PyTorch's non-vectorised kernels, two
# threads (the chapters use one), and the SRU's pure-PyTorch fallback instead of its
# compiled kernel. Stored outputs that depended on rounding would differ here; asserted
# claims must still hold.
float-paths: $(TEST_STAMP)  ## unit tests and nbval on three other float paths
	ATEN_CPU_CAPABILITY=default $(BIN)/pytest -q --ignore=tests/browser --ignore=tests/colab
	ATEN_CPU_CAPABILITY=default $(NBVAL)
	RNNBOOK_NUM_THREADS=2 $(NBVAL)
	RNNBOOK_SRU_BACKEND=torch $(BIN)/pytest -q --ignore=tests/browser --ignore=tests/colab
	RNNBOOK_SRU_BACKEND=torch $(NBVAL)

browser-deps:  ## install Debian's Chromium when missing (needs root and apt-get)
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "no chromium and no root to install it: the browser tests will fail and say so"; fi; }

browser: book browser-deps  ## open every page of the built site in headless Chromium
	$(BIN)/pytest -p no:cacheprovider tests/browser

screenshot: browser  ## refresh the README's screenshot from the browser tests
	cp _build/screenshots/book-01-rnn-crash-course.png .github/screenshot.png

test: unit nbval colab browser  ## unit tests, nbval over every chapter, Colab check, site in a browser

notebooks: $(STAMP)  ## rebuild every chapter .ipynb from its .md and execute it
	$(BIN)/python scripts/execute_notebooks.py $(CHAPTERS_MD)

lint: $(STAMP)  ## ruff and mypy --strict
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/mypy

clean:  ## remove the built site
	rm -rf _build
