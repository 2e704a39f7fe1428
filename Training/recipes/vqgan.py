"""Recipe for vqgan-f16, the VQGAN extreme image codec (issue 21; Training/neuralcodecs/vqgan.py).

Three stages, each a budgeted, checkpointed, resumable run (Ctrl-C and rerunning the same command
continues; `--fresh` starts over). Runs live in Training/runs/vqgan-f16/<stage>[-k<K>]/.

  python3 Training/recipes/vqgan.py train --stage ae       --budget 7200   # autoencoder + GAN
  python3 Training/recipes/vqgan.py train --stage finetune --budget 7200   # K-means to K = 1024,
                                     # 256, 64, 16, codebook-only fine-tuning (budget split over K)
  python3 Training/recipes/vqgan.py train --stage index    --budget 7200   # index transformer per K
  python3 Training/recipes/vqgan.py export [--export-id ID | --replace]   # Training/exports/ID/vqgan-f16/

`--k 256` runs one K of the finetune or index stage (with the whole budget given).

Data (../shared/data/README.md): images/train only. The last VAL_PHOTOS photos by name are held
out for the logged validation figures, which choose nothing but the `best.pt` checkpoint; Kodak,
CLIC and the document pages are never read.

Stage ae: random 128x128 crops at scales 1 to 1/2 with random flips (media_data.PhotoCrops); loss
L1 + MS-SSIM + 0.25 x commitment (the codebook follows an EMA of its assigned encoder outputs,
starts from k-means of the first batch and restarts dead codes); after DISC_START of the budget a
PatchGAN discriminator (hinge loss) joins with its adversarial term and feature matching (L1
between the discriminator's features of the photo and of the reconstruction). That start time is
fixed when the run begins (40% of its first budget) and kept by every resume, also one with a
larger budget. LPIPS needs
ImageNet-trained VGG weights that are not available offline; MS-SSIM (structure at five scales)
plus discriminator feature matching (a learned feature distance, trained on our photos) take its
place. One optimizer holds both networks: the generator terms see the discriminator through
detached weights, the discriminator loss sees a detached reconstruction, so the gradients stay
apart.

Stage finetune (per K): weighted K-means of the full codebook (weights: how often each code is
chosen on the training photos) gives K centroids; they are fine-tuned with the encoder and decoder
frozen. Unlike the paper (straight-through, so its codebook only moves toward encoder outputs),
the decoder sees the chosen rows themselves, so the reconstruction loss moves them too.

Stage index (per K): the bidirectional index transformer on the indices of the training photos
(scales 1 and 1/2, both flips; encoder outputs computed once and cached in the run folder).
Half of each batch learns the coding phases (neuralcodecs.vqgan.phase_map: phases before s known,
loss on phase s), half learns restoration (random 4x4 blocks of indices lost at 5-50%, loss on the
lost ones). Windows of random shape up to 16x16, so partial units at image edges are in the data.
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
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from neuralcodecs import media_data  # noqa: E402
from neuralcodecs.export import add_export_args  # noqa: E402
from neuralcodecs.paths import RUNS  # noqa: E402
from neuralcodecs.train import TrainConfig, device, fit, log  # noqa: E402
from neuralcodecs.vqgan import (PHASES, WINDOW, Discriminator, IndexConfig, IndexTransformer, VQGAN,  # noqa: E402
                                VQGANConfig, coding_logits, ms_ssim, nearest, phase_map, to_rows)

MODEL_ID = "vqgan-f16"
STAGES = ("ae", "finetune", "index")
CROP = 128
BATCH = 8
VAL_PHOTOS = 7
VAL_CROPS = 16
VAL_CROP = 256
MSSIM_WEIGHT = 1.0
COMMIT_WEIGHT = 0.25
DISC_START = 0.4  # fraction of the ae budget before the discriminator joins
GEN_WEIGHT = 0.1  # adversarial (hinge) weight of the generator
FM_WEIGHT = 1.0  # feature matching weight
INDEX_BATCH = 32
LOSS_BLOCK = 4  # restoration learns to refill lost 4x4 blocks of indices (64x64 pixels)
DEAD_AFTER = 100  # fine-tuning: a clustered code unchosen this many steps restarts at an encoder output
# Measured step times, 1 thread, on this 2-core machine shared with a WaLLoC run and Swift builds
# (2026-12-06; load = 1-minute load average). Smoke runs, load about 2.4: ae 10 steps in 41 s with the
# discriminator on for the last 60% (about 4 s a step), finetune 7-8 steps in 10 s (1.3-1.4 s),
# index 4-6 steps of 32 windows in 10 s (about 2 s). Steady-state medians at load 9-10: ae 8.0 s,
# ae + discriminator 14.2 s, finetune 4.1 s, index 4.2-10.4 s (window shapes vary). So two hours buy
# about 1,800 ae steps (14,000 crops of 128x128) on a quiet machine and about 650 on a loaded one; each
# K gets about 1,300 finetune steps and 900 index steps of the stage's 7,200 s when quiet.


# ---------------------------------------------------------------- data

def image_split() -> tuple[list[Path], list[Path]]:
    files = media_data.image_train_files()
    return files[:-VAL_PHOTOS], files[-VAL_PHOTOS:]


def val_crops(files: list[Path]) -> torch.Tensor:
    """Fixed validation crops from the held-out training photos, in [-1, 1]."""
    return media_data.PhotoCrops(files).batch(np.random.default_rng(7), VAL_CROPS, VAL_CROP) * 2


def padded16(x: torch.Tensor) -> torch.Tensor:
    """[N, 3, H, W] padded (edge replicate) to multiples of 16, as the codec does."""
    h, w = x.shape[-2:]
    return F.pad(x, (0, -w % 16, 0, -h % 16), mode="replicate")


def photo_tensor(photo: torch.Tensor, scale: float, flip: bool) -> torch.Tensor:
    """A uint8 [3, H, W] photo as [1, 3, H', W'] in [-1, 1] at `scale` (area), padded to 16."""
    x = photo.float()[None] / 127.5 - 1
    if scale != 1:
        x = F.interpolate(x, scale_factor=scale, mode="area")
    if flip:
        x = x.flip(-1)
    return padded16(x)


# ---------------------------------------------------------------- stage ae

class AETrainer(nn.Module):
    """The codec and its discriminator, trained by one optimizer; `seconds` counts training time
    (the discriminator starts when it reaches `disc_start`), saved with the checkpoint."""

    def __init__(self, cfg: VQGANConfig, disc_start: float):
        super().__init__()
        self.vq = VQGAN(cfg)
        self.disc = Discriminator()
        self.register_buffer("seconds", torch.tensor(0.0, dtype=torch.float64))
        self.register_buffer("disc_start", torch.tensor(float(disc_start), dtype=torch.float64))
        self._last = None
        self.parts: dict = {}


def recon_loss(y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(L1 in [-1, 1], 1 - MS-SSIM in [0, 1]) of a batch."""
    return (y - x).abs().mean(), 1 - ms_ssim((y + 1) / 2, (x + 1) / 2).mean()


