# WaLLoC (issue 18): training and export of the four models, and the benchmark.
#
# make train-walloc WALLOC_MODEL=walloc-rgb-16x   one model (walloc-rgb-16x, walloc-rgb-4x,
#                       walloc-stereo-5x, walloc-stereo-20x), 4,800 s (80 min) of training wall
#                       clock by default, plus evaluation; resumes from Training/runs/<model>/, so
#                       Ctrl-C and rerunning continues where it stopped. Variables:
#   WALLOC_MODEL=walloc-rgb-16x
#   WALLOC_BUDGET=4800           training seconds (the learning-rate schedule is sized to it; raise it
#                                and rerun to train on: the change is logged)
#   WALLOC_THREADS=1             PyTorch threads (a second thread gains little on 2 shared cores and
#                                collapses when a build runs beside it)
#   WALLOC_CHECKPOINT_SECONDS=120  evaluate + checkpoint interval (SIGINT/SIGTERM also checkpoint)
#   WALLOC_RUN=Training/runs/<model>  the run folder
#   WALLOC_FRESH=1               start afresh instead of resuming
# make export-walloc WALLOC_MODEL=...   writes Training/exports/$(EXPORT_ID)/<model>/ (EXPORT_ID=local
#                       by default; WALLOC_EXPORT_ID is the older name) from the latest checkpoint
#                       (WALLOC_CHECKPOINT=best: the best one); use it with
#                       NEURALCODECS_MODELS=Training/exports/$(EXPORT_ID). REPLACE=1 (or WALLOC_REPLACE=1)
#                       replaces the released Codecs/<model>/ instead.
# make train-walloc SMOKE=1   about 3 minutes for an image model: 20 s budget, 1 thread, checkpoints
#                       every 10 s, in Training/runs/smoke/<model> (fresh each time), exported to
#                       Training/exports/smoke/<model>/ (most of the time: counting the latent tables
#                       over the training data), then the training tests (Training/tests).
WALLOC_MODEL ?= walloc-rgb-16x
ifeq ($(SMOKE),1)
WALLOC_BUDGET ?= 20
WALLOC_CHECKPOINT_SECONDS ?= 10
WALLOC_RUN ?= Training/runs/smoke/$(WALLOC_MODEL)
WALLOC_FRESH ?= 1
endif
WALLOC_BUDGET ?= 4800
WALLOC_THREADS ?= 1
WALLOC_CHECKPOINT_SECONDS ?= 120
WALLOC_RUN ?= Training/runs/$(WALLOC_MODEL)
WALLOC_CHECKPOINT ?= latest
WALLOC_EXPORT_ID ?= $(EXPORT_ID)
WALLOC_REPLACE ?= $(REPLACE)

.PHONY: train-walloc export-walloc bench-walloc bench-walloc-speed bench-deps-walloc

train-walloc:
	$(PYTHON) Training/recipes/walloc.py train --model $(WALLOC_MODEL) --budget $(WALLOC_BUDGET) \
	  --threads $(WALLOC_THREADS) --checkpoint-seconds $(WALLOC_CHECKPOINT_SECONDS) --run-dir $(WALLOC_RUN) \
	  --budget-hint WALLOC_BUDGET $(if $(filter 1,$(WALLOC_FRESH)),--fresh)
ifeq ($(SMOKE),1)
	$(MAKE) --no-print-directory export-walloc SMOKE=1
	SMOKE_EXPORT=Training/exports/$(WALLOC_EXPORT_ID)/$(WALLOC_MODEL) $(MAKE) --no-print-directory test-training
endif

export-walloc:
	$(PYTHON) Training/recipes/walloc.py export --model $(WALLOC_MODEL) --checkpoint $(WALLOC_CHECKPOINT) \
	  --run-dir $(WALLOC_RUN) $(if $(filter 1,$(WALLOC_REPLACE)),--replace,--export-id $(WALLOC_EXPORT_ID))

# The classical peers the benchmark runs beside WaLLoC, from Debian.
BENCH_EXCLUDE += bench-deps-walloc
BENCH_WALLOC_APT := libjpeg-turbo-progs webp libjxl-tools libavif-bin opus-tools lame flac
bench-deps-walloc:
	@$(call apt_install,$(BENCH_WALLOC_APT))
	@$(PYTHON) -c "import numpy, PIL, matplotlib, scipy" 2>/dev/null || $(PYTHON) -m pip install -q numpy pillow matplotlib scipy
	@$(PYTHON) -c "import torch" 2>/dev/null || $(PYTHON) -m pip install -q -r Training/requirements.txt

# Kodak rate-distortion against JPEG/WebP/JPEG XL/AVIF, one-core speeds, latent coding sizes ->
# Benchmarks/results/walloc.md and walloc-rd.png. BENCH_QUICK=1: the first 4 images.
# Then the compressed-domain demo (Benchmarks/walloc_cifar_demo.py: the same CNN on CIFAR-10 pixels
# and on `codec latents`, WALLOC_DEMO_SECONDS of training each, 30 with BENCH_QUICK=1), appended;
# then the stereo models against Opus and MP3 on music/eval (Benchmarks/walloc_audio_bench.py), appended.
# Also walloc.json for `make bench`'s report.
BENCH_TARGETS += bench-walloc
WALLOC_DEMO_SECONDS ?= $(if $(filter 1,$(BENCH_QUICK)),30,150)
bench-walloc: build bench-deps-walloc
	$(PYTHON) Benchmarks/walloc_bench.py
	APPEND_TO=Benchmarks/results/walloc.md $(PYTHON) Benchmarks/walloc_cifar_demo.py --seconds $(WALLOC_DEMO_SECONDS)
	APPEND_TO=Benchmarks/results/walloc.md $(PYTHON) Benchmarks/walloc_audio_bench.py

# Only the one-core speeds of every released WaLLoC model (wall clock and CPU time, medians of
# WALLOC_SPEED_RUNS), written in place of the speed section of Benchmarks/results/walloc.md:
# minutes instead of the full benchmark's hour, for re-measuring speed work. Also walloc-speed.json
# (each model's speeds, both clocks) for `make bench`'s report; run after bench-walloc, whose page
# it updates. BENCH_QUICK=1: 2 runs on the first 4 Kodak images and 3 music/eval clips, every
# model and row kept; the section then goes to .build/bench-quick/walloc-speed.md, not walloc.md.
BENCH_TARGETS += bench-walloc-speed
WALLOC_SPEED_RUNS ?= $(if $(filter 1,$(BENCH_QUICK)),2,5)
bench-walloc-speed: build
	$(PYTHON) Benchmarks/walloc_speed.py --runs $(WALLOC_SPEED_RUNS) --write $(if $(filter 1,$(BENCH_QUICK)),--quick)
