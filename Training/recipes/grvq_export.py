"""Export of a GRVQ run (called by `grvq.py export`) to Training/exports/<export-id>/grvq-16k/, or
with --replace to the released Codecs/grvq-16k/ (neuralcodecs.export.dest_from_args).

Writes model.safetensors (float16 encoder, decoder and codebooks `quantizer.codebooks.G.L.embed`;
the EMA statistics are training state and stay behind; plus `prior.frequencies`, I32
[groups, levels, codes]: the index tables the range coder uses), codec.json, golden.safetensors
(a fixed synthetic input, its latent, its indices and the decoder's output at every level count,
all from the float16-rounded weights Swift loads) and MODEL_CARD.md from the run's own facts.

Index tables: every training file is encoded at the full count of levels and the indices counted
per codebook; each table is the counts plus one (no code may be impossible), quantized to integer
frequencies summing to 2^16. The card reports the ideal code length under them against the fixed
10 bits per index: the bitrate the entropy coding saves.
"""
from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from neuralcodecs.export import dest_from_args, finish_files, frequency_table, model_card, weights_facts  # noqa: E402
from neuralcodecs.grvq import SAMPLE_RATE, GRVQCodec, GRVQConfig  # noqa: E402
import grvq as recipe  # noqa: E402

PRECISION = 16
MAX_COUNT_SECONDS = 1200  # the tables are counted on at most this much training speech


def padded(x: np.ndarray, hop: int) -> torch.Tensor:
    n = -(-len(x) // hop) * hop
    out = np.zeros(n, dtype=np.float32)
    out[:len(x)] = x
    return torch.from_numpy(out)[None, None]


def index_counts(model: GRVQCodec) -> tuple[np.ndarray, int]:
    """Counts [groups, levels, codes] of the indices of the training speech, and frames counted."""
    cfg = model.cfg
    counts = np.zeros((cfg.groups, cfg.levels, cfg.codes), dtype=np.int64)
    files, _ = recipe.speech_files()
    rng = np.random.default_rng(0)
    frames, seconds = 0, 0.0
    for i in rng.permutation(len(files)):
        x = recipe.load_16k(files[i])
        if len(x) == 0:
            continue
        idx = model.encode(padded(x, cfg.hop), cfg.levels)[0].numpy()  # [groups, levels, F]
        for g in range(cfg.groups):
            for lv in range(cfg.levels):
                counts[g, lv] += np.bincount(idx[g, lv], minlength=cfg.codes)
        frames += idx.shape[-1]
        seconds += len(x) / SAMPLE_RATE
        if seconds >= MAX_COUNT_SECONDS:
            break
    return counts, frames


def synthetic_speechlike(samples: int) -> np.ndarray:
    """A fixed test signal (no data file is copied into the repository): a gliding 110-220 Hz pulse
    train through two resonances, plus a little noise, with a syllable-like envelope."""
    t = np.arange(samples) / SAMPLE_RATE
    f0 = 110 + 110 * t / t[-1]
    phase = np.cumsum(f0) / SAMPLE_RATE
    src = sum(np.sin(2 * np.pi * k * phase) / k for k in range(1, 30))
    env = 0.5 * (1 - np.cos(2 * np.pi * np.clip(t / t[-1], 0, 1))) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))
    rng = np.random.default_rng(20)
    sig = src * env * 0.05 + rng.normal(0, 0.003, samples)
    return sig.astype(np.float32)


def golden(model: GRVQCodec) -> dict:
    cfg = model.cfg
    x = torch.from_numpy(synthetic_speechlike(20 * cfg.hop))[None, None]
    with torch.no_grad():
        z = model.encoder(x)
        idx = model.encode(x, cfg.levels)
        out = {"input": x, "latent": z, "indices": idx.to(torch.int32)}
        for lv in range(1, cfg.levels + 1):
            out[f"output{lv}"] = model.decode(idx[:, :, :lv])
    return out


