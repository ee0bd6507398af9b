# The two commands of the README: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
DAYS   ?= 31
PYTEST_ARGS ?=
# two workers, each taking whole modules (module fixtures are built once); slowest modules first
PYTEST_WORKERS ?= 2

.PHONY: install demo test lint clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,demo]"
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

## generate the demo company and run the control pipeline through Airflow, day by day
demo: install
	$(BIN)/ccm demo run --days $(DAYS)

## the whole test suite (unit, DAG integrity, dbt, GX, Airflow, scheduler on PostgreSQL)
test: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadscope --no-loadscope-reorder $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf var dbt/target dbt/logs
