"""Export of a vqgan-f16 run (called by `vqgan.py export`) to Training/exports/<export-id>/vqgan-f16/,
or with --replace to the released Codecs/vqgan-f16/ (neuralcodecs.export.dest_from_args).

Reads the three stages' checkpoints (ae, finetune-k<K>, index-k<K>; all must exist) and writes:

- model.safetensors, float16: `encoder.*`, `decoder.*` (the autoencoder), `codebook.k4096` (the
  full codebook: the EMA statistics are training state and stay behind), `codebook.k<K>` [K, D] for
  K = 1024, 256, 64, 16, and `index.k<K>.*` (tok_emb [K+1, d], pos_emb [256, d], blocks.*, ln_f,
  head [K, d]) per K. The discriminator is training-only and stays behind.
- codec.json: the architecture, the rates, the index transformer and its coding phases, the
  training facts of every stage, the weights hash.
- golden.safetensors, computed from the float16-rounded weights: a synthetic 64x96 image (`input`,
  in [-1, 1]), its encoder output `latent`, `indices.k<K>` (int32) and `output.k<K>` (decoder
  output) for every codebook; per K an 8x8 window of indices `prior.k<K>.indices` (int32, from a
  fixed generator), the logits it is coded under (`prior.k<K>.logits` [8, 8, K], phase by phase),
  and a restoration case: `restore.k<K>.tokens` (int32, the window with its top-left 4x4 block
  replaced by the mask token K) and `restore.k<K>.logits` [8, 8, K].
- MODEL_CARD.md from the runs' own facts.

How the Swift side turns the logits into integer frequencies: softmax on the deterministic kernel
path, then EntropyCoding's FrequencyQuantizer (precision 16, every symbol kept) - the same glue as
the text codecs; neuralcodecs.export.frequency_table is the Python reference of a table from
probabilities.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from neuralcodecs.export import dest_from_args, finish_files, model_card, weights_facts  # noqa: E402
from neuralcodecs.vqgan import (DOWN, PHASES, WINDOW, IndexConfig, IndexTransformer, VQGAN,  # noqa: E402
                                VQGANConfig, coding_logits)
import vqgan as recipe  # noqa: E402

GOLDEN_H, GOLDEN_W = 64, 96
GOLDEN_WINDOW = 8


def synthetic_image(h: int, w: int) -> torch.Tensor:
    """A fixed test picture (no data file is copied into the repository): smooth colour ramps, a
    disc, stripes and a little noise, [1, 3, h, w] in [-1, 1]."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    r = x / w
    g = y / h
    b = 0.5 + 0.5 * np.sin(x / 5.0) * (y > h / 2)
    disc = ((x - w * 0.6) ** 2 + (y - h * 0.4) ** 2) < (h * 0.25) ** 2
    r = np.where(disc, 0.9, r)
    g = np.where(disc, 0.2, g)
    img = np.stack([r, g, b]) + np.random.default_rng(21).normal(0, 0.02, (3, h, w))
    return torch.from_numpy(np.clip(img, 0, 1).astype(np.float32) * 2 - 1)[None]


def load_checkpoint(path: Path) -> dict:
    if not path.exists():
        raise SystemExit(f"no checkpoint {path}: train that stage first (`vqgan.py train --stage ...`)")
    return torch.load(path, map_location="cpu", weights_only=False)


def history_table(history: list[dict], keys: list[str]) -> str:
    rows = [h for h in history if all(k in h for k in keys)]
    if len(rows) > 12:
        rows = rows[::math.ceil(len(rows) / 12)] + [rows[-1]]
    head = "| step | seconds | " + " | ".join(keys) + " |\n|---|---|" + "---|" * len(keys)
    return head + "\n" + "\n".join(f"| {h['step']} | {h['elapsed']:.0f} | " + " | ".join(str(h[k]) for k in keys) + " |"
                                   for h in rows)


