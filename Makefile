# provnews: every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install crawl demo test lint

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres]'
	touch $(STAMP)

install: $(STAMP)

crawl: $(STAMP)  ## the main job: every active site of config/sites.toml into data/provnews.sqlite3
	$(BIN)/provnews crawl

demo: $(STAMP)  ## the main job, offline, against a local replica of provincial sites
	$(BIN)/provnews demo

test: $(STAMP)  ## the test suite (what .ci/run calls)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# mypy reads the modules by their installed names: a view of the folders as they install
	@mkdir -p build/typecheck/provnews
	@for folder in crawler pipelines storage config; do ln -sfn ../../../$$folder build/typecheck/provnews/$$folder; done
	MYPYPATH=build/typecheck $(BIN)/mypy -p provnews
