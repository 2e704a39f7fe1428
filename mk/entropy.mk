# Entropy coding (Sources/EntropyCoding, docs/ENTROPY.md): benchmark and bounded fuzz runs.
.PHONY: bench-entropy fuzz-entropy

ENTROPY_SOURCES := $(wildcard Sources/EntropyCoding/*.swift)
ENTROPY_FUZZ_SECONDS ?= 30
# BENCH_QUICK=1: the synthetic messages 10x shorter (book1 stays whole).
ENTROPY_BENCH_SYMBOLS ?= $(if $(filter 1,$(BENCH_QUICK)),1000000,10000000)
ENTROPY_BENCH_DATA := Benchmarks/bin/entropy-data

Benchmarks/bin/EntropyBench: $(ENTROPY_SOURCES) Benchmarks/entropy/main.swift
	@mkdir -p Benchmarks/bin
	swiftc -O -wmo -module-name EntropyBench $^ -o $@

# The Swift coders and constriction on the same messages and models; writes
# Benchmarks/results/entropy.md (and entropy.json for the report). Needs ../shared/data and
# constriction and numpy (pip-installed when missing).
BENCH_TARGETS += bench-entropy
bench-entropy: Benchmarks/bin/EntropyBench
	@$(PYTHON) -c "import constriction, numpy" 2>/dev/null || $(PYTHON) -m pip install -q constriction numpy
	Benchmarks/bin/EntropyBench ../shared/data/text/calgary/book1 $(ENTROPY_BENCH_DATA) $(ENTROPY_BENCH_SYMBOLS) > /dev/null
	$(PYTHON) Benchmarks/entropy/constriction_bench.py $(ENTROPY_BENCH_DATA) Benchmarks/results/entropy.md

# One libFuzzer binary per decoder family, each run for a bounded time; make fails on a crash.
Fuzz/bin/entropy_%: Fuzz/entropy_%.swift Fuzz/EntropyFuzzSupport.swift $(ENTROPY_SOURCES)
	@mkdir -p Fuzz/bin
	swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name EntropyFuzz $^ -o $@

fuzz-entropy: Fuzz/bin/entropy_rans Fuzz/bin/entropy_range
	@set -o pipefail; for target in $^; do \
	  corpus=Fuzz/bin/corpus-$$(basename $$target); mkdir -p $$corpus; \
	  echo "fuzzing $$target for $(ENTROPY_FUZZ_SECONDS) s"; \
	  $$target -max_total_time=$(ENTROPY_FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 \
	    -artifact_prefix=Fuzz/bin/ $$corpus > Fuzz/bin/$$(basename $$target).log 2>&1 \
	    || { tail -60 Fuzz/bin/$$(basename $$target).log; echo "$$target crashed (input saved in Fuzz/bin/)"; exit 1; }; \
	  grep -E 'stat::number_of_executed_units|Done' Fuzz/bin/$$(basename $$target).log; \
	done

FUZZ_TARGETS += fuzz-entropy
