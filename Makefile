# Every target installs what it needs into .venv first; nothing else is required but python3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres]'
	touch $(STAMP)

install: $(STAMP)

## demo: record the seed (two journals) into a fresh SQLite ledger and answer its questions
demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash examples/neotherapeutics-2002/demo.sh

## test: the whole default suite (unit, acceptance, property, SQLite and PostgreSQL backends)
test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check ledger projections capledger tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) demo-ledger .pytest_cache .mypy_cache .ruff_cache .hypothesis

## soak: the property suite under the soak profile (>= 100,000 examples per law, SOAK_EXAMPLES
## to change); prints its seed first: `make soak SOAK_SEED=<seed>` replays the same run
.PHONY: soak
soak: $(STAMP)
	@seed=$${SOAK_SEED:-$$($(BIN)/python -c 'import secrets; print(secrets.randbits(64))')}; \
	echo "soak seed: $$seed  (replay: make soak SOAK_SEED=$$seed)"; \
	HYPOTHESIS_PROFILE=soak $(BIN)/python -m pytest tests/property -q -p no:cacheprovider \
		--hypothesis-seed=$$seed --hypothesis-show-statistics $(SOAK_ARGS)

## bench: the benchmark at 100k events (SQLite, and PostgreSQL when reachable); prints a table,
## writes benchmarks/results/100k.json and the plot docs/images/perf-scaling.png
.PHONY: bench bench-full
bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python -m benchmarks.run --size 100k --runs 3 --samples 100
	$(BIN)/python -m benchmarks.plot

## bench-full: the same at 1M events and 10k holders, SQLite (the targets' backend), with one
## cold Beancount load of the same ledger (about an hour in all; run it under nohup)
bench-full: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python -m benchmarks.run --size 1M --backends sqlite --runs 3 --samples 100 \
		--beancount yes --beancount-runs 1
	$(BIN)/python -m benchmarks.plot
