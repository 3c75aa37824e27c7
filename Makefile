# The two commands: `make run` starts the dashboard and the daemon on the sample data, `make test`
# runs every test.
# Both build .venv from the requirements files first, so a fresh clone needs only Python 3.11.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test lint format bench browser clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	@echo "Assetboard: open http://localhost:$(PORT) (Ctrl+C stops the dashboard and the daemon)"
	$(PY) -m dashboard.serve --port $(PORT)

test: $(STAMP) browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest

browser:
	./scripts/ensure-chromium.sh

bench: $(STAMP)
	$(PY) -m bench

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) test-artifacts data/*.duckdb data/*.duckdb.wal data/*.runlock data/*.history.sqlite*
