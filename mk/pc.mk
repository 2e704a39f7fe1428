# Probabilistic-circuit codec (issue 7): training, benchmark. See docs/CIRCUITS.md.
.PHONY: train-pc-mnist export-pc-mnist bench-circuits
#
# make train-pc-mnist   learned in Swift by pc-tool (no PyTorch), in two stages of EM; the budget
#                       is epochs, not seconds: the released recipe took 1,803 + 887 s (45 min) on
#                       the shared 2-core machine, plus building pc-tool (release) when it is not
#                       built. Then exports the run (export-pc-mnist). Variables:
#   PC_STAGE1_ARGS    stage 1's pc-tool arguments (default: the released recipe below)
#   PC_STAGE2_ARGS    stage 2's
#   PC_RUN=Training/runs/pc-mnist   the run folder (stage1/, stage2/: training-log.csv, the best
#                     model so far as checkpoint.safetensors after every improving epoch, model.safetensors)
#   PC_FRESH=1        redo both stages. Otherwise a stage whose model.safetensors exists and was
#                     made with the same arguments is skipped, so after an interrupt (Ctrl-C)
#                     rerunning the target continues at the unfinished stage; stage 2 is redone
#                     when stage 1 is newer than it.
# make export-pc-mnist  writes Training/exports/$(EXPORT_ID)/pc-mnist/ (EXPORT_ID=local by default):
#                     model.safetensors, codec.json, training-log.csv and a MODEL_CARD.md generated
#                     from the run; use it with NEURALCODECS_MODELS=Training/exports/$(EXPORT_ID).
#                     REPLACE=1 replaces the released Codecs/pc-mnist/ instead.
# make train-pc-mnist SMOKE=1   about 25 s once pc-tool is built: M = 4, one epoch of each kind
#                     on 500 images, in Training/runs/smoke/pc-mnist (fresh each time), exported to
#                     Training/exports/smoke/pc-mnist/, then the training tests (need PyTorch).

PC_TOOL := .build/release/pc-tool
ifeq ($(SMOKE),1)
PC_RUN ?= Training/runs/smoke/pc-mnist
PC_STAGE1_ARGS ?= --states 4 --shift 0 --mini-epochs 1 --full-epochs 1 --train-count 500
PC_STAGE2_ARGS ?= --shift 0 --mini-epochs 0 --full-epochs 1 --train-count 600
PC_FRESH ?= 1
endif
PC_RUN ?= Training/runs/pc-mnist
# The released recipe (Codecs/pc-mnist/MODEL_CARD.md), in two stages:
# 1. structure + mini-batch EM + full-batch EM on images 0-6999, validation 7000-7999;
# 2. full-batch EM continued on images 0-7499, validation 7500-7999.
PC_STAGE1_ARGS ?= --states 32 --shift 1 --mini-epochs 3 --full-epochs 6 --train-count 7000
PC_STAGE2_ARGS ?= --shift 1 --mini-epochs 0 --full-epochs 6 --train-count 7500

