# Text area: the eiw-m1 byte transformer (Training/recipes/eiw_m1.py) and the text codec benchmark.
EIW_M1_BUDGET ?= 6300
EIW_M1_STAGE2_BUDGET ?= 5700
EIW_M1_THREADS ?= 2

.PHONY: train-eiw-m1 export-eiw-m1

# Trains both stages (each resumes from Training/runs/eiw-m1[-stage2]/latest.pt when present) for
# EIW_M1_BUDGET and EIW_M1_STAGE2_BUDGET seconds of wall clock; each stage's learning-rate
# schedule is sized to its budget.
train-eiw-m1:
	$(PYTHON) Training/recipes/eiw_m1.py train --stage 1 --budget $(EIW_M1_BUDGET) --threads $(EIW_M1_THREADS)
	$(PYTHON) Training/recipes/eiw_m1.py train --stage 2 --budget $(EIW_M1_STAGE2_BUDGET) --lr 6e-4 \
	  --threads $(EIW_M1_THREADS)

# Re-exports Codecs/eiw-m1/ from stage 2's latest checkpoint (EIW_M1_CHECKPOINT=best for the best one).
EIW_M1_CHECKPOINT ?= latest
export-eiw-m1:
	$(PYTHON) Training/recipes/eiw_m1.py export --checkpoint $(EIW_M1_CHECKPOINT) \
	  $(if $(wildcard Benchmarks/results/eiw-m1-card.md),--results Benchmarks/results/eiw-m1-card.md)

.PHONY: bench-text
# Benchmarks/results/text.md. TEXT_BENCH_MODES / TEXT_BENCH_FILES select (comma-separated),
# TEXT_BENCH_LM_PREFIX=N limits the M1 modes to each file's first N bytes (see the script).
bench-text:
	$(SWIFT) build -c release --product TextBench
	$(PYTHON) Benchmarks/text_bench.py

# Bounded libFuzzer run over EntropyCoding's binary arithmetic coder (part of `make test`).
.PHONY: fuzz-text
FUZZ_TARGETS += fuzz-text
TEXT_FUZZ_SECONDS ?= 20
Fuzz/bin/fuzz-binary-arithmetic-coder: Fuzz/text/FuzzBinaryArithmeticCoder.swift Sources/EntropyCoding/BinaryArithmeticCoder.swift
	@mkdir -p Fuzz/bin
	swiftc -O -sanitize=fuzzer,address -parse-as-library -swift-version 6 -module-name BinaryCoderFuzz $^ -o $@

fuzz-text: Fuzz/bin/fuzz-binary-arithmetic-coder
	@mkdir -p Fuzz/bin/corpus-binary-arithmetic-coder
	Fuzz/bin/fuzz-binary-arithmetic-coder -max_total_time=$(TEXT_FUZZ_SECONDS) -max_len=4096 -rss_limit_mb=1024 \
	  -artifact_prefix=Fuzz/bin/ Fuzz/bin/corpus-binary-arithmetic-coder
