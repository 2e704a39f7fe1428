# WaLLoC (issue 18): training and export of the four models, and the benchmark.
#
# make train-walloc WALLOC_MODEL=walloc-rgb-16x   trains (resumes from Training/runs/<model>/) for
#   WALLOC_BUDGET seconds of wall clock (default 4800 = 80 min; the schedule is sized to it) on
#   WALLOC_THREADS PyTorch threads (default 1: a second thread gains little on 2 shared cores and
#   collapses when a build runs beside it). Checkpoints every WALLOC_CHECKPOINT_SECONDS (120).
# make export-walloc WALLOC_MODEL=... [WALLOC_EXPORT_ID=id] [WALLOC_REPLACE=1]
#   writes Codecs/<id>/ (default id: <model>-scratch); the released Codecs/<model> is only
#   overwritten with WALLOC_REPLACE=1.
# Smoke run (about 2 minutes): make train-walloc WALLOC_BUDGET=60 WALLOC_CHECKPOINT_SECONDS=30 && make export-walloc
WALLOC_MODEL ?= walloc-rgb-16x
WALLOC_BUDGET ?= 4800
WALLOC_THREADS ?= 1
WALLOC_CHECKPOINT_SECONDS ?= 120
WALLOC_CHECKPOINT ?= latest
WALLOC_EXPORT_ID ?=
WALLOC_REPLACE ?=

.PHONY: train-walloc export-walloc bench-walloc bench-deps-walloc

train-walloc:
	$(PYTHON) Training/recipes/walloc.py train --model $(WALLOC_MODEL) --budget $(WALLOC_BUDGET) \
	  --threads $(WALLOC_THREADS) --checkpoint-seconds $(WALLOC_CHECKPOINT_SECONDS)

export-walloc:
	$(PYTHON) Training/recipes/walloc.py export --model $(WALLOC_MODEL) --checkpoint $(WALLOC_CHECKPOINT) \
	  $(if $(WALLOC_EXPORT_ID),--id $(WALLOC_EXPORT_ID)) $(if $(WALLOC_REPLACE),--replace)

# The classical peers the benchmark runs beside WaLLoC, from Debian.
BENCH_WALLOC_APT := libjpeg-turbo-progs webp libjxl-tools libavif-bin opus-tools lame flac
bench-deps-walloc:
	@missing=""; for p in $(BENCH_WALLOC_APT); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "missing: sudo apt-get install -y$$missing"; exit 1; fi; fi
	@$(PYTHON) -c "import numpy, PIL, matplotlib" 2>/dev/null || $(PYTHON) -m pip install -q numpy pillow matplotlib

# Kodak rate-distortion against JPEG/WebP/JPEG XL/AVIF, one-core speeds, latent coding sizes ->
# Benchmarks/results/walloc.md and walloc-rd.png. BENCH_QUICK=1: the first 4 images.
bench-walloc: build bench-deps-walloc
	$(PYTHON) Benchmarks/walloc_bench.py
