"""Export of a WaLLoC run (called by `walloc.py export`) to Training/exports/<export-id>/<model>/,
or with --replace to the released Codecs/<model>/ (neuralcodecs.export.dest_from_args).

Writes model.safetensors (float16 network weights plus `prior.frequencies`, the latent coder's
integer tables as I32), codec.json, golden.safetensors (a fixed input, its wavelet bands, its
latents and the decoder's output, all computed from the float16-rounded weights that Swift loads)
and MODEL_CARD.md generated from the run's own facts. A released model (Codecs/<model>) is only
overwritten with --replace; by default the export goes to a models folder of its own, which Swift
uses with NEURALCODECS_MODELS=Training/exports/<export-id>. Every file gets mode 644.

The latent tables mirror Sources/WaLLoC/LatentCoder.swift exactly: the context of a latent is
|left| + |top| (images) or |q[t-1]| + |q[t-2]| (audio) in its own channel, in LatentCoder's
buckets; counts are taken over the encoded training data and smoothed towards the channel's
marginal so that rare contexts still get sensible tables.
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
from neuralcodecs.export import dest_from_args, finish_files, results_for, weights_facts  # noqa: E402
import walloc as recipe  # noqa: E402

from neuralcodecs.walloc import CONTEXT_BOUNDS as BUCKET_BOUNDS  # noqa: E402  (LatentCoder.bucketBounds)
ALPHABET = 255
PRECISION = 16
SMOOTHING = 32.0  # pseudo-counts drawn from the channel's marginal
MAX_AUDIO_SEGMENTS = 300  # 6 s segments of training music counted for the audio tables (30 min)


def contexts(q: np.ndarray, two_d: bool) -> np.ndarray:
    """Bucket of every latent of `q` [C, H, W] (int), as LatentCoder.bucket computes it."""
    a = np.abs(q.astype(np.int64))
    m = np.zeros_like(a)
    if two_d:
        m[:, :, 1:] += a[:, :, :-1]
        m[:, 1:, :] += a[:, :-1, :]
    else:
        m[:, :, 1:] += a[:, :, :-1]
        m[:, :, 2:] += a[:, :, :-2]
    return np.digitize(np.minimum(m, 254), BUCKET_BOUNDS, right=False)


def quantize(p: np.ndarray) -> np.ndarray:
    """Probabilities -> integer frequencies >= 1 summing to 2^PRECISION (largest remainders)."""
    total = 1 << PRECISION
    spare = total - len(p)
    scaled = p / p.sum() * spare
    f = np.floor(scaled).astype(np.int64)
    rest = spare - int(f.sum())
    order = np.argsort(-(scaled - f), kind="stable")
    f[order[:rest]] += 1
    return f + 1


def latent_tables(model: recipe.WaLLoC, latents: list[np.ndarray]) -> np.ndarray:
    cfg = model.cfg
    b = len(BUCKET_BOUNDS) + 1
    counts = np.zeros((cfg.latent, b, ALPHABET), dtype=np.float64)
    for q in latents:
        ctx = contexts(q, cfg.kind == "image")
        sym = q.astype(np.int64) + 127
        chan = np.broadcast_to(np.arange(cfg.latent)[:, None, None], q.shape)
        np.add.at(counts, (chan.ravel(), ctx.ravel(), sym.ravel()), 1)
    tables = np.zeros((cfg.latent, b, ALPHABET), dtype=np.int32)
    for c in range(cfg.latent):
        marginal = counts[c].sum(axis=0) + 0.5  # every value keeps some mass
        marginal /= marginal.sum()
        for k in range(b):
            tables[c, k] = quantize(counts[c, k] + SMOOTHING * marginal)
    return tables


def ideal_bits(tables: np.ndarray, latents: list[np.ndarray], two_d: bool) -> float:
    logp = np.log2(tables / float(1 << PRECISION))
    bits = 0.0
    for q in latents:
        ctx = contexts(q, two_d)
        chan = np.broadcast_to(np.arange(q.shape[0])[:, None, None], q.shape)
        bits -= logp[chan.ravel(), ctx.ravel(), (q.astype(np.int64) + 127).ravel()].sum()
    return bits


def padded_image(photo: torch.Tensor, stride: int) -> torch.Tensor:
    """(3, H, W) uint8 -> (1, 3, H', W') in [-0.5, 0.5], edges repeated to multiples of stride."""
    x = photo.float().unsqueeze(0) / 255.0 - 0.5
    h, w = x.shape[2:]
    ph, pw = -h % stride, -w % stride
    return torch.nn.functional.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x


def training_latents(model: recipe.WaLLoC) -> tuple[list[np.ndarray], int]:
    """Latents of the training data (all training photos whole, or the training music in
    segments) and the count of pixels or frames they cover."""
    out, units = [], 0
    with torch.no_grad():
        if model.cfg.kind == "image":
            train, _ = recipe.image_split()
            for p in recipe.PhotoCrops(train).photos:
                x = padded_image(p, model.cfg.stride)
                out.append(torch.round(model.encode(x))[0].numpy().astype(np.int8))
                units += p.shape[1] * p.shape[2]
        else:
            data = recipe.MusicSegments(recipe.music_train_files(), model.cfg.sample_rate)
            seg = 1 << 18
            # Every 6 s segment of every track would be hours of music; MAX_AUDIO_SEGMENTS of them,
            # drawn without replacement from all tracks, give the tables plenty of counts.
            pieces = [(t, s) for t in data.tracks for s in range(0, t.shape[1] - seg + 1, seg)]
            pick = np.random.default_rng(0).permutation(len(pieces))[:MAX_AUDIO_SEGMENTS]
            for i in sorted(pick):
                t, s = pieces[i]
                x, _ = recipe.scale_audio(t[:, s:s + seg].float() / 32768)
                out.append(torch.round(model.encode(x.unsqueeze(0)))[0].numpy().astype(np.int8)[:, None, :])
                units += seg
    return out, units


def golden(model: recipe.WaLLoC) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(5)
    if model.cfg.kind == "image":
        x = (torch.rand(1, 3, 24, 40, generator=g) - 0.5) * 0.6
        x = torch.nn.functional.avg_pool2d(torch.nn.functional.pad(x, (1, 1, 1, 1), mode="replicate"), 3, 1)
    else:
        t = torch.arange(2048).float()
        x = torch.stack([0.3 * torch.sin(t * 0.05), 0.2 * torch.sin(t * 0.013) + 0.05 * torch.randn(2048, generator=g)]).unsqueeze(0)
    with torch.no_grad():
        bands = model.analysis(x)
        q = torch.round(model.encode(x))
        y = model.decode(q)
    return {"input": x, "bands": bands, "latents": q, "output": y}


def run_setup(ck: dict) -> str:
    """Budget, threads and schedule as the checkpoint recorded them (neuralcodecs.train)."""
    tc = ck.get("train_config")
    if not tc:
        return "run settings not recorded in this checkpoint"
    warm = f"{tc['warmup_fraction']:.0%} of the budget or " if tc.get("warmup_fraction") else ""
    return (f"budget {tc['budget_seconds']:.0f} s, {tc['threads']} PyTorch thread{'s' if tc['threads'] != 1 else ''}, "
            f"peak learning rate {tc['peak_lr']:g}, warm-up over {warm}{tc['warmup_steps']} steps")


def card(model_id: str, source_model: str, cfg, ck: dict, config: dict, rate: dict, sources: dict,
         export_id: str | None = None, results: str | None = None) -> str:
    st = ck["state"]
    last = st["history"][-1] if st["history"] else {}
    w = config["weights"]
    if cfg.kind == "image":
        data = (f"{len(sources['train'])} photographs of `../shared/data/images/train` (random 128x128 crops at scales 1 "
                f"to 1/2, horizontal flips); the last {len(sources['validation'])} photos by name held out for the "
                "validation figures below, which chose nothing but were logged. Kodak and CLIC were never read. "
                "This is little data: the published model trained on LSDIR (85k images).")
        unit = "bits per pixel"
    else:
        data = (f"{len(sources['train'])} files: `../shared/data/audio/music/train` and whole tracks from the Debian "
                "packages the clips came from (lossy Ogg Vorbis source material); the ten tracks `music/eval` was cut "
                f"from are excluded by name: {', '.join(Path(p).name for p in sources['excluded'])}.")
        unit = "bits per stereo frame"
    return f"""# {model_id}