def export(args) -> None:
    root = recipe.run_root(args)
    which = args.checkpoint
    ae = load_checkpoint(root / "ae" / f"{which}.pt")
    vq = recipe.load_ae(root, which)
    ks = list(vq.cfg.rate_codes)
    fine = {k: load_checkpoint(root / f"finetune-k{k}" / f"{which}.pt") for k in ks}
    idx_ck = {k: load_checkpoint(root / f"index-k{k}" / f"{which}.pt") for k in ks}
    for k in ks:
        vq.add_rate_codebook(k, fine[k]["model"][f"vq.codebooks.k{k}"])
    index_models = {}
    for k in ks:
        m = IndexTransformer(IndexConfig(**idx_ck[k]["config"]))
        m.load_state_dict(idx_ck[k]["model"])
        m.eval()
        index_models[k] = m

    dest = dest_from_args(recipe.MODEL_ID, args)
    export_id = None if args.replace else dest.parent.name
    stages = {"ae": ae["state"], **{f"finetune-k{k}": fine[k]["state"] for k in ks},
              **{f"index-k{k}": idx_ck[k]["state"] for k in ks}}
    training = {name: {"steps": st["step"], "seconds": round(st["elapsed"], 1),
                       "final": st["history"][-1] if st["history"] else None} for name, st in stages.items()}
    config, facts, params = write_model_folder(dest, vq, index_models, export_id, {"training": training})
    (dest / "MODEL_CARD.md").write_text(card(root, config, facts, params, export_id, which, stages, ks))
    finish_files(dest)
    total = sum(p.stat().st_size for p in dest.iterdir())
    print(f"exported {dest}: weights {facts['bytes']:,} bytes ({params:,} parameters), folder {total:,} bytes, "
          f"hash {facts['fnv1a64']}")


def write_model_folder(dest: Path, vq: VQGAN, index_models: dict[int, IndexTransformer], export_id: str | None,
                       extra: dict) -> tuple[dict, dict, int]:
    """model.safetensors (float16), golden.safetensors (from the float16-rounded weights) and
    codec.json of a codec and its index transformers; the models are left holding the rounded
    weights. Used by the export and by the Swift tests' fixture (`vqgan.py fixture`)."""
    ks = list(index_models)
    tensors = {}
    for name, v in vq.state_dict().items():
        if name.startswith(("encoder.", "decoder.")):
            tensors[name] = v
    tensors[f"codebook.k{vq.cfg.codes}"] = vq.quantizer.embed
    for k in ks:
        tensors[f"codebook.k{k}"] = vq.codebooks[f"k{k}"].detach()
        for name, v in index_models[k].state_dict().items():
            tensors[f"index.k{k}.{name}"] = v
    half = {n: v.detach().to(torch.float16).contiguous() for n, v in tensors.items()}
    # What Swift loads is the float16 weights: compute the golden vectors from exactly those.
    rounded = {n: v.float() for n, v in half.items()}
    vq.load_state_dict({n: rounded[n] for n in vq.state_dict() if n in rounded}, strict=False)
    vq.quantizer.embed.copy_(rounded[f"codebook.k{vq.cfg.codes}"])
    for k in ks:
        vq.codebooks[f"k{k}"].data.copy_(rounded[f"codebook.k{k}"])
        index_models[k].load_state_dict({n[len(f"index.k{k}."):]: v for n, v in rounded.items()
                                         if n.startswith(f"index.k{k}.")})
    dest.mkdir(parents=True, exist_ok=True)
    save_file(half, str(dest / "model.safetensors"), metadata={"format": "pt"})
    facts = weights_facts(dest / "model.safetensors")
    gold = golden(vq, index_models)
    save_file({k: v.contiguous() for k, v in gold.items()}, str(dest / "golden.safetensors"))
    icfg = index_models[ks[0]].cfg
    params = sum(v.numel() for v in half.values())
    config = {
        "codec": "vqgan", "id": recipe.MODEL_ID, **({"export_id": export_id} if export_id else {}),
        "architecture": {**vq.cfg.to_json(), "down": DOWN, "pixel_shuffle": 2, "norm_eps": 1e-5,
                         "attention_heads": 1, "input": "RGB / 127.5 - 1, padded (edge replicate) to multiples of 16",
                         "output": "(clamp(x, -1, 1) + 1) * 127.5, cropped"},
        "macs_per_pixel": macs_per_pixel(vq),
        "rates": [{"k": k, "codebook": f"codebook.k{k}", "index_model": f"index.k{k}",
                   "bits_per_pixel_fixed": math.log2(k) / (DOWN * DOWN)} for k in ks],
        "index_model": {**{k2: v for k2, v in icfg.to_json().items() if k2 != "codes"}, "activation": "gelu_tanh",
                        "norm_eps": 1e-5, "mask_token": "K (one past the last code)", "position": "row * window + col",
                        "phases": PHASES, "phase_map": "0: row%4==0 and col%4==0; 1: other row, col both even; "
                                                      "2: row, col both odd; 3: row+col odd",
                        "coding": "each unit (at most window x window indices) coded phase by phase: phase s under "
                                  "the logits with phases < s known and the rest masked",
                        "loss_block": recipe.LOSS_BLOCK, "frequency_precision": 16},
        **extra,
        "weights": {**facts, "dtype": "float16", "parameters": params},
        "golden": {"file": "golden.safetensors", "tensors": {k: list(v.shape) for k, v in gold.items()}},
    }
    (dest / "codec.json").write_text(json.dumps(config, indent=2) + "\n")
    finish_files(dest)
    return config, facts, params


