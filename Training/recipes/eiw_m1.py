"""Recipe for eiw-m1: the byte-level transformer M1 of the Equal-Info-Window text codec.

  python3 Training/recipes/eiw_m1.py train --stage 1 --budget 6300   # resumes from Training/runs/eiw-m1
  python3 Training/recipes/eiw_m1.py train --stage 2 --budget 5700 --lr 6e-4   # Training/runs/eiw-m1-stage2
  python3 Training/recipes/eiw_m1.py export [--export-id ID | --replace] [--checkpoint best|latest]
      [--results FILE.md]   # Training/exports/ID/eiw-m1/ (default ID: local); --replace: Codecs/eiw-m1/

`make train-eiw-m1` / `make export-eiw-m1` run these (Training/README.md; SMOKE=1 for a 2-minute run).

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
from neuralcodecs.export import add_export_args, dest_from_args, export_model, model_card, write_card  # noqa: E402
from neuralcodecs.paths import REPO, RUNS  # noqa: E402
from neuralcodecs.train import TrainConfig, fit, log  # noqa: E402

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
             "and asyoulik.txt (As You Like It) and bible.txt are evaluation files.")
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


def stage_dirs(run_dir: str | None) -> tuple[Path, Path]:
    """Stage 1's and stage 2's run folders (stage 2's is stage 1's with `-stage2`)."""
    one = Path(run_dir).resolve() if run_dir else RUN_DIR
    return one, one.with_name(one.name + "-stage2")


def train(args) -> None:
    stage1_dir, stage2_dir = stage_dirs(args.run_dir)
    stage2 = args.stage == 2
    run_dir = stage2_dir if stage2 else stage1_dir
    fresh = args.fresh
    if stage2 and not (stage1_dir / "latest.pt").exists():
        sys.exit(f"stage 2 starts from stage 1's weights, and {stage1_dir}/latest.pt does not exist: train stage 1 first")
    if stage2 and not fresh and (stage2_dir / "latest.pt").exists() and (stage2_dir / "stage1.json").exists():
        started = json.loads((stage2_dir / "stage1.json").read_text())["state"]
        current = torch.load(stage1_dir / "latest.pt", map_location="cpu", weights_only=False)["state"]
        was, now = started["step"], current["step"]
        moved = (was, started["elapsed"]) != (now, current["elapsed"])  # trained on, or retrained afresh
        if moved and args.restart_if_stage1_moved:
            log(stage2_dir, f"stage 1 moved (step {was} when stage 2 started from it, now {now}): restarting "
                            "stage 2 from stage 1's new weights")
            fresh = True
        elif moved:
            log(stage2_dir, f"note: stage 1 moved (step {was} when stage 2 started from it, now {now}); stage 2 "
                            "resumes its own run, still built on the older stage 1. To start stage 2 again from "
                            "the new stage-1 weights: EIW_M1_STAGE2_RESTART=1 (train --restart-if-stage1-moved).")
    corpus = data.TextCorpus.load()
    cfg = model_config()
    model = ByteLM(cfg)
    tc = TrainConfig(run_dir=str(run_dir), budget_seconds=args.budget, peak_lr=args.lr, threads=args.threads,
                     checkpoint_seconds=args.checkpoint_seconds, seed=args.stage,
                     warmup_steps=50 if stage2 else 100, warmup_fraction=args.warmup_fraction,
                     budget_hint=args.budget_hint or ("EIW_M1_STAGE2_BUDGET" if stage2 else "EIW_M1_BUDGET"))
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "sources.json").write_text(json.dumps({"sources": corpus.sources, "train_bytes": len(corpus.train),
                                                      "val_bytes": len(corpus.val)}, indent=1))
    if stage2 and (fresh or not (run_dir / "latest.pt").exists()):
        start = torch.load(stage1_dir / "latest.pt", map_location="cpu", weights_only=False)
        model.load_state_dict(start["model"])
        (run_dir / "stage1.json").write_text(json.dumps({"step": start["state"]["step"],
                                                         "state": start["state"]}, indent=1))
        for old in ("latest.pt", "best.pt"):  # a restarted stage 2 keeps nothing of the previous one
            if fresh:
                (run_dir / old).unlink(missing_ok=True)
    elif fresh:
        for old in ("latest.pt", "best.pt"):
            (run_dir / old).unlink(missing_ok=True)
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
        extra={"model_config": cfg.to_json(), "batch": BATCH}, resume=not fresh)


def export(args) -> None:
    stage1_dir, stage2_dir = stage_dirs(args.run_dir)
    run_dir = stage2_dir if args.stage == 2 else stage1_dir
    dest = dest_from_args(MODEL_ID, args)
    ck = torch.load(run_dir / f"{args.checkpoint}.pt", map_location="cpu", weights_only=False)
    cfg = ByteLMConfig(**ck["model_config"])
    model = ByteLM(cfg)
    model.load_state_dict(ck["model"])
    model.eval()
    state = ck["state"]
    stages = [state]
    configs = [ck.get("train_config")]
    if args.stage == 2:  # stage 1 as it was when stage 2 started from it
        stages = [json.loads((stage2_dir / "stage1.json").read_text())["state"], state]
        s1 = stage1_dir / "latest.pt"
        configs = [torch.load(s1, map_location="cpu", weights_only=False).get("train_config") if s1.exists() else None,
                   ck.get("train_config")]
    sources = json.loads((run_dir / "sources.json").read_text())
    tokens = torch.tensor([[cfg.bos] + list(GOLDEN_TEXT)], dtype=torch.int64)
    export_id = None if args.replace else dest.parent.name
    codec_json = {
        "model_id": MODEL_ID,
        **({"export_id": export_id} if export_id else {}),
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
                     "run": str(run_dir.relative_to(REPO)) if REPO in run_dir.parents else str(run_dir),
                     "schedules": [s.get("schedules", []) for s in stages],
                     "history": [s["history"] for s in stages]},
    }
    with torch.no_grad():
        export_model(model, dest, codec_json, None, None)  # rounds the weights to float16
        golden = {"tokens": tokens[0].to(torch.int32), "logits": model(tokens)[0].float()}
        config = export_model(model, dest, codec_json, None, golden)
    results = Path(args.results).read_text() if args.results else None
    notes = Path(args.notes).read_text() if args.notes else None
    write_card(dest, card(cfg, stages, configs, sources, config, results, notes, export_id))
    print(json.dumps({"exported": str(dest), "stage": args.stage, "step": state["step"],
                      "weights": config["weights"]}, indent=1))
    if not args.replace:
        print(f"use it from Swift with NEURALCODECS_MODELS={dest.parent} (the released Codecs/{MODEL_ID} is "
              "untouched; files encoded with these weights decode only with them)")


def card(cfg, stages, configs, sources, config, results, notes, export_id) -> str:
    def row(stage: int, h: dict) -> str:
        def f(k):
            return f"{h[k]:.4f}" if k in h else "-"
        return (f"| {stage} | {h['step']} | {h['elapsed']/60:.1f} | {h['units']/1e6:.2f} | {f('val')} | "
                f"{f('val_first4')} | {f('val_first16')} | {f('val_last256')} |")
    hist = "\n".join(row(i + 1, h) for i, s in enumerate(stages) for h in s["history"])
    w = config["weights"]
    files = "\n".join(f"- {s}" for s in sources["sources"])

    def schedule(i: int) -> str:
        c = configs[i] if i < len(configs) else None
        if not c:
            return "schedule not recorded in this checkpoint"
        frac = f"{c['warmup_fraction']:.0%} of the budget or " if c.get("warmup_fraction") else ""
        return (f"budget {c['budget_seconds']:.0f} s, peak learning rate {c['peak_lr']:g}, warm-up over "
                f"{frac}{c['warmup_steps']} steps (whichever ends first), {c['threads']} thread{'s' if c['threads'] != 1 else ''}, seed {c['seed']}")
    recipe = [f"Stage 1: {schedule(0)}." if len(stages) == 2 else f"This stage: {schedule(0)}."]
    if len(stages) == 2:
        recipe.append(f"Stage 2 (from stage 1's step {stages[0]['step']}): {schedule(1)}.")
    final = stages[-1]["history"][-1] if stages[-1]["history"] else {}
    sections = [
        ("Architecture", f"""Decoder-only transformer over bytes: width {cfg.width}, {cfg.heads} heads, {cfg.layers} layers, MLP {cfg.mlp},
