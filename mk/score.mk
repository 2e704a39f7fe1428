# Machine-perceptual scoring (issue 19): `codec score` and its benchmark.
#
# The engines are Debian's libtesseract (eng) and libpocketsphinx (en-us); `make deps` installs them.
# make bench-score: tesseract's clean CER on the 20 document pages, pocketsphinx's clean WER on
#   the 60 LibriSpeech test-other clips, and three timed rate sweeps -> Benchmarks/results/score.md
#   (and score.json for `make bench`'s report):
#   - SCORE_CODEC alone over the pages (the issue's "sweep of one codec" time target),
#   - the same sweep with the classical image baselines (resuming from the first: the original's
#     and SCORE_CODEC's measurements are reused, so only the baselines' time is added),
#   - SCORE_AUDIO_SWEEP over the clips: an audio codec when one is registered, otherwise the Opus
#     baseline alone (the audio half of the time target).
#   The timed sweeps also record their CPU time (/usr/bin/time), which the shared machine's load
#   does not inflate as it does the wall clock.
#   BENCH_QUICK=1: 4 pages and 10 clips for the clean scores, 2 pages and 3 clips in the sweeps.
APT_PACKAGES += libtesseract-dev tesseract-ocr-eng libpocketsphinx-dev pocketsphinx-en-us
SCORE_BASELINE_APT := libjpeg-turbo-progs webp libjxl-tools libavif-bin opus-tools lame codec2 time
SCORE_DOCUMENTS ?= ../shared/data/images/documents
SCORE_SPEECH ?= ../shared/data/audio/speech/librispeech/test-other
SCORE_CODEC ?= walloc-rgb-16x
SCORE_AUDIO_SWEEP ?= --baseline opus
SCORE_OUT := .build/score-bench
SCORE_QUICK := $(filter 1,$(BENCH_QUICK))

.PHONY: bench-score
BENCH_TARGETS += bench-score
bench-score: build
	@$(MAKE) --no-print-directory deps APT_PACKAGES="$(SCORE_BASELINE_APT)"
	@mkdir -p $(SCORE_OUT) Benchmarks/results
	rm -f $(SCORE_OUT)/*.jsonl $(SCORE_OUT)/*.json
	$(CODEC) score --task ocr $(SCORE_DOCUMENTS) --json -q $(if $(SCORE_QUICK),--limit 4) > $(SCORE_OUT)/ocr.json
	$(CODEC) score --task asr $(SCORE_SPEECH) --json -q $(if $(SCORE_QUICK),--limit 10) > $(SCORE_OUT)/asr.json
	/usr/bin/time -f '%e %U %S' -o $(SCORE_OUT)/sweep-one-ocr.time \
	  $(CODEC) score --sweep --task ocr --codec $(SCORE_CODEC) $(SCORE_DOCUMENTS) --json \
	  --state $(SCORE_OUT)/sweep-ocr.jsonl $(if $(SCORE_QUICK),--limit 2) > $(SCORE_OUT)/sweep-one-ocr.json
	$(CODEC) score --sweep --task ocr --codec $(SCORE_CODEC) --baselines $(SCORE_DOCUMENTS) --json \
	  --state $(SCORE_OUT)/sweep-ocr.jsonl $(if $(SCORE_QUICK),--limit 2) > $(SCORE_OUT)/sweep-ocr.json
	/usr/bin/time -f '%e %U %S' -o $(SCORE_OUT)/sweep-asr.time \
	  $(CODEC) score --sweep --task asr $(SCORE_AUDIO_SWEEP) $(SCORE_SPEECH) --json \
	  --state $(SCORE_OUT)/sweep-asr.jsonl $(if $(SCORE_QUICK),--limit 3) > $(SCORE_OUT)/sweep-asr.json
	$(PYTHON) Benchmarks/score_report.py $(SCORE_OUT) $(if $(SCORE_QUICK),--quick) > Benchmarks/results/score.md
	@cat Benchmarks/results/score.md
