# Text area: the eiw-m1 byte transformer (Training/recipes/eiw_m1.py) and the text codec benchmark.
#
# make train-eiw-m1     both stages, 6,300 + 5,700 s of training wall clock (about 3.3 h, plus
#                       evaluation); each stage resumes from its latest checkpoint, so Ctrl-C and
#                       rerunning continues where it stopped. Variables:
#   EIW_M1_BUDGET=6300           stage 1's training seconds (its learning-rate schedule is sized to it;
#                                raise it and rerun to train on: the change is logged)
#   EIW_M1_STAGE2_BUDGET=5700    stage 2's
#   EIW_M1_THREADS=2             PyTorch CPU threads
#   EIW_M1_CHECKPOINT_SECONDS=120  evaluate + checkpoint interval (SIGINT/SIGTERM also checkpoint)
#   EIW_M1_RUN=Training/runs/eiw-m1  stage 1's run folder (stage 2: the same with -stage2)
#   EIW_M1_FRESH=1               start both stages afresh instead of resuming
#   EIW_M1_STAGE2_RESTART=1      restart stage 2 from stage 1 when stage 1 trained on since
# make export-eiw-m1    writes Training/exports/$(EXPORT_ID)/eiw-m1/ (EXPORT_ID=local by default)
#                       from stage 2's latest checkpoint (EIW_M1_CHECKPOINT=best: the best one);
#                       use it with NEURALCODECS_MODELS=Training/exports/$(EXPORT_ID). REPLACE=1
#                       replaces the released Codecs/eiw-m1/ instead.
# make train-eiw-m1 SMOKE=1   about 2 minutes: 20 + 20 s budgets, 1 thread, checkpoints every 10 s,
#                       in Training/runs/smoke/ (fresh each time), exported to
#                       Training/exports/smoke/eiw-m1/, then the export test (Training/tests).
ifeq ($(SMOKE),1)
EIW_M1_BUDGET ?= 20
EIW_M1_STAGE2_BUDGET ?= 20
EIW_M1_THREADS ?= 1
EIW_M1_CHECKPOINT_SECONDS ?= 10
EIW_M1_RUN ?= Training/runs/smoke/eiw-m1
EIW_M1_FRESH ?= 1
endif
EIW_M1_BUDGET ?= 6300
EIW_M1_STAGE2_BUDGET ?= 5700
EIW_M1_THREADS ?= 2
EIW_M1_CHECKPOINT_SECONDS ?= 120
EIW_M1_RUN ?= Training/runs/eiw-m1
EIW_M1_CHECKPOINT ?= latest
EIW_M1_TRAIN := $(PYTHON) Training/recipes/eiw_m1.py train --run-dir $(EIW_M1_RUN) --threads $(EIW_M1_THREADS) \
  --checkpoint-seconds $(EIW_M1_CHECKPOINT_SECONDS) $(if $(filter 1,$(EIW_M1_FRESH)),--fresh)

.PHONY: train-eiw-m1 export-eiw-m1

train-eiw-m1:
	$(EIW_M1_TRAIN) --stage 1 --budget $(EIW_M1_BUDGET) --budget-hint EIW_M1_BUDGET
	$(EIW_M1_TRAIN) --stage 2 --budget $(EIW_M1_STAGE2_BUDGET) --lr 6e-4 --budget-hint EIW_M1_STAGE2_BUDGET \
	  $(if $(filter 1,$(EIW_M1_STAGE2_RESTART)),--restart-if-stage1-moved)
ifeq ($(SMOKE),1)
	$(MAKE) --no-print-directory export-eiw-m1 SMOKE=1
	SMOKE_EXPORT=Training/exports/$(EXPORT_ID)/eiw-m1 $(MAKE) --no-print-directory test-training
endif

# Measured results enter the card only when Benchmarks/results/eiw-m1-card.md names the exported
# weights hash (make bench-text writes it for the model it measured).
export-eiw-m1:
	$(PYTHON) Training/recipes/eiw_m1.py export --run-dir $(EIW_M1_RUN) --checkpoint $(EIW_M1_CHECKPOINT) \
	  $(if $(filter 1,$(REPLACE)),--replace,--export-id $(EXPORT_ID)) \
	  $(if $(wildcard Benchmarks/results/eiw-m1-card.md),--results Benchmarks/results/eiw-m1-card.md)

.PHONY: bench-text
# Benchmarks/results/text.md. TEXT_BENCH_MODES / TEXT_BENCH_FILES select (comma-separated),
# TEXT_BENCH_LM_PREFIX=N limits the M1 modes to each file's first N bytes (see the script). Every
# M1 row carries the weights hash it was measured with; NEURALCODECS_MODELS=Training/exports/ID
# measures an export (its rows, and Benchmarks/results/eiw-m1-card.md, then carry its hash).
# Also text.json (this run's rows) for `make bench`'s report. BENCH_QUICK=1: alice29.txt only, the M1
# modes on its first 2,000 bytes (every mode and classical compressor still runs).
ifeq ($(BENCH_QUICK),1)
TEXT_BENCH_FILES ?= alice29.txt
TEXT_BENCH_LM_PREFIX ?= 2000
export TEXT_BENCH_FILES TEXT_BENCH_LM_PREFIX
endif
TEXT_BENCH_APT := gzip bzip2 xz-utils zstd brotli
BENCH_TARGETS += bench-text
bench-text:
	@$(MAKE) --no-print-directory deps APT_PACKAGES="$(TEXT_BENCH_APT)"
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
