# leaktrace: everything is installed into .venv by these targets; nothing is assumed on the machine.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: demo test bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==26.3

# The tests run the Spark engine and PostgreSQL masters too: both extras are installed.
$(STAMP): $(BIN)/python pyproject.toml src/leaktrace/pii/_checks.c src/leaktrace/scan/_extract.c src/leaktrace/ingest/_sql.c src/leaktrace/_column.h
	$(BIN)/pip install --quiet -e '.[dev,spark,postgres]'
	touch $@

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,spark,postgres,bench]'
	touch $@

# The demo prints one report as PDF through Debian's Chromium (installed when missing).
demo: $(STAMP)
	scripts/ensure_chromium.sh
	scripts/ensure_libsodium.sh
	$(BIN)/python -m leaktrace.demo demo-out

test: $(STAMP)
	$(BIN)/ruff check src tests bench
	scripts/ensure_postgres.sh
	scripts/ensure_unar.sh
	scripts/ensure_chromium.sh
	scripts/ensure_libsodium.sh
	$(BIN)/python -m pytest -q

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.synth_bench
	$(BIN)/python -m bench.verify_bench
	$(BIN)/python -m bench.formats_bench
	$(BIN)/python -m bench.report_bench
	$(BIN)/python -m bench.memory_bench
	$(BIN)/python -m bench.trace_code_bench
	$(BIN)/python -m bench.trace_canary_bench
	$(BIN)/python -m bench.trace_insider_bench
	$(BIN)/python -m bench.trace_bench
	rm -f bench/out/registry-ingest.sqlite*
	mkdir -p bench/out
	$(BIN)/python -m bench.registry_ingest_bench --db sqlite:///bench/out/registry-ingest.sqlite
	$(BIN)/python -m bench.registry_ingest_bench --enrolled 100000000
	$(BIN)/python -m bench.registry_enrol_bench --enrolled 10000000
	$(BIN)/python -m bench.check_bench --identifiers 100000000
	$(BIN)/python -m bench.registry_bruteforce --candidates 1000000

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

clean:
	rm -rf $(VENV) demo-out bench/out
