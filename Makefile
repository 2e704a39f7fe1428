# NeuralCodecs. `make run` is the main job; `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
SWIFT ?= swift
CODEC := .build/release/codec
APT_PACKAGES := pkg-config zlib1g-dev libpng-dev libsndfile1-dev libopenblas-dev libsamplerate0-dev
PYTHON ?= python3

.PHONY: all deps build run test test-swift test-conformance fuzz clean bench

# Each area adds its own targets (bench-*, train-*, export-*, fuzz-*) in mk/<area>.mk and
# appends its bounded fuzz runs to FUZZ_TARGETS, which `make test` runs.
FUZZ_TARGETS :=
# Likewise every benchmark target adds itself to BENCH_TARGETS, which `make bench` runs; a helper
# or by-hand target named bench-* goes to BENCH_EXCLUDE instead.
BENCH_TARGETS :=
BENCH_EXCLUDE :=

# Training (Training/README.md). Every train-<model> target documents its budget and variables in
# its mk file; SMOKE=1 turns it into a run of about 2 minutes (a few steps, a checkpoint, an export
# to Training/exports/smoke/, the training tests). Exports go to Training/exports/$(EXPORT_ID)/<model-id>/
# (use them with NEURALCODECS_MODELS=Training/exports/$(EXPORT_ID)); REPLACE=1 replaces the released
# Codecs/<model-id>/ instead.
ifeq ($(SMOKE),1)
EXPORT_ID ?= smoke
endif
EXPORT_ID ?= local

# A recipe line installing those of the Debian packages $(1) that are missing: with apt-get when
# root, otherwise it prints the exact command and fails. Used as @$(call apt_install,PACKAGES).
apt_install = missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "missing system packages; run:  sudo apt-get install -y$$missing"; exit 1; fi; \
	fi

-include mk/*.mk

all: build

deps:
	@$(call apt_install,$(APT_PACKAGES))

build: deps
	$(SWIFT) build -c release

# The main job: a round trip of every file in SampleMedia/ with every registered codec.
run: build
	$(CODEC) roundtrip --all-codecs $(filter-out %.md,$(wildcard SampleMedia/*))

test: deps test-swift test-conformance test-benchmarks fuzz

# Tests run optimised (the codecs are slow in debug) but with testability, so test targets may
# use @testable import; the conformance run uses the codec binary of this same build.
TEST_FLAGS := -c release -Xswiftc -enable-testing

fuzz: $(FUZZ_TARGETS)

test-swift:
	$(SWIFT) build $(TEST_FLAGS)
	$(SWIFT) test $(TEST_FLAGS)

# Third-party PNG/WAV/FLAC suites (../shared/conformance) through the store codec.
test-conformance: test-swift
	@$(PYTHON) -c "import numpy, png, soundfile" 2>/dev/null || $(PYTHON) -m pip install -q numpy pypng soundfile
	scripts/conformance.sh $(CODEC)

# The benchmark scripts' Python tests (Benchmarks/tests): the sidecar rows the report reads and
# where a quick run's page goes; no data, no coders, a second or so.
.PHONY: test-benchmarks
test-benchmarks:
	@$(PYTHON) -c "import numpy, soundfile, PIL" 2>/dev/null || $(PYTHON) -m pip install -q numpy soundfile pillow
	$(PYTHON) -m unittest discover -s Benchmarks/tests -t Benchmarks

# The training pipeline's Python tests (export to a new id, the card's hash, the schedule). They
# need PyTorch, so the SMOKE=1 training targets run them (or run by hand), never `make test`.
# SMOKE_EXPORT=<folder> also checks that export's card and codec.json against its weights.
.PHONY: test-training
test-training:
	$(PYTHON) -m unittest discover -s Training/tests -t Training -v

# Every benchmark in BENCH_TARGETS, one after another (a failing one is reported and the others still
# run), then Benchmarks/results/README.md from the sidecars (Benchmarks/results/<name>.json) the run
# wrote: one table and one plot per question, only rows measured in this run (Benchmarks/report.py).
# BENCH_QUICK=1: each slow benchmark's quick mode (fewer files, every row kept). Exits 1 if any failed.
# A bench-* rule in an mk file that is in neither list is run too (after the listed ones), so a new
# benchmark is picked up even before its mk file lists it.
BENCH_LOG := .build/bench-run.tsv
BENCH_DECLARED := $(shell sed -n 's/^\(bench-[A-Za-z0-9_-]*\):.*/\1/p' mk/*.mk)
BENCH_ALL := $(BENCH_TARGETS) $(filter-out $(BENCH_TARGETS) $(BENCH_EXCLUDE),$(BENCH_DECLARED))
bench:
	@mkdir -p .build; start=$$(date +%s); failed=""; printf 'target\tseconds\tstatus\n' > $(BENCH_LOG); \
	echo "make bench: $(BENCH_ALL)"; \
	for t in $(BENCH_ALL); do \
	  echo "=== make $$t"; t0=$$(date +%s); \
	  if $(MAKE) --no-print-directory $$t; then s=ok; else s=failed; failed="$$failed $$t"; fi; \
	  printf '%s\t%s\t%s\n' $$t $$(( $$(date +%s) - t0 )) $$s >> $(BENCH_LOG); \
	done; \
	$(PYTHON) Benchmarks/report.py --since $$start --log $(BENCH_LOG) $(if $(filter 1,$(BENCH_QUICK)),--quick) || exit 1; \
	if [ -n "$$failed" ]; then echo "make bench: failed:$$failed"; exit 1; fi

clean:
	rm -rf .build