def fixture(dest: Path) -> None:
    """A tiny randomly initialised codec (every norm scale and bias made non-trivial) written like an
    export: the golden vectors the Swift VQGAN tests check their layers against (`make golden-vqgan`,
    Tests/VQGANTests/Golden). Seeded, so rerunning writes the same files."""
    torch.manual_seed(21)
    cfg = VQGANConfig(channels=[8, 8, 16, 16], embed_dim=4, codes=64, rate_codes=[16, 4])
    vq = VQGAN(cfg).eval()
    for k in cfg.rate_codes:
        vq.add_rate_codebook(k, torch.randn(k, cfg.embed_dim))
    vq.quantizer.embed.copy_(torch.randn(cfg.codes, cfg.embed_dim))
    index_models = {k: IndexTransformer(IndexConfig(codes=k, dim=16, heads=2, layers=2, mlp=32)).eval()
                    for k in cfg.rate_codes}
    with torch.no_grad():
        for m in [vq] + list(index_models.values()):
            for mod in m.modules():
                if isinstance(mod, (torch.nn.GroupNorm, torch.nn.LayerNorm)):
                    mod.weight.uniform_(0.5, 1.5)
                    mod.bias.uniform_(-0.2, 0.2)
        for m in index_models.values():  # the default init leaves logits near uniform: sharpen them
            m.head.weight.mul_(20)
    Path(dest).mkdir(parents=True, exist_ok=True)
    config, facts, params = write_model_folder(Path(dest), vq, index_models, "fixture",
                                               {"note": "test fixture: random weights, not a codec"})
    print(f"fixture {dest}: {params:,} parameters, {sum(p.stat().st_size for p in Path(dest).iterdir()):,} bytes")


@torch.no_grad()
def macs_per_pixel(vq: VQGAN) -> dict:
    """Multiply-accumulates per pixel of the encoder and the decoder on a 512x768 picture (PyTorch's
    FLOP counter / 2: convolutions, linear layers and attention; norms and activations uncounted)."""
    from torch.utils.flop_counter import FlopCounterMode
    x = torch.zeros(1, 3, 512, 768)
    out = {}
    for name, fn in (("encoder", lambda: vq.encoder(x)), ("decoder", lambda: vq.decoder(torch.zeros(1, vq.cfg.embed_dim, 32, 48)))):
        with FlopCounterMode(display=False) as fc:
            fn()
        out[name] = round(fc.get_total_flops() / 2 / x[0, 0].numel())
    return out


