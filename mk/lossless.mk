# `lossless` (Sources/Lossless, docs/LOSSLESS.md): the benchmark against FLAC, WavPack, WebP and
# JPEG XL, and a bounded fuzz run of its audio cascade and image decoders (part of `make test`).
.PHONY: bench-lossless fuzz-lossless
LOSSLESS_FUZZ_SECONDS ?= 20
LOSSLESS_PEERS := flac wavpack webp libjxl-tools

# Sizes and speeds of every coder on the same files in one run (issue 22's targets), written to
# Benchmarks/results/lossless.md. Needs ../shared/data; installs the peers when root.
bench-lossless: build
	@for tool in flac wavpack cwebp cjxl; do command -v $$tool >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(LOSSLESS_PEERS); \
	  else echo "missing $$tool; run:  sudo apt-get install -y $(LOSSLESS_PEERS)"; exit 1; fi; break; }; done
	@$(PYTHON) -c "import numpy, soundfile, PIL" 2>/dev/null || $(PYTHON) -m pip install -q numpy soundfile pillow
	$(PYTHON) Benchmarks/lossless_bench.py $(CODEC) ../shared/data > Benchmarks/results/lossless.md.tmp
	mv Benchmarks/results/lossless.md.tmp Benchmarks/results/lossless.md

Fuzz/bin/fuzz-lossless: Fuzz/lossless/FuzzLossless.swift Sources/Lossless/AudioCascade.swift Sources/Lossless/ImageMixing.swift $(wildcard Sources/EntropyCoding/*.swift)
	@mkdir -p Fuzz/bin
	swiftc -O -sanitize=fuzzer,address -parse-as-library -swift-version 6 -suppress-warnings -module-name EntropyCoding $^ -o $@

fuzz-lossless: Fuzz/bin/fuzz-lossless
	@mkdir -p Fuzz/bin/corpus-lossless
	SWIFT_BACKTRACE=enable=no Fuzz/bin/fuzz-lossless -max_total_time=$(LOSSLESS_FUZZ_SECONDS) -max_len=8192 -rss_limit_mb=1024 \
	  -artifact_prefix=Fuzz/bin/ Fuzz/bin/corpus-lossless 2>&1 | grep -v '^INFO\|^#' | tail -n 20; exit $${PIPESTATUS[0]}

FUZZ_TARGETS += fuzz-lossless