def ae_loss(t: AETrainer, x: torch.Tensor) -> torch.Tensor:
    now = time.time()
    if t._last is not None:
        t.seconds += min(now - t._last, 60.0)  # a pause (checkpoint, evaluation, resume) counts little
    t._last = now
    y, _, commit = t.vq(x)
    l1, ssim = recon_loss(y, x)
    loss = l1 + MSSIM_WEIGHT * ssim + COMMIT_WEIGHT * commit
    t.parts = {"l1": l1.item(), "1-msssim": ssim.item()}
    if float(t.seconds) >= float(t.disc_start):
        frozen = {k: v.detach() for k, v in t.disc.named_parameters()}
        fake_logits, fake_feats = functional_call(t.disc, frozen, (y,))
        real_logits, real_feats = t.disc(x)
        fm = sum((f - r.detach()).abs().mean() for f, r in zip(fake_feats, real_feats)) / len(fake_feats)
        fake_d, _ = t.disc(y.detach())
        d = 0.5 * (F.relu(1 - real_logits).mean() + F.relu(1 + fake_d).mean())
        g = -fake_logits.mean()
        loss = loss + GEN_WEIGHT * g + FM_WEIGHT * fm + d
        t.parts.update(g=g.item(), fm=fm.item(), d=d.item())
    return loss


def codebook_usage(idx: torch.Tensor, codes: int) -> dict:
    counts = torch.bincount(idx.reshape(-1), minlength=codes).double()
    p = counts / counts.sum()
    nz = p[p > 0]
    return {"codes_used": int((counts > 0).sum()), "perplexity": round(float(torch.exp(-(nz * nz.log()).sum())), 1)}


