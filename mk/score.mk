# Machine-perceptual scoring (issue 19): `codec score` and its benchmark.
#
# The engines are Debian's libtesseract (eng) and libpocketsphinx (en-us); `make deps` installs them.
# The -dev packages give the headers CTesseract and CPocketSphinx build against; `codec` loads the
# libraries at run time (dlopen at the first engine), so a `codec` without them runs all else.
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
SCORE_AUDIO_SWEEP ?= --codec walloc-stereo-5x
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

# make bench-score-classifiers: the three classifiers' clean accuracy on their test splits (Swift),
# a rate sweep of each with the classical baselines and --fidelity, giving the Spearman
# correlations of the task's drop with PSNR/MS-SSIM (SNR/SI-SDR) and the feature distance, and
# a sweep of every registered codec that fits each task (SCORE_CLASSIFIER_CODECS, task:codec or
# task:codec:grid; the lossless ones are the sanity check: no drop) ->
# Benchmarks/results/score-classifiers.md and score-classifiers.json (sidecar for `make bench`).
# BENCH_QUICK=1: fewer inputs per sweep.
SCORE_MNIST ?= ../shared/data/perception/mnist
SCORE_FSDD ?= ../shared/data/audio/speech/fsdd
SCORE_CIFAR ?= ../shared/data/perception/cifar10
SCORE_IMAGE_CODEC ?= walloc-rgb-16x
SCORE_SWEEP_LIMIT = $(if $(BENCH_QUICK),40,400)
SCORE_SPEECH_LIMIT = $(if $(BENCH_QUICK),20,120)
SCORE_CLASSIFIER_CODECS ?= digits-image:lossless digits-image:store digits-image:pc-mnist digits-image:walloc-rgb-16x \
  digits-image:walloc-rgb-4x cifar10:lossless cifar10:walloc-rgb-4x digits-speech:lossless digits-speech:grvq-16k:kbps=1,2,3 \
  digits-speech:walloc-stereo-5x digits-speech:walloc-stereo-20x cifar10:vqgan-f16:k=1024,256,64,16

.PHONY: bench-score-classifiers
bench-score-classifiers: build
	@$(MAKE) --no-print-directory deps APT_PACKAGES="$(SCORE_BASELINE_APT)"
	@mkdir -p $(SCORE_OUT) Benchmarks/results
	rm -f $(SCORE_OUT)/sweep-digits-*.jsonl $(SCORE_OUT)/sweep-cifar10*.jsonl $(SCORE_OUT)/codec-*.json
	$(CODEC) score --task digits-image $(SCORE_MNIST) --json -q > $(SCORE_OUT)/digits-image.json
	$(CODEC) score --task digits-speech $(SCORE_FSDD) --json -q > $(SCORE_OUT)/digits-speech.json
	$(CODEC) score --task cifar10 $(SCORE_CIFAR) --json -q > $(SCORE_OUT)/cifar10.json
	$(CODEC) score --sweep --task digits-image --baselines --fidelity $(SCORE_MNIST) --limit $(SCORE_SWEEP_LIMIT) \
	  --state $(SCORE_OUT)/sweep-digits-image.jsonl --json -q > $(SCORE_OUT)/sweep-digits-image.json
	$(CODEC) score --sweep --task cifar10 --codec $(SCORE_IMAGE_CODEC) --baselines --fidelity $(SCORE_CIFAR) \
	  --limit $(SCORE_SWEEP_LIMIT) --state $(SCORE_OUT)/sweep-cifar10.jsonl --json -q > $(SCORE_OUT)/sweep-cifar10.json
	$(CODEC) score --sweep --task digits-speech --baselines --fidelity $(SCORE_FSDD) --limit $(SCORE_SPEECH_LIMIT) \
	  --state $(SCORE_OUT)/sweep-digits-speech.jsonl --json -q > $(SCORE_OUT)/sweep-digits-speech.json
	@for spec in $(SCORE_CLASSIFIER_CODECS); do \
	  task=$${spec%%:*}; rest=$${spec#*:}; codec=$${rest%%:*}; grid=$$( [ "$$rest" != "$$codec" ] && echo "-g $${rest#*:}" ); \
	  case $$task in digits-image) data=$(SCORE_MNIST) n=$(SCORE_SWEEP_LIMIT);; cifar10) data=$(SCORE_CIFAR) n=$(SCORE_SWEEP_LIMIT);; \
	    digits-speech) data=$(SCORE_FSDD) n=$(SCORE_SPEECH_LIMIT);; *) echo "SCORE_CLASSIFIER_CODECS: unknown task in $$spec"; exit 2;; esac; \
	  echo "$(CODEC) score --sweep --task $$task --codec $$codec $$grid --fidelity $$data --limit $$n"; \
	  $(CODEC) score --sweep --task $$task --codec $$codec $$grid --fidelity $$data --limit $$n \
	    --state $(SCORE_OUT)/sweep-$$task.jsonl --json -q > $(SCORE_OUT)/codec-$$task-$$codec.json || exit 1; \
	done
	$(PYTHON) Benchmarks/score_classifiers_report.py $(SCORE_OUT) $(if $(BENCH_QUICK),--quick) > Benchmarks/results/score-classifiers.md
	@cat Benchmarks/results/score-classifiers.md

# make train-classifier CLASSIFIER=classifier-mnist|classifier-fsdd|classifier-cifar10: trains one
# perception classifier for CLASSIFIER_BUDGET seconds on one thread (the released ones: 120, 240
# and 420 s) and exports it to Training/exports/$(EXPORT_ID)/ (REPLACE=1: the released Codecs/
# folder). SMOKE=1: 15 s, then the training tests. Rerunning resumes; CLASSIFIER_FRESH=1 restarts.
CLASSIFIER ?= classifier-mnist
CLASSIFIER_BUDGET ?= $(if $(filter 1,$(SMOKE)),15,$(if $(filter classifier-mnist,$(CLASSIFIER)),120,$(if $(filter classifier-fsdd,$(CLASSIFIER)),240,420)))
CLASSIFIER_RUN ?= Training/runs/$(if $(filter 1,$(SMOKE)),smoke/)$(CLASSIFIER)

.PHONY: train-classifier
train-classifier:
	$(PYTHON) Training/recipes/classifiers.py train --model $(CLASSIFIER) --budget $(CLASSIFIER_BUDGET) --run-dir $(CLASSIFIER_RUN) \
	  $(if $(filter 1,$(CLASSIFIER_FRESH) $(SMOKE)),--fresh) $(if $(filter 1,$(REPLACE)),--replace,--export-id $(EXPORT_ID))
ifeq ($(SMOKE),1)
	SMOKE_EXPORT=Training/exports/$(EXPORT_ID)/$(CLASSIFIER) $(MAKE) --no-print-directory test-training
endif
