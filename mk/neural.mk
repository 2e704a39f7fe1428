# Neural runtime (issue 4): parity goldens and the speed benchmark against PyTorch.
.PHONY: bench-neural golden-neural

# Swift vs PyTorch CPU, same model/input/threads in one run -> Benchmarks/results/neural.md.
bench-neural:
	$(SWIFT) build -c release --product NeuralBench
	cd Training/parity && $(PYTHON) bench_neural.py --swift ../../.build/release/NeuralBench --out ../../Benchmarks/results/neural.md

# Regenerates Tests/NeuralTests/Golden (needs PyTorch; byte-identical output for a given torch build).
golden-neural:
	cd Training/parity && $(PYTHON) make_golden.py ../../Tests/NeuralTests/Golden
