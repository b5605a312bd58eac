# rnnbook: the two commands of the quick start are `make book` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.rnnbook-installed
CHAPTERS_MD := $(wildcard book/[0-9][0-9]-*.md)
CHAPTERS := $(CHAPTERS_MD:.md=.ipynb)
# One thread count everywhere: reductions then add up in the same order on every run.
export OMP_NUM_THREADS ?= 2
export PYTHONHASHSEED := 0

.PHONY: help install book test unit nbval browser browser-deps screenshot notebooks lint clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

install: $(STAMP)  ## create .venv and install requirements.txt and rnnbook (editable)

book: $(STAMP)  ## build the static site into _build/html (fails on any warning or stored cell error)
	$(BIN)/pytest -q -p no:cacheprovider tests/test_notebooks.py
	$(BIN)/jupyter-book build . -nW --keep-going

unit: $(STAMP)  ## lint and unit tests
	$(BIN)/ruff check src tests scripts
	$(BIN)/pytest --ignore=tests/browser

nbval: $(STAMP)  ## re-execute every chapter and compare with its stored outputs
	$(BIN)/pytest -p no:cacheprovider --nbval --nbval-current-env \
	    --nbval-sanitize-with book/nbval-sanitize.cfg $(CHAPTERS)

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

test: unit nbval browser  ## unit tests, pytest --nbval over every chapter, browser tests of the site

notebooks: $(STAMP)  ## rebuild every chapter .ipynb from its .md and execute it
	$(BIN)/python scripts/execute_notebooks.py $(CHAPTERS_MD)

lint: $(STAMP)  ## ruff and mypy --strict
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/mypy

clean:  ## remove the built site
	rm -rf _build
