# GRVQ speech codec (issue 20): training and export of grvq-16k.
#
# make train-grvq       stage 1 (mel + multi-resolution STFT + commitment), GRVQ_BUDGET seconds of
#                       training wall clock (7,200 by default); resumes from Training/runs/grvq-16k/,
#                       so Ctrl-C and rerunning continues where it stopped. Variables:
#   GRVQ_BUDGET=7200     training seconds (the learning-rate schedule is sized to it)
#   GRVQ_THREADS=1       PyTorch threads
#   GRVQ_CHECKPOINT_SECONDS=180
#   GRVQ_RUN=Training/runs/grvq-16k
#   GRVQ_FRESH=1         start afresh instead of resuming
# make export-grvq      Training/exports/$(EXPORT_ID)/grvq-16k/ from the latest checkpoint; REPLACE=1
#                       replaces the released Codecs/grvq-16k/ instead.
# make train-grvq SMOKE=1   a 30 s run in Training/runs/smoke/grvq-16k (fresh each time), exported to
#                       Training/exports/smoke/grvq-16k/ (loading the 2,000 training files at 16 kHz
#                       takes most of it), then the training tests.
ifeq ($(SMOKE),1)
GRVQ_BUDGET ?= 30
GRVQ_CHECKPOINT_SECONDS ?= 15
GRVQ_RUN ?= Training/runs/smoke/grvq-16k
GRVQ_FRESH ?= 1
endif
GRVQ_BUDGET ?= 7200
GRVQ_THREADS ?= 1
GRVQ_CHECKPOINT_SECONDS ?= 180
GRVQ_RUN ?= Training/runs/grvq-16k
GRVQ_CHECKPOINT ?= latest

.PHONY: train-grvq export-grvq

train-grvq:
	$(PYTHON) Training/recipes/grvq.py train --budget $(GRVQ_BUDGET) --threads $(GRVQ_THREADS) \
	  --checkpoint-seconds $(GRVQ_CHECKPOINT_SECONDS) --run-dir $(GRVQ_RUN) --budget-hint GRVQ_BUDGET \
	  $(if $(filter 1,$(GRVQ_FRESH)),--fresh)
ifeq ($(SMOKE),1)
	$(MAKE) --no-print-directory export-grvq SMOKE=1
	SMOKE_EXPORT=Training/exports/$(EXPORT_ID)/grvq-16k $(MAKE) --no-print-directory test-training
endif

export-grvq:
	$(PYTHON) Training/recipes/grvq.py export --checkpoint $(GRVQ_CHECKPOINT) --run-dir $(GRVQ_RUN) \
	  $(if $(filter 1,$(REPLACE)),--replace,--export-id $(EXPORT_ID))

# The benchmark (Benchmarks/grvq_bench.py): grvq-16k at 1, 2 and 3 kbit/s beside Opus 6/8/12,
# Codec2 3200/2400/1600/700C and MP3 (lame) at its lowest rates on librispeech/test-other
# (60 utterances, read in place): STOI, wide-band PESQ, mel distance, bitrate, the index coding's
# saving, one-core real-time factors, peak memory on 1- and 10-minute files, a plot ->
# Benchmarks/results/grvq.md, grvq.png, grvq.json. BENCH_QUICK=1: 4 utterances, 1-minute memory
# file (for a check of the plumbing: do not commit its results). GRVQ_BENCH_OUT=path.md writes elsewhere.
.PHONY: bench-grvq bench-deps-grvq
BENCH_TARGETS += bench-grvq
BENCH_EXCLUDE += bench-deps-grvq
BENCH_GRVQ_APT := opus-tools codec2 lame time
bench-deps-grvq:
	@$(call apt_install,$(BENCH_GRVQ_APT))
	@$(PYTHON) -c "import numpy, scipy, soundfile, matplotlib" 2>/dev/null || $(PYTHON) -m pip install -q numpy scipy soundfile matplotlib
	@$(PYTHON) -c "import pystoi, pesq" 2>/dev/null || $(PYTHON) -m pip install -q pystoi pesq

bench-grvq: build bench-deps-grvq
	$(PYTHON) Benchmarks/grvq_bench.py

# Only the memory rows (1- and 10-minute files, peak RSS of encode and decode): a few minutes.
.PHONY: bench-grvq-memory
BENCH_EXCLUDE += bench-grvq-memory
bench-grvq-memory: build bench-deps-grvq
	$(PYTHON) Benchmarks/grvq_bench.py --memory-only