def ae_evaluate(val: torch.Tensor, k: int | None = None):
    def evaluate(t: nn.Module) -> dict:
        vq = t.vq
        ys, idxs = [], []
        for i in range(0, len(val), 4):
            x = val[i:i + 4]
            idx = vq.encode(x, k)
            idxs.append(idx)
            ys.append(vq.decode(idx, k).clamp(-1, 1))
        y, idx = torch.cat(ys), torch.cat(idxs)
        l1, ssim = recon_loss(y, val)
        mse = ((y - val) / 2).pow(2).mean((1, 2, 3))
        psnr = (10 * torch.log10(1 / mse)).mean()
        out = {"val": round(l1.item() + MSSIM_WEIGHT * ssim.item(), 4), "psnr": round(psnr.item(), 2),
               "ms_ssim": round(1 - ssim.item(), 4)}
        out.update(codebook_usage(idx, vq.book(k).shape[0]))
        out.update({k2: round(v, 4) for k2, v in getattr(t, "parts", {}).items()})
        return out
    return evaluate


def train_ae(args, root: Path) -> None:
    cfg = VQGANConfig()
    trainer = AETrainer(cfg, disc_start=DISC_START * args.budget)
    train_files, val_files = image_split()
    data = media_data.PhotoCrops(train_files[:args.count_photos])
    val = val_crops(val_files)
    dev = device()
    run_dir = root / "ae"
    run_dir.mkdir(parents=True, exist_ok=True)
    write_sources(root, train_files[:args.count_photos], val_files)
    tc = TrainConfig(run_dir=str(run_dir), budget_seconds=args.budget, peak_lr=args.lr or 2e-4, threads=args.threads,
                     checkpoint_seconds=args.checkpoint_seconds, warmup_steps=100, weight_decay=0.0,
                     grad_clip=5.0, betas=(0.5, 0.9), log_every_steps=10, budget_hint=args.budget_hint)
    fit(trainer, tc, ae_loss, lambda rng: (data.batch(rng, args.batch, CROP) * 2).to(dev), args.batch * CROP * CROP,
        ae_evaluate(val.to(dev)), extra={"model_id": MODEL_ID, "stage": "ae", "config": cfg.to_json()},
        resume=not args.fresh)


def write_sources(root: Path, train_files: list[Path], val_files: list[Path]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "sources.json").write_text(json.dumps(
        {"train": [str(f) for f in train_files], "validation": [str(f) for f in val_files]}, indent=1))


def load_ae(root: Path, which: str = "latest") -> VQGAN:
    path = root / "ae" / f"{which}.pt"
    if not path.exists():
        raise SystemExit(f"no autoencoder checkpoint {path}: run the ae stage first")
    ck = torch.load(path, map_location="cpu", weights_only=False)
    vq = VQGAN(VQGANConfig(**ck["config"]))
    vq.load_state_dict({k[3:]: v for k, v in ck["model"].items() if k.startswith("vq.")})
    vq.eval()
    return vq


# ---------------------------------------------------------------- stage finetune

def code_usage(vq: VQGAN, root: Path, max_photos: int | None) -> torch.Tensor:
    """How often each full-codebook code is chosen on the training photos (scale 1, cached)."""
    cache = root / "usage.pt"
    stamp = (root / "ae" / "latest.pt").stat().st_mtime
    if cache.exists():
        c = torch.load(cache, weights_only=False)
        if c["ae_mtime"] == stamp and c["photos"] == max_photos:
            return c["counts"]
    train_files, _ = image_split()
    counts = torch.zeros(vq.cfg.codes, dtype=torch.float64)
    for f in train_files[:max_photos]:
        photo = media_data.PhotoCrops([f]).photos[0]
        counts += torch.bincount(vq.encode(photo_tensor(photo, 1.0, False)).reshape(-1), minlength=vq.cfg.codes).double()
    torch.save({"ae_mtime": stamp, "photos": max_photos, "counts": counts}, cache)
    return counts


