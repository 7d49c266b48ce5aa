# Quick start: `make run` (set up, then process the demo video) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,train,h264]'
	touch $(STAMP)

# apt packages the tests use (mosquitto, Arabic fonts); skipped when already present.
system-deps:
	@bash .ci/system-deps.sh

run: $(STAMP)
	$(BIN)/edge-arasl process examples/demo.mp4

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_classifier.py
	$(BIN)/python benchmarks/bench_pipeline.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
