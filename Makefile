PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := planner reminders missions $(wildcard toolkits) $(wildcard gateway)

.PHONY: install test lint demo bench clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/.installed

lint: install
	$(BIN)/ruff check $(PACKAGES) tests bench
	$(BIN)/ruff format --check $(PACKAGES) tests bench
	$(BIN)/mypy $(PACKAGES)

test: lint
	$(BIN)/pytest

demo: install
	$(BIN)/mana-planner demo

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var runs .mypy_cache .pytest_cache .ruff_cache
