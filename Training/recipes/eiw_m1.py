"""Recipe for eiw-m1: the byte-level transformer M1 of the Equal-Info-Window text codec.

  python3 Training/recipes/eiw_m1.py train --budget 7800      # resumes from Training/runs/eiw-m1
  python3 Training/recipes/eiw_m1.py export [--checkpoint best|latest] [--results FILE.md]

Data: the files of ../shared/data/text/train (their last 1% held out for validation). The Debian
dictionaries dict-jargon and dict-devil are already in that folder; dict-gcide is left out on
purpose (see DATA_NOTE). Evaluation corpora (canterbury, calgary, large) are never read.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from neuralcodecs import data  # noqa: E402
from neuralcodecs.byte_lm import ByteLM, ByteLMConfig  # noqa: E402
from neuralcodecs.export import export_model  # noqa: E402
from neuralcodecs.paths import CODECS, RUNS  # noqa: E402
from neuralcodecs.train import TrainConfig, fit  # noqa: E402

MODEL_ID = "eiw-m1"
RUN_DIR = RUNS / MODEL_ID
# Stage 2 starts from stage 1's weights and spends half its steps on short windows: eiw restarts
# M1's context every ~4 bytes, so its compression is decided by the first positions, which
# 512-byte windows train only 1/512 of the time.
STAGE2_DIR = RUNS / f"{MODEL_ID}-stage2"
SHORT_WINDOW = 32
BATCH = 8
VAL_WINDOWS = 48
DATA_NOTE = ("dict-gcide (40 MB) is not used: 10,658 of its lines cite Shakespeare or the Bible, "
             "and asyoulik.txt (As You Like It) and bible.txt are evaluation files; besides, the "
             "training budget (1.75 h) covers less than one epoch of data/text/train alone.")
GOLDEN_TEXT = b"The quick brown fox jumps over the lazy dog. \xe2\x80\x94 Alice\r\n"


def model_config() -> ByteLMConfig:
    return ByteLMConfig(width=256, heads=4, layers=3, mlp=1024, context=512)


def evaluate_fn(val: np.ndarray, ctx: int):
    windows = torch.from_numpy(data.fixed_windows(val, VAL_WINDOWS, ctx))

    def evaluate(model: ByteLM) -> dict:
        per_pos = torch.cat([model.bits_per_byte(windows[i:i + 8]).unsqueeze(0)
                             for i in range(0, len(windows), 8)]).mean(dim=0)
        return {"val": round(per_pos.mean().item(), 4),  # bits per byte over all positions
                "val_first4": round(per_pos[:4].mean().item(), 4),
                "val_first16": round(per_pos[:16].mean().item(), 4),  # the short contexts eiw uses
                "val_last256": round(per_pos[256:].mean().item(), 4)}
    return evaluate


def train(args) -> None:
    corpus = data.TextCorpus.load()
    cfg = model_config()
    model = ByteLM(cfg)
    stage2 = args.stage == 2
    run_dir = STAGE2_DIR if stage2 else RUN_DIR
    tc = TrainConfig(run_dir=str(run_dir), budget_seconds=args.budget, peak_lr=args.lr, threads=args.threads,
                     checkpoint_seconds=args.checkpoint_seconds, seed=args.stage,
                     warmup_steps=50 if stage2 else 100)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "sources.json").write_text(json.dumps({"sources": corpus.sources, "train_bytes": len(corpus.train),
                                                      "val_bytes": len(corpus.val)}, indent=1))
    if stage2 and not (run_dir / "latest.pt").exists():
        start = torch.load(RUN_DIR / "latest.pt", map_location="cpu", weights_only=False)
        model.load_state_dict(start["model"])
        (run_dir / "stage1.json").write_text(json.dumps({"step": start["state"]["step"],
                                                         "state": start["state"]}, indent=1))
    train_data = corpus.train

    def batch_fn(rng):
        if stage2 and rng.random() < 0.5:  # the same bytes per step, as 128 windows of 32
            return torch.from_numpy(data.byte_windows(train_data, rng, BATCH * cfg.context // SHORT_WINDOW,
                                                      SHORT_WINDOW))
        return torch.from_numpy(data.byte_windows(train_data, rng, BATCH, cfg.context))

    def loss_fn(net, batch):
        inputs, targets = model.with_bos(batch)
        logits = net(inputs)
        return torch.nn.functional.cross_entropy(logits.reshape(-1, cfg.vocab_out), targets.reshape(-1))

    fit(model, tc, loss_fn, batch_fn, BATCH * cfg.context, evaluate_fn(corpus.val, cfg.context),
        extra={"model_config": cfg.to_json(), "batch": BATCH}, resume=not args.fresh)


def export(args) -> None:
    run_dir = STAGE2_DIR if args.stage == 2 else RUN_DIR
    ck = torch.load(run_dir / f"{args.checkpoint}.pt", map_location="cpu", weights_only=False)
    cfg = ByteLMConfig(**ck["model_config"])
    model = ByteLM(cfg)
    model.load_state_dict(ck["model"])
    model.eval()
    state = ck["state"]
    stages = [state]
    if args.stage == 2:  # stage 1 as it was when stage 2 started from it
        stages = [json.loads((STAGE2_DIR / "stage1.json").read_text())["state"], state]
    sources = json.loads((RUN_DIR / "sources.json").read_text())
    dummy = ByteLM(cfg)  # same export path, for the float16-rounded golden outputs
    tokens = torch.tensor([[cfg.bos] + list(GOLDEN_TEXT)], dtype=torch.int64)
    codec_json = {
        "model_id": MODEL_ID,
        "codecs": ["lm-ac", "eiw"],
        "architecture": {
            "kind": "byte-transformer-decoder", **cfg.to_json(),
            "norm": "pre-LayerNorm (biased variance), eps 1e-5, then ln_f before head",
            "activation": "GELU tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))",
            "attention": "causal multi-head, softmax(q k^T / sqrt(width/heads)); qkv.weight rows = [q; k; v], "
                         "head h uses rows h*64..h*64+63 of each",
            "positional": "learned absolute, pos_emb[p] for p = 0..context-1; p = 0 holds BOS",
            "bos_token": "256 (input vocabulary 257), starts every context",
            "head": "untied, no bias; logits over bytes 0..255",
            "linear": "y = x W^T + b (PyTorch layout, W is [out, in])",
        },
        "training": {"steps": sum(s["step"] for s in stages), "tokens_seen": sum(s["units_seen"] for s in stages),
                     "train_seconds": round(sum(s["elapsed"] for s in stages)), "batch": ck.get("batch"),
                     "checkpoint": f"stage {args.stage} {args.checkpoint}",
                     "history": [s["history"] for s in stages]},
    }
    with torch.no_grad():
        config = export_model(model, CODECS / MODEL_ID, codec_json, "", None)
        golden = {"tokens": tokens[0].to(torch.int32), "logits": model(tokens)[0].float()}
        config = export_model(model, CODECS / MODEL_ID, codec_json, "", golden)
    results = Path(args.results).read_text() if args.results else "Not yet measured with the Swift codecs.\n"
    notes = Path(__file__).with_name("eiw_m1_notes.md")
    if notes.exists():
        results = notes.read_text() + "\n" + results
    card = model_card(cfg, stages, sources, config, results)
    (CODECS / MODEL_ID / "MODEL_CARD.md").write_text(card)
    print(json.dumps({"exported": str(CODECS / MODEL_ID), "stage": args.stage, "step": state["step"], "weights": config["weights"]}, indent=1))


def model_card(cfg, stages, sources, config, results: str) -> str:
    def row(stage: int, h: dict) -> str:
        first4 = f"{h['val_first4']:.4f}" if "val_first4" in h else "-"
        return (f"| {stage} | {h['step']} | {h['elapsed']/60:.1f} | {h['units']/1e6:.2f} | {h['val']:.4f} | "
                f"{first4} | {h['val_first16']:.4f} | {h['val_last256']:.4f} |")
    hist = "\n".join(row(i + 1, h) for i, s in enumerate(stages) for h in s["history"])
    steps, seen = sum(s["step"] for s in stages), sum(s["units_seen"] for s in stages)
    hours = sum(s["elapsed"] for s in stages) / 3600
    files = "\n".join(f"- {s}" for s in sources["sources"])
    w = config["weights"]
    return f"""# eiw-m1: byte-level transformer for the text codecs `lm-ac` and `eiw`

