# The two commands of the README: `make run` (the workflow on the bundled wine data, then the
# HTML report) and `make test`. Each creates .venv and installs sensiflow into it when needed.
PYTHON ?= python3
VENV ?= .venv
CORES ?= 8
BIN := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)

.PHONY: run report test lint benchmark clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed
	snakemake --cores $(CORES)
	snakemake --report results/report.html

report: $(VENV)/.installed
	snakemake --report results/report.html

test: $(VENV)/.installed
	pytest

benchmark: $(VENV)/.installed
	python benchmarks/bench_sobol.py $(ARGS)

lint: $(VENV)/.installed
	ruff check src tests benchmarks
	ruff format --check src tests benchmarks
	snakemake --lint

clean:
	rm -rf results .snakemake