def export(args) -> None:
    run_dir = recipe.run_dir_of(args)
    path = run_dir / f"{args.checkpoint}.pt"
    if not path.exists():
        raise SystemExit(f"no checkpoint {path}: train first (`grvq.py train`)")
    ck = torch.load(path, map_location="cpu", weights_only=False)
    cfg = GRVQConfig(**ck["config"])
    model = GRVQCodec(cfg)
    model.load_state_dict(ck["model"])
    model.eval()
    dest = dest_from_args(recipe.MODEL_ID, args)
    export_id = None if args.replace else dest.parent.name
    keep = {k: v for k, v in model.state_dict().items()
            if k.startswith(("encoder.", "decoder.")) or k.endswith(".embed")}
    half = {k: v.to(torch.float16) for k, v in keep.items()}
    model.load_state_dict({k: v.float() for k, v in half.items()}, strict=False)
    print("counting index tables on the training speech ...", flush=True)
    counts, frames = index_counts(model)
    probs = counts + 1.0
    probs /= probs.sum(-1, keepdims=True)
    tables = np.stack([[frequency_table(probs[g, lv], PRECISION) for lv in range(cfg.levels)] for g in range(cfg.groups)]).astype(np.int32)
    ideal = -(counts * np.log2(tables / float(1 << PRECISION))).sum((0, 2)) / max(frames, 1)  # bits/frame per level
    saving = {f"level{lv + 1}": round(float(ideal[lv]) / (cfg.groups * math.log2(cfg.codes)), 4) for lv in range(cfg.levels)}
    used = {f"level{lv + 1}": int((counts[:, lv] > 0).sum()) for lv in range(cfg.levels)}
    dest.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.contiguous() for k, v in half.items()}
    tensors["prior.frequencies"] = torch.from_numpy(tables).contiguous()
    save_file(tensors, str(dest / "model.safetensors"), metadata={"format": "pt"})
    facts = weights_facts(dest / "model.safetensors")
    gold = golden(model)
    save_file({k: v.contiguous() for k, v in gold.items()}, str(dest / "golden.safetensors"))
    st = ck["state"]
    last = st["history"][-1] if st["history"] else {}
    config = {
        "codec": "grvq", "id": recipe.MODEL_ID, **({"export_id": export_id} if export_id else {}),
        "sample_rate": SAMPLE_RATE, "architecture": cfg.to_json(),
        "training": {"recipe": "Training/recipes/grvq.py", "steps": st["step"], "seconds": round(st["elapsed"], 1),
                     "final": last or None},
        "weights": {**facts, "dtype": "float16 (prior.frequencies: int32)",
                    "parameters": sum(v.numel() for v in half.values())},
        "golden": {"file": "golden.safetensors", "tensors": {k: list(v.shape) for k, v in gold.items()}},
    }
    (dest / "codec.json").write_text(json.dumps(config, indent=2) + "\n")
    sources = json.loads((run_dir / "sources.json").read_text())
    kbps = {lv: cfg.groups * lv * math.log2(cfg.codes) * SAMPLE_RATE / cfg.hop / 1000 for lv in range(1, cfg.levels + 1)}
    coded = {lv: float(ideal[:lv].sum()) * SAMPLE_RATE / cfg.hop / 1000 for lv in range(1, cfg.levels + 1)}
    rate_rows = "\n".join(f"| {lv} | {kbps[lv]:.1f} | {coded[lv]:.3f} | {100 * (1 - coded[lv] / kbps[lv]):.1f}% | "
                          f"{used[f'level{lv}']} of {cfg.groups * cfg.codes} |" for lv in range(1, cfg.levels + 1))
    params = sum(v.numel() for v in half.values())
    summary = (f"GRVQ speech codec after Yang et al., HiFi-Codec (2023), sized for a 2-core CPU: 16 kHz mono, "
               f"{cfg.hop}x downsampling (50 frames/s), {cfg.groups} groups x {cfg.levels} residual levels of "
               f"{cfg.codes} codes, {params:,} parameters. Recipe: `Training/recipes/grvq.py`.")
    card = model_card(
        f"{recipe.MODEL_ID}", summary, weights={**facts, "parameters": params, "dtype": "float16"},
        run={"model_id": recipe.MODEL_ID, "export_id": export_id, "steps": st["step"], "train_seconds": st["elapsed"],
             "units_seen": st.get("units_seen"), "unit": "samples",
             "checkpoint": f"`{args.checkpoint}.pt`", "final_validation": last,
             "data": (f"{len(sources['train'])} training files ({sources['train_seconds_of_audio'] / 60:.1f} min): "
                      "LibriSpeech train and train-extra, LJSpeech, FSDD recordings 5-34, all mixed to mono and "
                      f"resampled to 16 kHz; {len(sources['validation'])} train-extra utterances held out for the "
                      "logged validation figures (they chose nothing). librispeech/test-other was never read. "
                      "This is little data: the published model trained on about 1,000 hours."),
             "recipe": ["python3 Training/recipes/grvq.py train", "python3 Training/recipes/grvq.py export"]},
        sections=[
            ("Architecture",
             f"Encoder: a kernel-{2 * cfg.patch}, stride-{cfg.patch} convolution to {cfg.enc_channels} channels, then per "
             f"downsampling ({', '.join(map(str, cfg.strides))}) two dilated residual units and a strided convolution "
             f"doubling the width; a kernel-3 convolution to the {cfg.latent}-channel latent. Decoder: a kernel-7 "
             f"convolution to {cfg.dec_channels} channels, per upsampling a transposed convolution halving the width "
             f"and a multi-receptive-field block (kernels {cfg.mrf_kernels}, dilations {cfg.mrf_dilations}), then a "
             f"stride-{cfg.patch} transposed convolution to the waveform and tanh. LeakyReLU 0.1 throughout; no weight "
             "normalization. The published HiFi-Codec runs its first and last stages at the full 16 kHz rate; here "
             f"the first {cfg.patch}x is a single (transposed) convolution, which is what makes two hours of CPU "
             "training possible, at a cost in fine detail. Codebooks: EMA updates (decay 0.99), k-means start on "
             "the first batch, dead codes reset to recent encoder outputs; quantizer dropout over 1 to "
             f"{cfg.levels} levels so one model serves {', '.join(f'{k:.0f}' for k in kbps.values())} kbit/s."),
            ("Index coding (measured on the training speech)",
             "| levels | fixed 10-bit kbit/s | entropy-coded kbit/s (ideal) | saved | codes used |\n|---|---|---|---|---|\n"
             + rate_rows + f"\n\nCounted on {frames:,} frames of training speech."),
            ("Training stages", "Stage 1 only (mel + multi-resolution STFT + commitment losses); no adversarial "
                                "stage has run."),
        ])
    (dest / "MODEL_CARD.md").write_text(card)
    finish_files(dest)
    print(f"exported {dest} ({facts['bytes']:,} bytes, hash {facts['fnv1a64']}); index coding saves "
          + ", ".join(f"{100 * (1 - coded[lv] / kbps[lv]):.1f}% at {lv} level(s)" for lv in coded))
