# VQGAN extreme image codec (issue 21): training and export of vqgan-f16.
#
# make train-vqgan STAGE=ae        the autoencoder (L1 + MS-SSIM + commitment, a PatchGAN with feature
#                       matching from 40% of the budget on), VQGAN_BUDGET seconds of training wall
#                       clock (7,200 by default); resumes from Training/runs/vqgan-f16/ae/, so Ctrl-C
#                       and rerunning continues where it stopped.
# make train-vqgan STAGE=finetune  K-means of the codebook to K = 1024, 256, 64, 16 and codebook-only
#                       fine-tuning per K (encoder and decoder frozen); the budget is split evenly
#                       over the four K (Training/runs/vqgan-f16/finetune-k<K>/). Needs the ae stage.
# make train-vqgan STAGE=index     the bidirectional index transformer per K (prior and restoration),
#                       budget split over K (index-k<K>/). Needs the finetune stage.
# STAGE=all runs the three one after another, each with VQGAN_BUDGET. Variables:
#   STAGE=ae|finetune|index|all (VQGAN_STAGE is the same)
#   VQGAN_BUDGET=7200        training seconds per stage (raise it and rerun to train on: logged)
#   VQGAN_K=                 one K only for finetune/index (1024, 256, 64 or 16), given the whole budget
#   VQGAN_THREADS=1          PyTorch threads
#   VQGAN_CHECKPOINT_SECONDS=240
#   VQGAN_RUN=Training/runs/vqgan-f16
#   VQGAN_FRESH=1            start the stage afresh instead of resuming
# make export-vqgan     Training/exports/$(EXPORT_ID)/vqgan-f16/ from every stage's latest checkpoint
#                       (VQGAN_CHECKPOINT=best: the best ones); REPLACE=1 replaces the released
#                       Codecs/vqgan-f16/ instead.
# make train-vqgan SMOKE=1   every stage for 40 s on 4 training photos, fresh, in
#                       Training/runs/smoke/vqgan-f16, exported to Training/exports/smoke/vqgan-f16/,
#                       then the training tests with a golden check of that export (9 minutes measured
#                       on a loaded 2-core machine). SMOKE=1 STAGE=ae (etc.) runs one stage of it.
ifeq ($(SMOKE),1)
VQGAN_STAGE ?= $(or $(STAGE),all)
VQGAN_BUDGET ?= 40
VQGAN_CHECKPOINT_SECONDS ?= 20
VQGAN_RUN ?= Training/runs/smoke/vqgan-f16
VQGAN_FRESH ?= 1
VQGAN_EXTRA ?= --count-photos 4
endif
VQGAN_STAGE ?= $(or $(STAGE),ae)
VQGAN_BUDGET ?= 7200
VQGAN_K ?=
VQGAN_THREADS ?= 1
VQGAN_CHECKPOINT_SECONDS ?= 240
VQGAN_RUN ?= Training/runs/vqgan-f16
VQGAN_CHECKPOINT ?= latest
VQGAN_EXTRA ?=
VQGAN_STAGES := $(if $(filter all,$(VQGAN_STAGE)),ae finetune index,$(VQGAN_STAGE))

.PHONY: train-vqgan export-vqgan

train-vqgan:
	@for s in $(VQGAN_STAGES); do \
	  case $$s in ae|finetune|index) ;; *) echo "STAGE must be ae, finetune, index or all, not '$$s'"; exit 2;; esac; \
	  $(PYTHON) Training/recipes/vqgan.py train --stage $$s --budget $(VQGAN_BUDGET) --threads $(VQGAN_THREADS) \
	    --checkpoint-seconds $(VQGAN_CHECKPOINT_SECONDS) --run-dir $(VQGAN_RUN) --budget-hint VQGAN_BUDGET \
	    $(if $(VQGAN_K),--k $(VQGAN_K)) $(VQGAN_EXTRA) $(if $(filter 1,$(VQGAN_FRESH)),--fresh) || exit $$?; \
	done
ifeq ($(SMOKE),1)
ifeq ($(VQGAN_STAGE),all)
	$(MAKE) --no-print-directory export-vqgan SMOKE=1
	SMOKE_EXPORT=Training/exports/$(EXPORT_ID)/vqgan-f16 $(MAKE) --no-print-directory test-training
endif
endif

export-vqgan:
	$(PYTHON) Training/recipes/vqgan.py export --checkpoint $(VQGAN_CHECKPOINT) --run-dir $(VQGAN_RUN) \
	  $(if $(filter 1,$(REPLACE)),--replace,--export-id $(EXPORT_ID))

# The Swift VQGAN tests' fixture (Tests/VQGANTests/Golden): a tiny seeded random model written by the
# export's own code, with its golden vectors. Rerun after changing the model code on either side.
.PHONY: golden-vqgan
golden-vqgan:
	$(PYTHON) Training/recipes/vqgan.py fixture Tests/VQGANTests/Golden

# The benchmark (issue 21): Benchmarks/vqgan_bench.py through the `codec` command with --codec
# vqgan-f16 -> Benchmarks/results/vqgan.md, vqgan.json (for `make bench`'s report) and vqgan-grid.png:
# bits per pixel with and without the learned prior per K, PSNR and MS-SSIM, beside downscale(4, 8)-
# then-WebP/JPEG at the same rate and WebP/JPEG at their lowest settings; restoration at 5-30% of
# index blocks lost (and the block side at 20%); one-core decode speed; a grid of Kodak crops.
# BENCH_QUICK=1 (or VQGAN_BENCH_ARGS=--quick): the first 2 images, every row kept; its page and grid go
# to .build/bench-quick/ (the committed page keeps the full run). Other weights:
# NEURALCODECS_MODELS=Training/exports/<id> (a smoke export, say: never commit its results).
BENCH_TARGETS += bench-vqgan
BENCH_EXCLUDE += bench-deps-vqgan
BENCH_VQGAN_APT := libjpeg-turbo-progs webp
VQGAN_BENCH_ARGS ?=
.PHONY: bench-vqgan bench-deps-vqgan
bench-deps-vqgan:
	@$(call apt_install,$(BENCH_VQGAN_APT))
	@$(PYTHON) -c "import numpy, PIL, scipy" 2>/dev/null || $(PYTHON) -m pip install -q numpy pillow scipy

bench-vqgan: build bench-deps-vqgan
	$(PYTHON) Benchmarks/vqgan_bench.py $(if $(filter 1,$(BENCH_QUICK)),--quick) $(VQGAN_BENCH_ARGS)