M1 of Lester et al., "Training LLMs over Neurally Compressed Text" (2024), at the paper's M1 size,
trained from scratch on this project's English training text on a 2-core CPU.

## Architecture
Decoder-only transformer over bytes: width {cfg.width}, {cfg.heads} heads, {cfg.layers} layers, MLP {cfg.mlp},
context {cfg.context} bytes (BOS = token 256 at position 0, then up to {cfg.context - 1} bytes),
pre-LayerNorm (eps {cfg.ln_eps}), GELU (tanh approximation), learned absolute positions, causal
attention scaled by 1/sqrt({cfg.width // cfg.heads}), untied output head without bias. {w['parameters']:,} parameters,
stored as float16 ({w['bytes']:,} bytes, FNV-1a 64 `{w['fnv1a64']}`, SHA-256 `{w['sha256']}`).
Weight names and exact formulas: codec.json (`architecture`) and Training/neuralcodecs/byte_lm.py.

## Data
The files of `../shared/data/text/train` (never the evaluation corpora canterbury, calgary, large);
the last 1% of every file is held out for validation, the rest ({sources['train_bytes']:,} bytes) is
trained on as random 512-byte windows. {DATA_NOTE}

{files}

## Recipe
`make train-eiw-m1` (Training/recipes/eiw_m1.py) runs two stages, both AdamW (betas 0.9/0.95,
weight decay 0.01 on matrices), cosine decay to 2% of the peak over each stage's wall-clock
budget, gradient clipping 1.0, {BATCH * cfg.context} bytes per step, float32, 2 CPU threads.
- Stage 1 (`train --stage 1`, seed 1): from scratch, peak learning rate 1.5e-3 after 100 warm-up
  steps, batches of {BATCH} x {cfg.context}-byte windows.
- Stage 2 (`train --stage 2`, seed 2): from stage 1's last weights (fresh optimizer), peak 6e-4
  after 50 warm-up steps; each step is, with probability 1/2, {BATCH * cfg.context // SHORT_WINDOW} windows of {SHORT_WINDOW} bytes
  instead of {BATCH} of {cfg.context}. `eiw` restarts M1's context at every window (about 4 bytes at
  W = 16), so its compression is decided by the first positions, which long windows alone
  train only 1/{cfg.context} of the time.
Exported from the `{config['training']['checkpoint']}` checkpoint by `make export-eiw-m1`.

## Training
{steps} steps, {seen:,} training bytes seen, {hours:.2f} h of training
(wall clock on a shared 2-core machine, resumes included; evaluation time not counted).
Validation bits per byte on 48 fixed 512-byte windows of the held-out 1%:

| stage | step | minutes | M bytes seen | val bpb | positions 0-3 | positions 0-15 | positions 256-511 |
|---|---|---|---|---|---|---|---|
{hist}

## Measured results
{results}
## Golden vectors
golden.safetensors: `tokens` (int32, BOS + {len(GOLDEN_TEXT)} bytes) and `logits` (float32, one row of 256
per position) computed by PyTorch from these float16 weights; the Swift tests compare against them.
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--stage", type=int, default=1, choices=[1, 2],
                   help="1: 512-byte windows from scratch; 2: from stage 1's latest weights, half the steps on "
                        f"{SHORT_WINDOW}-byte windows (run in Training/runs/{MODEL_ID}-stage2)")
    t.add_argument("--budget", type=float, default=7800, help="wall-clock training seconds (schedule is sized to it)")
    t.add_argument("--lr", type=float, default=1.5e-3)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--checkpoint-seconds", type=float, default=300)
    t.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    e = sub.add_parser("export")
    e.add_argument("--checkpoint", default="latest", choices=["latest", "best"])
    e.add_argument("--stage", type=int, default=2, choices=[1, 2], help="the stage whose checkpoint to export")
    e.add_argument("--results", help="markdown with measured codec results for the model card")
    args = p.parse_args()
    train(args) if args.command == "train" else export(args)


if __name__ == "__main__":
    main()