def weighted_kmeans(points: torch.Tensor, weights: torch.Tensor, k: int, iters: int = 30, seed: int = 0) -> torch.Tensor:
    """K centroids of weighted points [M, D] (k-means++ start, Lloyd iterations; a centroid left
    without points restarts at the point worst served). Deterministic for a seed."""
    g = torch.Generator().manual_seed(seed)
    pts, w = points.double(), weights.double().clamp_min(1e-9)
    first = int(torch.multinomial(w, 1, generator=g))
    cent = [pts[first]]
    d2 = ((pts - pts[first]) ** 2).sum(1)
    for _ in range(1, k):
        i = int(torch.multinomial(w * d2 + 1e-30, 1, generator=g))
        cent.append(pts[i])
        d2 = torch.minimum(d2, ((pts - pts[i]) ** 2).sum(1))
    c = torch.stack(cent)
    for _ in range(iters):
        dist = torch.cdist(pts, c)
        a = dist.argmin(1)
        mass = torch.zeros(k, dtype=torch.float64).index_add_(0, a, w)
        s = torch.zeros_like(c).index_add_(0, a, pts * w[:, None])
        empty = mass <= 1e-9
        c = torch.where(empty[:, None], c, s / mass.clamp_min(1e-12)[:, None])
        if bool(empty.any()):
            worst = (dist.gather(1, a[:, None])[:, 0] ** 2 * w).argsort(descending=True)
            c[empty] = pts[worst[:int(empty.sum())]]
    return c.float()


class RateTrainer(nn.Module):
    """The frozen codec with one clustered codebook that trains; `idle` counts steps since each
    code was last chosen (dead codes restart at encoder outputs of the batch)."""

    def __init__(self, vq: VQGAN, k: int, centroids: torch.Tensor):
        super().__init__()
        self.vq = vq
        self.k = k
        vq.add_rate_codebook(k, centroids)
        for n, p in vq.named_parameters():
            p.requires_grad = n == f"codebooks.k{k}"
        self.register_buffer("idle", torch.zeros(k, dtype=torch.long))
        self.parts: dict = {}

    def train(self, mode: bool = True):
        super().train(mode)
        self.vq.eval()  # frozen: GroupNorm has no running statistics, but keep the codebook EMA off
        return self


def finetune_loss(t: RateTrainer, x: torch.Tensor) -> torch.Tensor:
    y, idx, book_loss, z = t.vq.forward_rate(x, t.k)
    l1, ssim = recon_loss(y, x)
    with torch.no_grad():
        t.idle += 1
        t.idle[idx.reshape(-1)] = 0
        dead = t.idle > DEAD_AFTER
        if bool(dead.any()):
            z = to_rows(z)
            pick = torch.randint(len(z), (int(dead.sum()),))
            t.vq.codebooks[f"k{t.k}"].data[dead] = z[pick]
            t.idle[dead] = 0
    t.parts = {"l1": l1.item(), "1-msssim": ssim.item()}
    return l1 + MSSIM_WEIGHT * ssim + COMMIT_WEIGHT * book_loss


def train_finetune(args, root: Path, ks: list[int]) -> None:
    train_files, val_files = image_split()
    data = media_data.PhotoCrops(train_files[:args.count_photos])
    val = val_crops(val_files)
    dev = device()
    base = load_ae(root)
    usage = code_usage(base, root, args.count_photos)
    log(root, f"finetune: full codebook usage on the training photos: {int((usage > 0).sum())} of {len(usage)} codes")
    for k in ks:
        vq = load_ae(root)
        cent = weighted_kmeans(vq.quantizer.embed, usage + 1, k)
        t = RateTrainer(vq, k, cent)
        run_dir = root / f"finetune-k{k}"
        tc = TrainConfig(run_dir=str(run_dir), budget_seconds=args.budget / len(ks), peak_lr=args.lr or 1e-3,
                         threads=args.threads, checkpoint_seconds=args.checkpoint_seconds, warmup_steps=20,
                         weight_decay=0.0, log_every_steps=10, budget_hint=args.budget_hint)
        fit(t, tc, finetune_loss, lambda rng: (data.batch(rng, args.batch, CROP) * 2).to(dev), args.batch * CROP * CROP,
            ae_evaluate(val.to(dev), k), extra={"model_id": MODEL_ID, "stage": "finetune", "k": k,
                                                "ae_mtime": (root / "ae" / "latest.pt").stat().st_mtime},
            resume=not args.fresh)


# ---------------------------------------------------------------- stage index

def latents(vq: VQGAN, root: Path, files: list[Path], name: str, variants) -> list[torch.Tensor]:
    """Encoder outputs [D, h, w] (float16) of the photos at each (scale, flip), cached per ae checkpoint."""
    cache = root / f"latents-{name}.pt"
    stamp = (root / "ae" / "latest.pt").stat().st_mtime
    key = [str(f) for f in files], list(variants)
    if cache.exists():
        c = torch.load(cache, weights_only=False)
        if c["ae_mtime"] == stamp and c["key"] == key:
            return c["z"]
    out = []
    with torch.no_grad():
        for f in files:
            photo = media_data.PhotoCrops([f]).photos[0]
            for scale, flip in variants:
                out.append(vq.encoder(photo_tensor(photo, scale, flip))[0].half())
    torch.save({"ae_mtime": stamp, "key": key, "z": out}, cache)
    return out