@torch.no_grad()
def golden(vq: VQGAN, index_models: dict[int, IndexTransformer]) -> dict:
    x = synthetic_image(GOLDEN_H, GOLDEN_W)
    out = {"input": x, "latent": vq.encoder(x)}
    for k in [vq.cfg.codes] + list(vq.cfg.rate_codes):
        idx = vq.encode(x, k)
        out[f"indices.k{k}"] = idx[0].to(torch.int32)
        out[f"output.k{k}"] = vq.decode(idx, k)
    for k, m in index_models.items():
        g = torch.Generator().manual_seed(k)
        win = torch.randint(k, (GOLDEN_WINDOW, GOLDEN_WINDOW), generator=g)
        out[f"prior.k{k}.indices"] = win.to(torch.int32)
        out[f"prior.k{k}.logits"] = coding_logits(m, win)
        tokens = win.clone()
        tokens[:recipe.LOSS_BLOCK, :recipe.LOSS_BLOCK] = m.mask_token
        out[f"restore.k{k}.tokens"] = tokens.to(torch.int32)
        out[f"restore.k{k}.logits"] = m(tokens[None])[0]
    return out


def card(root: Path, config: dict, facts: dict, params: int, export_id, which: str, stages: dict, ks: list[int]) -> str:
    sources = json.loads((root / "sources.json").read_text())
    ae = stages["ae"]
    total_seconds = sum(st["elapsed"] for st in stages.values())
    cfg = config["architecture"]
    summary = (f"VQGAN extreme image codec after Mao et al., \"Extreme Image Compression using Fine-tuned VQGANs\" "
               f"(DCC 2024), sized for a 2-core CPU: one index per 16x16 pixels into a {cfg['codes']}-code codebook, "
               f"clustered to K = {', '.join(map(str, ks))} "
               f"({', '.join(f'{math.log2(k) / 256:.4f}' for k in ks)} bits per pixel before entropy coding), "
               f"with a bidirectional index transformer per K that codes the indices and restores lost ones. "
               f"{params:,} parameters. Recipe: `Training/recipes/vqgan.py`.")
    stage_rows = "\n".join(f"| {name} | {st['step']:,} | {st['elapsed']:,.0f} | "
                           + (", ".join(f"{k2} {v}" for k2, v in st["history"][-1].items()
                                        if k2 not in ("step", "elapsed", "units")) if st["history"] else "-") + " |"
                           for name, st in stages.items())
    arch = (f"Encoder: pixel unshuffle x2 (3 -> 12 channels at 1/2), a 3x3 convolution, then per level (channels "
            f"{cfg['channels']} at 1/2, 1/4, 1/8, 1/16) a stride-2 3x3 convolution between levels and "
            f"{cfg['res_blocks']} residual block(s) (GroupNorm {cfg['groups']} groups + SiLU + 3x3 convolution, "
            f"twice); at 1/16 a residual block, single-head self-attention, a residual block; GroupNorm + SiLU + a 1x1 "
            f"convolution to the {cfg['embed_dim']}-dimensional latent. Decoder: the mirror, with nearest x2 "
            "upsampling + 3x3 convolution between levels and a 3x3 convolution to 12 channels + pixel shuffle x2 at "
            f"the end: {config['macs_per_pixel']['encoder']:,} (encoder) and {config['macs_per_pixel']['decoder']:,} "
            "(decoder) multiply-accumulates per pixel. Taming's f16 VQGAN has 128-512 channels, two residual "
            "blocks per level and full-resolution levels; this one is sized to what two hours of one CPU thread "
            "can train. "
            f"Full codebook: {cfg['codes']} codes of {cfg['embed_dim']} dimensions, nearest by squared L2, updated "
            "by an exponential moving average (decay 0.99), started from k-means of the first batch, codes unchosen "
            "for 200 steps restarted at encoder outputs. Discriminator (training only): a 3-layer PatchGAN with "
            "GroupNorm, hinge loss, plus feature matching.\n\n"
            f"Index transformer (one per K): bidirectional, width {config['index_model']['dim']}, "
            f"{config['index_model']['heads']} heads, {config['index_model']['layers']} layers, MLP "
            f"{config['index_model']['mlp']}, GELU (tanh), window {WINDOW}x{WINDOW} indices with learned positions, "
            f"a MASK token. Coding: each unit is coded in {PHASES} phases ({config['index_model']['phase_map']}), "
            "each under the logits given the phases before it. Restoration: the lost blocks' indices are masked and "
            "predicted from their neighbours.")
    differs = ("- Much smaller networks (above), 128x128 training crops, and {:,.1f} h of one CPU thread in all "
               "instead of days on GPUs; the published model starts from taming's ImageNet VQGAN (16,384 codes).\n"
               "- No LPIPS: its ImageNet VGG weights are not available offline. MS-SSIM (five scales) and feature "
               "matching on the discriminator (a feature distance learned on our own photos) take its place.\n"
               "- Codebook fine-tuning moves the codes through the frozen decoder (the paper's straight-through "
               "estimator only pulls them toward encoder outputs); K-means is weighted by how often each code is "
               "used on the training photos; fine-tuning uses L1 + MS-SSIM + codebook loss, no discriminator.\n"
               "- Past the paper: indices are entropy-coded under the index transformer instead of sent at log2(K) "
               "bits, and the same network restores lost indices (the paper's restoration transformer was never "
               "released).").format(total_seconds / 3600)
    return model_card(
        recipe.MODEL_ID, summary, weights={**facts, "parameters": params, "dtype": "float16"},
        run={"model_id": recipe.MODEL_ID, "export_id": export_id, "steps": ae["step"],
             "train_seconds": total_seconds, "checkpoint": f"`{which}.pt` of every stage",
             "final_validation": ae["history"][-1] if ae["history"] else {},
             "data": (f"{len(sources['train'])} training photos of ../shared/data/images/train (Sun-Hays 80, "
                      f"Urban100): random 128x128 crops at scales 1 to 1/2 with flips for the autoencoder and the "
                      f"codebooks; the indices of the photos at scales 1 and 1/2, both flips, for the index "
                      f"transformers. {len(sources['validation'])} more training photos ("
                      f"{', '.join(Path(p).name for p in sources['validation'])}) are held out for the logged "
                      "validation figures, which chose nothing but the best checkpoint. Kodak, CLIC and the document "
                      "pages were never read. This is little data: 135 photos, where the published VQGAN saw "
                      "ImageNet's 1.2 million."),
             "recipe": ["python3 Training/recipes/vqgan.py train --stage ae",
                        "python3 Training/recipes/vqgan.py train --stage finetune",
                        "python3 Training/recipes/vqgan.py train --stage index",
                        "python3 Training/recipes/vqgan.py export"]},
        sections=[("Architecture", arch),
                  ("Stages as run", "| stage | steps | seconds | last validation |\n|---|---|---|---|\n" + stage_rows
                   + "\n\nFigures on the held-out training photos: `psnr`/`ms_ssim` on 256x256 crops; "
                   "`bits_per_index_unit16`/`unit8`: ideal code length of the indices under the index transformer "
                   "with coding units of 16x16/8x8 indices against `fixed` = log2 K; `restore_top1_at_20pct`: the "
                   "share of indices of lost 4x4 blocks (20% lost) restored exactly."),
                  ("Autoencoder validation history", history_table(ae["history"], ["psnr", "ms_ssim", "codes_used"])),
                  ("What differs from the paper", differs)])
