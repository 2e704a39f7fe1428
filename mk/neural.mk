# Neural runtime (issue 4): parity goldens and the speed benchmark against PyTorch.
.PHONY: bench-neural golden-neural

# Swift vs PyTorch CPU, same model/input/threads in one run -> Benchmarks/results/neural.md (and
# neural.json for the report). BENCH_QUICK=1: 2 conv runs, 2 decodes of 64 bytes (every row kept).
BENCH_TARGETS += bench-neural
bench-neural:
	$(SWIFT) build -c release --product NeuralBench
	cd Training/parity && $(PYTHON) bench_neural.py --swift ../../.build/release/NeuralBench --out ../../Benchmarks/results/neural.md \
	  $(if $(filter 1,$(BENCH_QUICK)),--conv-runs 2 --lm-steps 64 --lm-runs 2)

# Regenerates Tests/NeuralTests/Golden (needs PyTorch; byte-identical output for a given torch build).
golden-neural:
	cd Training/parity && $(PYTHON) make_golden.py ../../Tests/NeuralTests/Golden

# Bounded libFuzzer run over the safetensors reader (part of `make test` via FUZZ_TARGETS).
FUZZ_TARGETS += fuzz-neural
NEURAL_FUZZ_SECONDS ?= 30
fuzz-neural:
	@mkdir -p Fuzz/bin
	swiftc -O -sanitize=fuzzer,address -parse-as-library -swift-version 6 \
	  Sources/Neural/SafeTensors.swift Sources/Neural/Tensor.swift Fuzz/neural/FuzzSafeTensors.swift -o Fuzz/bin/fuzz-neural
	@mkdir -p Fuzz/bin/corpus-neural
	Fuzz/bin/fuzz-neural -max_total_time=$(NEURAL_FUZZ_SECONDS) -rss_limit_mb=1024 -max_len=4096 Fuzz/bin/corpus-neural Fuzz/neural/corpus