WaLLoC (wavelet learned lossy compression, after Jacobellis & Yadwadkar, DCC 2025) for
{'RGB images' if cfg.kind == 'image' else f'stereo audio at {cfg.sample_rate} Hz'}: CDF 9/7 wavelet packets
(J = {cfg.levels}, {cfg.bands} channels), a linear 1x1 encoder to {cfg.latent} latent channels, 8-bit companding,
a convolutional decoder ({cfg.blocks} residual blocks of width {cfg.width}, GroupNorm + SiLU, at the latent
resolution), latents coded with rANS under per-channel context tables (`prior.frequencies`).
Recipe: `Training/recipes/walloc.py` (trained as `{source_model}`).

## This export
- export id: `{export_id or 'released'}` (model id `{model_id}`)
- weights: {w['parameters']:,} parameters, float16, {w['bytes']:,} bytes, FNV-1a 64 `{w['fnv1a64']}`,
  SHA-256 `{w['sha256']}`
- exported {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} from `{ck.get('_checkpoint', 'latest')}.pt`

## Training run (facts of this run)
- data: {data}
- loss: MSE plus λ·rate, λ adapted every step to hold the estimated rate at {ck['target_rate']} {unit} on
  training data (the published codec trains on MSE alone); final λ {last.get('lambda', 'n/a')}