context {cfg.context} bytes (BOS = token 256 at position 0, then up to {cfg.context - 1} bytes),
pre-LayerNorm (eps {cfg.ln_eps}), GELU (tanh approximation), learned absolute positions, causal
attention scaled by 1/sqrt({cfg.width // cfg.heads}), untied output head without bias.
Weight names and exact formulas: codec.json (`architecture`) and Training/neuralcodecs/byte_lm.py."""),
        ("Recipe", f"""`make train-eiw-m1` (Training/recipes/eiw_m1.py): AdamW (betas 0.9/0.95, weight decay 0.01 on
matrices), cosine decay to 2% of the peak over each stage's wall-clock budget, gradient clipping
1.0, {BATCH * cfg.context} bytes per step, float32. Stage 1 trains from scratch on {BATCH} x {cfg.context}-byte
windows; stage 2 starts from stage 1's weights (fresh optimizer) and spends half its steps on
{BATCH * cfg.context // SHORT_WINDOW} windows of {SHORT_WINDOW} bytes (`eiw` restarts M1's context at every window).
As run for this export:

""" + "\n".join(f"- {r}" for r in recipe)),
    ]
    if notes:
        sections.append(("Notes", notes))
    return model_card(
        f"{MODEL_ID}: byte-level transformer for the text codecs `lm-ac` and `eiw`",
        "M1 of Lester et al., \"Training LLMs over Neurally Compressed Text\" (2024), at the paper's M1 "
        "size, trained from scratch on this project's English training text.",
        weights=w,
        run={"model_id": MODEL_ID, "export_id": export_id, "checkpoint": config["training"]["checkpoint"] +
             f" ({config['training']['run']})",
             "data": f"""The files of `../shared/data/text/train` (never the evaluation corpora canterbury, calgary,
large); the last 1% of every file is held out for validation, the rest ({sources['train_bytes']:,} bytes)
is trained on as random {cfg.context}-byte windows. {DATA_NOTE}

{files}""",
             "steps": sum(s["step"] for s in stages), "units_seen": sum(s["units_seen"] for s in stages),
             "unit": "training bytes", "train_seconds": sum(s["elapsed"] for s in stages),
             "final_validation": {k: v for k, v in final.items() if k.startswith("val")},
             "history": f"""Validation bits per byte on {VAL_WINDOWS} fixed {cfg.context}-byte windows of the held-out 1% (minutes:
training wall clock, evaluation not counted):

| stage | step | minutes | M bytes seen | val bpb | positions 0-3 | positions 0-15 | positions 256-511 |
|---|---|---|---|---|---|---|---|
{hist}""" + f"""

Golden vectors: golden.safetensors holds `tokens` (int32, BOS + {len(GOLDEN_TEXT)} bytes) and `logits` (float32,
one row of 256 per position) computed by PyTorch from these float16 weights; the Swift tests compare
against them."""},
        sections=sections, results=results)


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
    t.add_argument("--checkpoint-seconds", type=float, default=120,
                   help="evaluate and checkpoint every N s of training (and always on SIGINT/SIGTERM)")
    t.add_argument("--warmup-fraction", type=float, default=0.05,
                   help="warm up over this fraction of the budget (or the stage's warm-up steps, whichever first)")
    t.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    t.add_argument("--restart-if-stage1-moved", action="store_true",
                   help="stage 2: start again from stage 1 when stage 1 trained on since stage 2 started")
    t.add_argument("--budget-hint", help="what to raise to train longer (shown when the budget is spent)")
    for q in (t, e := sub.add_parser("export")):
        q.add_argument("--run-dir", help=f"stage 1's run folder (default {RUN_DIR.relative_to(REPO)}; "
                                         "stage 2's is the same with -stage2)")
    e.add_argument("--checkpoint", default="latest", choices=["latest", "best"])
    e.add_argument("--stage", type=int, default=2, choices=[1, 2], help="the stage whose checkpoint to export")
    add_export_args(e, MODEL_ID)
    e.add_argument("--results", help="markdown with measured codec results (kept only if it names the exported hash)")
    e.add_argument("--notes", help="markdown notes on the run for the model card")
    args = p.parse_args()
    train(args) if args.command == "train" else export(args)


if __name__ == "__main__":
    main()
