# `lossless` (Sources/Lossless, docs/LOSSLESS.md): the benchmark against FLAC, WavPack, WebP and
# JPEG XL, and a bounded fuzz run of its audio cascade and image decoders (part of `make test`).
.PHONY: bench-lossless fuzz-lossless
LOSSLESS_FUZZ_SECONDS ?= 20
LOSSLESS_PEERS := flac wavpack webp libjxl-tools

# Sizes and speeds of every coder on the same files in one run (issue 22's targets, checked in a
# table), every `lossless` file decoded and compared: Benchmarks/results/lossless.md, and
# lossless.json (per set and coder the rate in bits/sample, our encode/decode speed beside each
# peer's) for `make bench`'s report. Needs ../shared/data; installs the peers when root.
# LOSSLESS_BENCH_JOBS files are coded at once (speeds are CPU seconds per process, so a second job
# does not skew them). A full run, one file at a time at load 4-5 on the 2 shared cores: about
# 4 minutes for the audio half and 18 for the images half (estimated from 4 files per set,
# 2026-12-06; cwebp -z 9 is 60-80% of the images' CPU time, wavpack -x6 70-80% of the audio's); the
# page's last table gives each set's time. BENCH_QUICK=1: the first 2 files of each of the four
# sets, every coder and row kept (2.3 minutes at that load); its page goes to
# .build/bench-quick/lossless.md, never over the committed full run (Benchmarks/sidecar.py).
BENCH_TARGETS += bench-lossless
LOSSLESS_BENCH_JOBS ?= 2
bench-lossless: build
	@for tool in flac wavpack cwebp cjxl; do command -v $$tool >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(LOSSLESS_PEERS); \
	  else echo "missing $$tool; run:  sudo apt-get install -y $(LOSSLESS_PEERS)"; exit 1; fi; break; }; done
	@$(PYTHON) -c "import numpy, soundfile, PIL" 2>/dev/null || $(PYTHON) -m pip install -q numpy soundfile pillow
	$(PYTHON) Benchmarks/lossless_bench.py $(CODEC) ../shared/data --jobs $(LOSSLESS_BENCH_JOBS) $(if $(filter 1,$(BENCH_QUICK)),--quick)

Fuzz/bin/fuzz-lossless: Fuzz/lossless/FuzzLossless.swift Sources/Lossless/AudioCascade.swift Sources/Lossless/ImageMixing.swift $(wildcard Sources/EntropyCoding/*.swift)
	@mkdir -p Fuzz/bin
	swiftc -O -sanitize=fuzzer,address -parse-as-library -swift-version 6 -suppress-warnings -module-name EntropyCoding $^ -o $@

fuzz-lossless: Fuzz/bin/fuzz-lossless
	@mkdir -p Fuzz/bin/corpus-lossless
	SWIFT_BACKTRACE=enable=no Fuzz/bin/fuzz-lossless -max_total_time=$(LOSSLESS_FUZZ_SECONDS) -max_len=8192 -rss_limit_mb=1024 \
	  -artifact_prefix=Fuzz/bin/ Fuzz/bin/corpus-lossless 2>&1 | grep -v '^INFO\|^#' | tail -n 20; exit $${PIPESTATUS[0]}

FUZZ_TARGETS += fuzz-lossless