def rate_book(root: Path, k: int) -> torch.Tensor:
    path = root / f"finetune-k{k}" / "latest.pt"
    if not path.exists():
        raise SystemExit(f"no fine-tuned codebook {path}: run the finetune stage first")
    return torch.load(path, map_location="cpu", weights_only=False)["model"][f"vq.codebooks.k{k}"].float()


def grid_indices(zs: list[torch.Tensor], book: torch.Tensor) -> list[torch.Tensor]:
    out = []
    for z in zs:
        d, h, w = z.shape
        out.append(nearest(z.float().permute(1, 2, 0).reshape(-1, d), book).reshape(h, w))
    return out


class IndexBatches:
    """Random windows of the index grids, one shape per batch (16x16 half the time, else random
    sides 1-16), each with a coding-phase mask or a lost-blocks mask."""

    def __init__(self, grids: list[torch.Tensor], mask_token: int):
        self.grids = [g for g in grids if min(g.shape) >= 1]
        self.mask = mask_token

    def batch(self, rng: np.random.Generator, count: int):
        if rng.random() < 0.5:
            h = w = WINDOW
        else:
            h, w = int(rng.integers(1, WINDOW + 1)), int(rng.integers(1, WINDOW + 1))
        idx = torch.empty(count, h, w, dtype=torch.long)
        for i in range(count):
            while True:
                g = self.grids[rng.integers(len(self.grids))]
                if g.shape[0] >= h and g.shape[1] >= w:
                    break
            y, x = int(rng.integers(g.shape[0] - h + 1)), int(rng.integers(g.shape[1] - w + 1))
            idx[i] = g[y:y + h, x:x + w]
        phase = phase_map(h, w)
        tokens = idx.clone()
        target = torch.zeros(count, h, w, dtype=torch.bool)
        for i in range(count):
            if rng.random() < 0.5:  # coding: phases < s known, phase s learned
                s = int(rng.integers(PHASES))
                if not bool((phase == s).any()):
                    s = 0
                tokens[i][phase >= s] = self.mask
                target[i] = phase == s
            else:  # restoration: 4x4 blocks lost at a rate of 5-50%
                rate = rng.uniform(0.05, 0.5)
                bh, bw = -(-h // LOSS_BLOCK), -(-w // LOSS_BLOCK)
                lost = torch.from_numpy(rng.random((bh, bw)) < rate)
                if not bool(lost.any()):
                    lost[int(rng.integers(bh)), int(rng.integers(bw))] = True
                m = lost.repeat_interleave(LOSS_BLOCK, 0).repeat_interleave(LOSS_BLOCK, 1)[:h, :w]
                tokens[i][m] = self.mask
                target[i] = m
        return tokens, idx, target


def index_loss(model: IndexTransformer, batch) -> torch.Tensor:
    tokens, idx, target = batch
    logits = model(tokens)
    return F.cross_entropy(logits[target], idx[target])


def index_evaluate(grids: list[torch.Tensor], k: int):
    """Bits per index under the coding phases (units of 16 and 8) on the held-out photos, and how
    many lost indices the restoration gets right at 20% of 4x4 blocks lost."""
    def evaluate(model: IndexTransformer) -> dict:
        bits16 = bits8 = 0.0
        n = right = lost_n = 0
        rng = np.random.default_rng(3)
        for g in grids:
            n += g.numel()
            for unit, acc in ((16, "b16"), (8, "b8")):
                b = 0.0
                for y in range(0, g.shape[0], unit):
                    for x in range(0, g.shape[1], unit):
                        u = g[y:y + unit, x:x + unit]
                        logp = F.log_softmax(coding_logits(model, u), -1)
                        b -= logp.gather(-1, u[..., None]).sum().item() / math.log(2)
                if unit == 16:
                    bits16 += b
                else:
                    bits8 += b
            for y in range(0, g.shape[0], WINDOW):
                for x in range(0, g.shape[1], WINDOW):
                    u = g[y:y + WINDOW, x:x + WINDOW]
                    h, w = u.shape
                    lost = torch.from_numpy(rng.random((-(-h // LOSS_BLOCK), -(-w // LOSS_BLOCK))) < 0.2)
                    m = lost.repeat_interleave(LOSS_BLOCK, 0).repeat_interleave(LOSS_BLOCK, 1)[:h, :w]
                    if not bool(m.any()):
                        continue
                    pred = model(torch.where(m, torch.full_like(u, model.mask_token), u)[None])[0].argmax(-1)
                    right += int((pred[m] == u[m]).sum())
                    lost_n += int(m.sum())
        return {"val": round(bits16 / n, 4), "bits_per_index_unit16": round(bits16 / n, 4),
                "bits_per_index_unit8": round(bits8 / n, 4), "fixed": round(math.log2(k), 4),
                "restore_top1_at_20pct": round(right / max(lost_n, 1), 4)}
    return evaluate


def index_data(root: Path, k: int, max_photos: int | None):
    vq = load_ae(root)
    train_files, val_files = image_split()
    z_train = latents(vq, root, train_files[:max_photos], f"train{max_photos or ''}",
                      [(1.0, False), (1.0, True), (0.5, False), (0.5, True)])
    z_val = latents(vq, root, val_files, "val", [(1.0, False)])
    book = rate_book(root, k)
    return grid_indices(z_train, book), grid_indices(z_val, book)


def train_index(args, root: Path, ks: list[int]) -> None:
    for k in ks:
        train_grids, val_grids = index_data(root, k, args.count_photos)
        model = IndexTransformer(IndexConfig(codes=k))
        data = IndexBatches(train_grids, model.mask_token)
        run_dir = root / f"index-k{k}"
        tc = TrainConfig(run_dir=str(run_dir), budget_seconds=args.budget / len(ks), peak_lr=args.lr or 1e-3,
                         threads=args.threads, checkpoint_seconds=args.checkpoint_seconds, warmup_steps=100,
                         weight_decay=0.01, log_every_steps=20, budget_hint=args.budget_hint)
        fit(model, tc, index_loss, lambda rng: data.batch(rng, args.index_batch), args.index_batch,
            index_evaluate(val_grids, k), extra={"model_id": MODEL_ID, "stage": "index", "k": k,
                                                 "config": model.cfg.to_json(),
                                                 "indices": sum(g.numel() for g in train_grids)},
            resume=not args.fresh)


# ---------------------------------------------------------------- commands

def run_root(args) -> Path:
    return Path(args.run_dir).resolve() if args.run_dir else RUNS / MODEL_ID


def train(args) -> None:
    torch.set_num_threads(args.threads)
    root = run_root(args)
    root.mkdir(parents=True, exist_ok=True)
    ks = [args.k] if args.k else list(VQGANConfig().rate_codes)
    if args.stage == "ae":
        train_ae(args, root)
    elif args.stage == "finetune":
        train_finetune(args, root, ks)
    else:
        train_index(args, root, ks)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--stage", choices=STAGES, default="ae")
    t.add_argument("--budget", type=float, default=7200.0,
                   help="wall-clock seconds of the stage (finetune and index split it evenly over K)")
    t.add_argument("--k", type=int, choices=VQGANConfig().rate_codes, help="one K only (finetune, index)")
    t.add_argument("--lr", type=float, help="peak learning rate (ae 2e-4, finetune 1e-3, index 1e-3)")
    t.add_argument("--batch", type=int, default=BATCH)
    t.add_argument("--index-batch", type=int, default=INDEX_BATCH)
    t.add_argument("--count-photos", type=int, help="use only the first N training photos (smoke runs)")
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--checkpoint-seconds", type=float, default=240.0)
    t.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    t.add_argument("--budget-hint", default="--budget")
    e = sub.add_parser("export")
    e.add_argument("--checkpoint", default="latest", choices=["latest", "best"])
    add_export_args(e, MODEL_ID)
    f = sub.add_parser("fixture", help="write the Swift tests' tiny golden model to DEST")
    f.add_argument("dest")
    for q in (t, e):
        q.add_argument("--run-dir", help=f"the run folder (default Training/runs/{MODEL_ID})")
    args = p.parse_args()
    if args.cmd == "train":
        train(args)
    elif args.cmd == "fixture":
        from vqgan_export import fixture  # noqa: E402
        fixture(Path(args.dest))
    else:
        from vqgan_export import export  # noqa: E402  (Training/recipes/vqgan_export.py)
        export(args)


if __name__ == "__main__":
    main()
