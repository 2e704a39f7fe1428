"""Export of a WaLLoC run (called by `walloc.py export`) to Training/exports/<export-id>/<model>/,
or with --replace to the released Codecs/<model>/ (neuralcodecs.export.dest_from_args).

Writes model.safetensors (float16 network weights plus `prior.frequencies`, the latent coder's
integer tables as I32), codec.json, golden.safetensors (a fixed input, its wavelet bands, its
latents and the decoder's output, all computed from the float16-rounded weights that Swift loads)
and MODEL_CARD.md generated from the run's own facts. A released model (Codecs/<model>) is only
overwritten with --replace; by default the export goes to a models folder of its own, which Swift
uses with NEURALCODECS_MODELS=Training/exports/<export-id>. Every file gets mode 644.

The latent prior (`prior.weights`, `prior.frequencies`: Training/neuralcodecs/walloc_prior.py,
mirrored by Sources/WaLLoC/LatentCoder.swift) is fitted here on the latents of the training data
only: least-squares integer predictors per channel and residual tables per activity context.
golden.safetensors also holds latents of a larger synthetic image with their predictions and
contexts, which the Swift coder must reproduce exactly.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from neuralcodecs.export import dest_from_args, finish_files, results_for, weights_facts  # noqa: E402
from neuralcodecs import walloc_prior as prior  # noqa: E402
import walloc as recipe  # noqa: E402

MAX_AUDIO_SEGMENTS = 120  # 6 s segments of training music the audio prior is fitted on (12 min, ~13M latents at 5x)


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


def golden(model: recipe.WaLLoC, weights: np.ndarray) -> dict[str, torch.Tensor]:
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
    out = {"input": x, "bands": bands, "latents": q, "output": y}
    out.update(prior_golden(model, weights))
    return out


def prior_golden(model: recipe.WaLLoC, weights: np.ndarray) -> dict[str, torch.Tensor]:
    """Latents of a larger smooth random signal, with the prior's predictions and contexts."""
    g = torch.Generator().manual_seed(6)
    if model.cfg.kind == "image":
        x = sum(torch.nn.functional.interpolate(torch.rand(1, 3, 64 // f, 96 // f, generator=g) - 0.5, size=(64, 96),
                                                mode="bilinear", align_corners=False) for f in (1, 4, 16)) * 0.4
    else:
        t = torch.arange(8192).float()
        x = torch.stack([0.3 * torch.sin(t * 0.031) * torch.sin(t * 0.0007), 0.2 * torch.sin(t * 0.11)
                         + 0.1 * torch.randn(8192, generator=g)]).unsqueeze(0)
    with torch.no_grad():
        q = torch.round(model.encode(x.clamp(-0.5, 0.5)))[0].numpy().astype(np.int64)
    q = q if q.ndim == 3 else q[:, None, :]
    s, k = prior.symbols(q, weights)
    p = q - (s - 2 * prior.LATENT_MAX)
    return {"prior_latents": torch.from_numpy(q).float(), "prior_prediction": torch.from_numpy(p).float(),
            "prior_context": torch.from_numpy(k).float()}


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
resolution), latents coded with rANS under an integer
prior (`prior.weights`, `prior.frequencies`: linear prediction from neighbours and earlier channels,
residual tables per activity context; latent prior format 2).
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
- latent prior: fitted on {rate['units']:,} {'pixels' if cfg.kind == 'image' else 'frames'} of training data
  ({rate['fit_seconds']:.0f} s); ideal code length there {rate['bits_per_unit']:.4f} {unit}

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
    print("fitting the latent prior on the training data ...", flush=True)
    latents, units = training_latents(model)
    latents = [q if q.ndim == 3 else q[:, None, :] for q in latents]
    started = time.monotonic()
    weights, tables = prior.fit(latents)
    rate = {"units": units, "bits_per_unit": prior.ideal_bits(weights, tables, latents) / units,
            "fit_seconds": time.monotonic() - started}
    print(f"ideal rate on training data: {rate['bits_per_unit']:.4f} per {'pixel' if cfg.kind == 'image' else 'frame'}")
    dest.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.contiguous() for k, v in half.items()}
    tensors["prior.weights"] = torch.from_numpy(weights).contiguous()
    tensors["prior.frequencies"] = torch.from_numpy(tables).contiguous()
    save_file(tensors, str(dest / "model.safetensors"), metadata={"format": "pt"})
    facts = weights_facts(dest / "model.safetensors")
    gold = golden(model, weights)
    save_file({k: v.float().contiguous() for k, v in gold.items()}, str(dest / "golden.safetensors"))
    st = ck["state"]
    config = {
        "codec": "walloc", "id": model_id, **({"export_id": export_id} if export_id else {}),
        "architecture": cfg.to_json(),
        "training": {"recipe": "Training/recipes/walloc.py", "trained_as": args.model, "steps": st["step"],
                     "seconds": round(st["elapsed"], 1), "target_rate": target,
                     "final": st["history"][-1] if st["history"] else None},
        "weights": {**facts, "dtype": "float16 (prior.weights, prior.frequencies: int32)", "latent_prior": 2,
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
