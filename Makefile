PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := planner reminders missions toolkits gateway personas console mana_planner

.PHONY: install test lint demo personas-demo bench clean fuzz

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
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

demo: install
	$(BIN)/mana-planner demo

personas-demo: install
	$(BIN)/mana-planner personas demo

bench: install
	$(BIN)/python -m bench

# the property tests (marker `property`) with the `fuzz` hypothesis profile: many more examples
fuzz: install
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -m property

clean:
	rm -rf $(VENV) var runs .mypy_cache .pytest_cache .ruff_cache

# Peer comparison (issue 9): pydantic-ai, the OpenAI Agents SDK and LangGraph, installed into a
# separate venv with this project, each run in its own subprocess; writes bench/results/peers.*
PEERS_VENV := .venv-peers
PEERS_BIN := $(PEERS_VENV)/bin

$(PEERS_BIN)/.installed: pyproject.toml bench/peers/requirements.txt
	test -x $(PEERS_BIN)/python || $(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_BIN)/python -m pip install -q --upgrade pip
	$(PEERS_BIN)/python -m pip install -q -r bench/peers/requirements.txt -e .
	touch $@

.PHONY: bench-peers
bench-peers: $(PEERS_BIN)/.installed
	$(PEERS_BIN)/python -m bench.peers