$(PC_TOOL): $(wildcard Sources/Neural/*.swift Sources/CodecKit/*.swift Sources/Circuits/*.swift Sources/EntropyCoding/*.swift Sources/PCCodec/*.swift Sources/pc-tool/*.swift)
	$(SWIFT) build -c release --product pc-tool

# A stage is skipped when its model exists, was made with the same arguments (args.txt) and, for
# stage 2, is newer than stage 1's.
train-pc-mnist: $(PC_TOOL)
	@set -e; run=$(PC_RUN); \
	$(if $(filter 1,$(PC_FRESH)),rm -rf $$run/stage1 $$run/stage2;) \
	a1='$(PC_STAGE1_ARGS)'; a2='--init '$$run'/stage1/model.safetensors $(PC_STAGE2_ARGS)'; \
	if [ -f $$run/stage1/model.safetensors ] && [ "$$(cat $$run/stage1/args.txt 2>/dev/null)" = "$$a1" ]; then \
	  echo "stage 1 already done ($$run/stage1/model.safetensors, same arguments): skipped (PC_FRESH=1 redoes it)"; \
	else rm -f $$run/stage1/args.txt; echo "$(PC_TOOL) train --run $$run/stage1 $$a1"; \
	  $(PC_TOOL) train --run $$run/stage1 $$a1 && echo "$$a1" > $$run/stage1/args.txt; fi; \
	if [ -f $$run/stage2/model.safetensors ] && [ "$$(cat $$run/stage2/args.txt 2>/dev/null)" = "$$a2" ] \
	   && [ $$run/stage2/model.safetensors -nt $$run/stage1/model.safetensors ]; then \
	  echo "stage 2 already done ($$run/stage2/model.safetensors, same arguments, newer than stage 1): skipped"; \
	else \
	  if [ -f $$run/stage2/model.safetensors ]; then echo "stage 1 or the arguments changed since stage 2: redoing stage 2"; fi; \
	  rm -f $$run/stage2/args.txt; echo "$(PC_TOOL) train --run $$run/stage2 $$a2"; \
	  $(PC_TOOL) train --run $$run/stage2 $$a2 && echo "$$a2" > $$run/stage2/args.txt; fi
	$(MAKE) --no-print-directory export-pc-mnist
ifeq ($(SMOKE),1)
	SMOKE_EXPORT=Training/exports/$(EXPORT_ID)/pc-mnist $(MAKE) --no-print-directory test-training
endif

export-pc-mnist:
	$(PYTHON) Training/recipes/pc_mnist.py export --run $(PC_RUN) \
	  $(if $(filter 1,$(REPLACE)),--replace,--export-id $(EXPORT_ID)) \
	  --stage1-args '$(PC_STAGE1_ARGS)' --stage2-args '$(PC_STAGE2_ARGS)' \
	  $(if $(wildcard Benchmarks/results/circuits.md),--results Benchmarks/results/circuits.md)

# bits/dim and speed on the test split (8000-9999) beside PNG, WebP, JPEG XL and xz, marked with
# the weights hash measured (export-pc-mnist puts the results in a card only for that hash).
# PC_MODELS=Training/exports/ID measures an export instead of Codecs/pc-mnist.
# Also circuits.json for `make bench`'s report. BENCH_QUICK=1: the classical coders on the first 200
# test images (one process per image is their slow part); pc-tool's own rows stay on all 2000.
PC_MODELS ?= Codecs
BENCH_TARGETS += bench-circuits
bench-circuits: $(PC_TOOL)
	@mkdir -p Benchmarks/results Benchmarks/bin
	@set -e; { echo "# Probabilistic-circuit codec (pc-mnist) on MNIST t10k images 8000-9999"; echo; \
	  echo "Machine: $$(lscpu | grep 'Model name' | sed 's/Model name: *//'), $$(nproc) cores; date: $$(date -u '+%Y-%m-%d %H:%M UTC'); load average before the run: $$(cut -d' ' -f1-3 /proc/loadavg) (speeds are shared-machine figures)."; \
	  echo "Generated by \`make bench-circuits\`. Actual file bits: every figure is bytes on disk x 8 / (2000 x 784)."; \
	  echo "Model: $(PC_MODELS)/pc-mnist, weights FNV-1a 64 \`$$(cd Training && $(PYTHON) -c 'import sys; from neuralcodecs.export import weights_facts; print(weights_facts(sys.argv[1])["fnv1a64"])' ../$(PC_MODELS)/pc-mnist/model.safetensors)\`."; echo; \
	  $(PC_TOOL) bench --models $(PC_MODELS) --json Benchmarks/bin/pc-bench.jsonl; echo; \
	  PC_BENCH_JSONL=Benchmarks/bin/pc-bench.jsonl $(if $(filter 1,$(BENCH_QUICK)),PC_BASELINE_IMAGES=200) \
	    $(PYTHON) Benchmarks/pc_baselines.py; echo; \
	  echo "## Training ($(PC_MODELS)/pc-mnist/training-log.csv)"; echo; \
	  head -1 $(PC_MODELS)/pc-mnist/training-log.csv | sed 's/^/| /; s/,/ | /g; s/$$/ |/'; \
	  head -1 $(PC_MODELS)/pc-mnist/training-log.csv | sed 's/[^,]*/---/g; s/^/|/; s/,/|/g; s/$$/|/'; \
	  tail -n +2 $(PC_MODELS)/pc-mnist/training-log.csv | sed 's/^/| /; s/,/ | /g; s/$$/ |/'; \
	} > Benchmarks/results/circuits.md.tmp && mv Benchmarks/results/circuits.md.tmp Benchmarks/results/circuits.md
	@cat Benchmarks/results/circuits.md

# Bounded libFuzzer run of the pc-mnist stream coder (SpreadCompactRANS64) on hostile bytes;
# make fails on a crash.
PC_FUZZ_SECONDS ?= 30
Fuzz/bin/pc_spread_rans: Fuzz/pc_spread_rans.swift Fuzz/EntropyFuzzSupport.swift $(wildcard Sources/EntropyCoding/*.swift)
	@mkdir -p Fuzz/bin
	swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name PCFuzz $^ -o $@

.PHONY: fuzz-pc
fuzz-pc: Fuzz/bin/pc_spread_rans
	@set -o pipefail; corpus=Fuzz/bin/corpus-pc_spread_rans; mkdir -p $$corpus; \
	  echo "fuzzing $< for $(PC_FUZZ_SECONDS) s"; \
	  $< -max_total_time=$(PC_FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 \
	    -artifact_prefix=Fuzz/bin/ $$corpus > Fuzz/bin/pc_spread_rans.log 2>&1 \
	    || { tail -60 Fuzz/bin/pc_spread_rans.log; echo "$< crashed (input saved in Fuzz/bin/)"; exit 1; }; \
	  grep -E 'stat::number_of_executed_units|Done' Fuzz/bin/pc_spread_rans.log

FUZZ_TARGETS += fuzz-pc
