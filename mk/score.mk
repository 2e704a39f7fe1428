# Machine-perceptual scoring (issue 19): `codec score` and its benchmark.
#
# The engines are Debian's libtesseract (eng) and libpocketsphinx (en-us); `make deps` installs them.
# make bench-score: tesseract's clean CER on the 20 document pages, pocketsphinx's clean WER on
#   the 60 LibriSpeech test-other clips, and a timed rate sweep of SCORE_CODEC over the pages with
#   the classical baselines -> Benchmarks/results/score.md. BENCH_QUICK=1: 4 pages, 10 clips, a
#   2-page sweep.
APT_PACKAGES += libtesseract-dev tesseract-ocr-eng libpocketsphinx-dev pocketsphinx-en-us
SCORE_BASELINE_APT := libjpeg-turbo-progs webp libjxl-tools libavif-bin opus-tools lame codec2
SCORE_DOCUMENTS ?= ../shared/data/images/documents
SCORE_SPEECH ?= ../shared/data/audio/speech/librispeech/test-other
SCORE_CODEC ?= lossless
SCORE_OUT := .build/score-bench

.PHONY: bench-score
bench-score: build
	@$(MAKE) --no-print-directory deps APT_PACKAGES="$(SCORE_BASELINE_APT)"
	@mkdir -p $(SCORE_OUT) Benchmarks/results
	rm -f $(SCORE_OUT)/*.jsonl
	$(CODEC) score --task ocr $(SCORE_DOCUMENTS) --json -q $(if $(BENCH_QUICK),--limit 4) > $(SCORE_OUT)/ocr.json
	$(CODEC) score --task asr $(SCORE_SPEECH) --json -q $(if $(BENCH_QUICK),--limit 10) > $(SCORE_OUT)/asr.json
	$(CODEC) score --sweep --task ocr --codec $(SCORE_CODEC) --baselines $(SCORE_DOCUMENTS) --json \
	  --state $(SCORE_OUT)/sweep-ocr.jsonl $(if $(BENCH_QUICK),--limit 2) > $(SCORE_OUT)/sweep-ocr.json
	$(PYTHON) Benchmarks/score_report.py $(SCORE_OUT) $(if $(BENCH_QUICK),--quick) > Benchmarks/results/score.md
	@cat Benchmarks/results/score.md
