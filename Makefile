# The two commands: `make run` starts the dashboard and the daemon on the sample data, `make test`
# runs every test.
# Both build .venv from the requirements files first, so a fresh clone needs only Python 3.11.
# `make run` installs the runtime and dev requirements only; `make test`, `lint` and `bench` add
# requirements-dagster.txt (Dagster is large, and only the Dagster adapter and its tests use it).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DAGSTER_STAMP := $(VENV)/.installed-dagster
PORT ?= 8501

.PHONY: run test lint format bench browser clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

# All three files in one pip call, so they resolve together (Dagster pins protobuf 6.x).
$(DAGSTER_STAMP): $(STAMP) requirements-dagster.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt -r requirements-dagster.txt
	touch $(DAGSTER_STAMP)

run: $(STAMP)
	@echo "Assetboard: open http://localhost:$(PORT) (Ctrl+C stops the dashboard and the daemon)"
	$(PY) -m dashboard.serve --port $(PORT)

test: $(DAGSTER_STAMP) browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest

browser:
	./scripts/ensure-chromium.sh

bench: $(DAGSTER_STAMP)
	$(PY) -m bench

lint: $(DAGSTER_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) test-artifacts data/*.duckdb data/*.duckdb.wal data/*.runlock data/*.history.sqlite*