- steps: {st['step']:,}, wall-clock training time {st['elapsed'] / 60:.1f} min ({run_setup(ck)}),
  {st['units_seen']:,} {'pixels' if cfg.kind == 'image' else 'frames'} seen
- final validation (held-out training photos / segments): {json.dumps(last)}
- latent tables: counted on {rate['units']:,} {'pixels' if cfg.kind == 'image' else 'frames'} of training data;
  ideal code length there {rate['bits_per_unit']:.4f} {unit}

## Measured results
{results_for(w['fnv1a64'], results).strip()} Measured results come from the benchmark, each row
marked with the weights hash it was measured with; only rows naming `{w['fnv1a64']}` belong here.
"""


def export(args) -> None:
    model, target = recipe.model_for(args.model)
    cfg = model.cfg
    run_dir = recipe.run_dir_of(args)
    path = run_dir / f"{args.checkpoint}.pt"
    if not path.exists():
        raise SystemExit(f"no checkpoint {path}: train first (`walloc.py train --model {args.model}`)")
    ck = torch.load(path, map_location="cpu", weights_only=False)
    ck["_checkpoint"] = args.checkpoint
    model.load_state_dict(ck["model"])
    model.eval()
    # The folder keeps the model id (Swift finds models by id); the export id names the folder above it.
    model_id = args.model
    dest = dest_from_args(model_id, args)
    export_id = None if args.replace else dest.parent.name
    # The network as Swift loads it: float16 weights, used (as float32) for everything below.
    keep = {k: v for k, v in model.state_dict().items() if k.startswith(("encoder.", "decoder."))}
    half = {k: v.to(torch.float16) for k, v in keep.items()}
    model.load_state_dict({k: v.float() for k, v in half.items()}, strict=False)
    print(f"counting latent tables on the training data ...", flush=True)
    latents, units = training_latents(model)
    tables = latent_tables(model, latents)
    bits = ideal_bits(tables, latents, cfg.kind == "image")
    rate = {"units": units, "bits_per_unit": bits / units}
    print(f"ideal rate on training data: {rate['bits_per_unit']:.4f} per {'pixel' if cfg.kind == 'image' else 'frame'}")
    dest.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.contiguous() for k, v in half.items()}
    tensors["prior.frequencies"] = torch.from_numpy(tables).contiguous()
    save_file(tensors, str(dest / "model.safetensors"), metadata={"format": "pt"})
    facts = weights_facts(dest / "model.safetensors")
    gold = golden(model)
    save_file({k: v.float().contiguous() for k, v in gold.items()}, str(dest / "golden.safetensors"))
    st = ck["state"]
    config = {
        "codec": "walloc", "id": model_id, **({"export_id": export_id} if export_id else {}),
        "architecture": cfg.to_json(),
        "training": {"recipe": "Training/recipes/walloc.py", "trained_as": args.model, "steps": st["step"],
                     "seconds": round(st["elapsed"], 1), "target_rate": target,
                     "final": st["history"][-1] if st["history"] else None},
        "weights": {**facts, "dtype": "float16 (prior.frequencies: int32)",
                    "parameters": sum(v.numel() for v in half.values())},
        "golden": {"file": "golden.safetensors", "tensors": {k: list(v.shape) for k, v in gold.items()}},
    }
    (dest / "codec.json").write_text(json.dumps(config, indent=2) + "\n")
    sources = json.loads((run_dir / "sources.json").read_text())
    (dest / "MODEL_CARD.md").write_text(card(model_id, args.model, cfg, ck, config, rate, sources, export_id))
    finish_files(dest)
    print(f"exported {dest} ({facts['bytes']:,} bytes, hash {facts['fnv1a64']})")
    if export_id:
        print(f"use it from Swift with NEURALCODECS_MODELS={dest.parent} (the released Codecs/{model_id}, if any, "
              "is untouched; files encoded with these weights decode only with them)")
