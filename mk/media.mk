# MediaIO: a bounded libFuzzer run over the PNG and audio readers (part of `make test`).
# The fuzz binary is MediaIO's sources plus Fuzz/media, built with swiftc (a SwiftPM target cannot
# take -sanitize=fuzzer). Seeds: our own corpus dir (written to) and ../shared/conformance read in
# place when present (libFuzzer only writes to the first directory).
.PHONY: fuzz-media
FUZZ_TARGETS += fuzz-media
FUZZ_MEDIA_SECONDS ?= 30
FUZZ_MEDIA_BIN := Fuzz/bin/fuzz-media
FUZZ_MEDIA_SEEDS := $(wildcard ../shared/conformance/png/pngsuite ../shared/conformance/png/fuzz-zune ../shared/conformance/audio/wav-hound ../shared/conformance/audio/wav-wavefile/valid)

$(FUZZ_MEDIA_BIN): Fuzz/media/FuzzMedia.swift $(wildcard Sources/MediaIO/*.swift) Sources/CPNG/cpng.c Sources/CPNG/include/cpng.h
	@mkdir -p Fuzz/bin/modules/CPNG
	printf 'module CPNG {\n    header "%s"\n    export *\n}\n' "$(CURDIR)/Sources/CPNG/include/cpng.h" > Fuzz/bin/modules/CPNG/module.modulemap
	clang -O1 -g -fsanitize=fuzzer-no-link,address -I Sources/CPNG/include -c Sources/CPNG/cpng.c -o Fuzz/bin/cpng.o
	swiftc -O -g -sanitize=fuzzer,address -suppress-warnings -parse-as-library -module-name FuzzMedia \
	  -I Fuzz/bin/modules/CPNG -I Sources/CSndFile -I Sources/CSampleRate \
	  Sources/MediaIO/*.swift Fuzz/media/FuzzMedia.swift Fuzz/bin/cpng.o -lpng16 -lsndfile -lsamplerate -o $@

# SWIFT_BACKTRACE=enable=no: on a crash the Swift backtracer would otherwise hang under ASan.
fuzz-media: $(FUZZ_MEDIA_BIN)
	@mkdir -p Fuzz/bin/corpus-media
	set -o pipefail; SWIFT_BACKTRACE=enable=no $(FUZZ_MEDIA_BIN) -max_total_time=$(FUZZ_MEDIA_SECONDS) \
	  -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=Fuzz/bin/ \
	  Fuzz/bin/corpus-media $(FUZZ_MEDIA_SEEDS) 2>&1 | grep -v '^INFO\|^#' | tail -n 20

# MediaIO speed on SampleMedia (decode/encode per file, best of 5), written to
# Benchmarks/results/media.md with the machine and date.
.PHONY: bench-media
MEDIA_BENCH_BIN := Benchmarks/bin/media-bench

$(MEDIA_BENCH_BIN): Benchmarks/media/MediaBench.swift $(wildcard Sources/MediaIO/*.swift) Sources/CPNG/cpng.c Sources/CPNG/include/cpng.h
	@mkdir -p Benchmarks/bin/modules/CPNG
	printf 'module CPNG {\n    header "%s"\n    export *\n}\n' "$(CURDIR)/Sources/CPNG/include/cpng.h" > Benchmarks/bin/modules/CPNG/module.modulemap
	clang -O2 -I Sources/CPNG/include -c Sources/CPNG/cpng.c -o Benchmarks/bin/cpng.o
	swiftc -O -parse-as-library -module-name MediaBench -I Benchmarks/bin/modules/CPNG -I Sources/CSndFile -I Sources/CSampleRate \
	  Sources/MediaIO/*.swift Benchmarks/media/MediaBench.swift Benchmarks/bin/cpng.o -lpng16 -lsndfile -lsamplerate -o $@

# Also media.json for the report (no peer: MediaIO is the only reader measured). Fast: no quick mode.
BENCH_TARGETS += bench-media
bench-media: $(MEDIA_BENCH_BIN)
	@mkdir -p Benchmarks/results Benchmarks/bin
	{ echo "# MediaIO speed on SampleMedia"; echo; \
	  echo "Machine: $$(lscpu | grep 'Model name' | sed 's/Model name: *//'), $$(nproc) cores; $$(date -u +%Y-%m-%d); \`make bench-media\`."; \
	  echo "One thread, best of 5 runs; decoded bytes count 16-bit audio samples as 2 bytes. The machine was shared"; \
	  echo "with other builds while measuring, so times are upper bounds."; echo; \
	  $(MEDIA_BENCH_BIN) SampleMedia Benchmarks/bin/media.jsonl; } > Benchmarks/results/media.md
	$(PYTHON) Benchmarks/sidecar.py media < Benchmarks/bin/media.jsonl
	@cat Benchmarks/results/media.md

# Peak memory (/usr/bin/time -v) and time of `codec encode`/`decode` with store and lossless on a
# 16384x16384 RGBA 16-bit PNG (2 GiB of samples) made by Benchmarks/memory/make_png.py in a
# temporary directory (never committed), written to Benchmarks/results/memory.md with the machine
# and date. Needs about 3 GB free per run (BEFORE=<older codec binary>: about 7 GB). Not part of
# `make test`. MEMORY_BENCH_SIZE=4096 for a quick run (to another file: MEMORY_BENCH_OUT).
.PHONY: bench-memory
# Not part of `make bench`: a resource check needing gigabytes free, answering none of the report's questions.
BENCH_EXCLUDE += bench-memory
MEMORY_BENCH_SIZE ?= 16384
MEMORY_BENCH_OUT ?= Benchmarks/results/memory.md
bench-memory: build
	@mkdir -p $(dir $(MEMORY_BENCH_OUT))
	Benchmarks/memory/bench.sh $(CODEC) $(MEMORY_BENCH_OUT) $(MEMORY_BENCH_SIZE)
