"""Recipe for grvq-16k, the GRVQ speech codec (issue 20; Training/neuralcodecs/grvq.py).

  python3 Training/recipes/grvq.py train  --budget 7200 --threads 1      # Training/runs/grvq-16k
  python3 Training/recipes/grvq.py export [--export-id ID | --replace]    # Training/exports/ID/grvq-16k/

A smoke run (a few steps, a checkpoint, an export to a scratch id), apart from the real run:
  python3 Training/recipes/grvq.py train --budget 30 --threads 1 --checkpoint-seconds 15 \
      --run-dir Training/runs/smoke/grvq-16k --fresh
  python3 Training/recipes/grvq.py export --run-dir Training/runs/smoke/grvq-16k --export-id smoke

Data (../shared/data/README.md): audio/speech librispeech/train, train-extra, LJSpeech and FSDD
recordings 5-34, mixed to mono and resampled to 16 kHz (scipy's polyphase resampler); the last
VAL_FILES train-extra utterances by name are held out for the validation figures, which choose
nothing but the logged numbers. librispeech/test-other (the evaluation set) is never read.

Stage 1 (this recipe): multi-resolution log-mel L1 plus multi-resolution STFT loss (spectral
convergence and log magnitude) plus the VQ commitment loss, quantizer dropout over 1 to 3 levels.
The adversarial stage (multi-period and multi-scale discriminators with feature matching) is not
part of it yet: on 2 cores the generator alone sees little more than two passes over the data in
two hours.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from neuralcodecs import media_data  # noqa: E402
from neuralcodecs.export import add_export_args  # noqa: E402
from neuralcodecs.grvq import SAMPLE_RATE, GRVQCodec, GRVQConfig  # noqa: E402
from neuralcodecs.paths import RUNS  # noqa: E402
from neuralcodecs.train import TrainConfig, device, fit  # noqa: E402

MODEL_ID = "grvq-16k"
SEGMENT = 8000  # 0.5 s: 25 frames
BATCH = 8
VAL_FILES = 8
COMMIT_WEIGHT = 0.25
# (n_fft, mel bins): hop n_fft/4, Hann window
RESOLUTIONS = [(256, 40), (512, 64), (1024, 80)]


# ---------------------------------------------------------------- data

def speech_files() -> tuple[list[Path], list[Path]]:
    """(training files, held-out validation files), all from training sets."""
    speech = media_data.AUDIO / "speech"
    extra = sorted((speech / "train-extra").rglob("*.flac"))
    val = extra[-VAL_FILES:]
    train = [p for p in media_data.audio_train_files("speech")] + extra[:-VAL_FILES]
    for p in train + val:
        if "test-other" in p.parts:
            raise SystemExit(f"evaluation file in the training list: {p}")
    return train, val


def load_16k(path: Path) -> np.ndarray:
    """A file as mono float32 at 16 kHz."""
    import soundfile
    from scipy.signal import resample_poly
    x, sr = soundfile.read(str(path), dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    if sr != SAMPLE_RATE:
        g = math.gcd(sr, SAMPLE_RATE)
        x = resample_poly(x, SAMPLE_RATE // g, sr // g).astype(np.float32)
    return x


class SpeechSegments:
    """Every file held in memory at 16 kHz; random SEGMENT-long pieces (zero-padded when a file is
    shorter, as FSDD digits are), with a random gain of -6 to +3 dB, clipped to [-1, 1]."""

    def __init__(self, files: list[Path]):
        self.clips = [load_16k(f) for f in files]
        self.clips = [c for c in self.clips if len(c) > 0]
        self.samples = sum(len(c) for c in self.clips)
        # Longer files are drawn more often: each sample of speech about equally likely.
        lengths = np.array([max(len(c), SEGMENT) for c in self.clips], dtype=np.float64)
        self.p = lengths / lengths.sum()

    def batch(self, rng: np.random.Generator, count: int, gain: bool = True) -> torch.Tensor:
        out = np.zeros((count, 1, SEGMENT), dtype=np.float32)
        for i in range(count):
            c = self.clips[rng.choice(len(self.clips), p=self.p)]
            if len(c) <= SEGMENT:
                s = int(rng.integers(SEGMENT - len(c) + 1))
                out[i, 0, s:s + len(c)] = c
            else:
                s = int(rng.integers(len(c) - SEGMENT + 1))
                out[i, 0] = c[s:s + SEGMENT]
            if gain:
                out[i] *= 10 ** (rng.uniform(-6, 3) / 20)
        return torch.from_numpy(np.clip(out, -1, 1))


# ---------------------------------------------------------------- losses

_mel_cache: dict = {}


def mel_basis(n_fft: int, mels: int, dev) -> torch.Tensor:
    """Slaney-style triangular mel filters [mels, n_fft/2+1] (HTK mel scale), 0 to 8 kHz."""
    key = (n_fft, mels, str(dev))
    if key not in _mel_cache:
        hz = lambda m: 700 * (10 ** (m / 2595) - 1)  # noqa: E731
        mel = lambda f: 2595 * math.log10(1 + f / 700)  # noqa: E731
        pts = torch.tensor([hz(m) for m in np.linspace(mel(0), mel(SAMPLE_RATE / 2), mels + 2)])
        freqs = torch.linspace(0, SAMPLE_RATE / 2, n_fft // 2 + 1)
        lo, mid, hi = pts[:-2, None], pts[1:-1, None], pts[2:, None]
        fb = torch.clamp(torch.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), min=0)
        _mel_cache[key] = (fb * (2 / (hi - lo))).float().to(dev)
    return _mel_cache[key]


def spectrum(x: torch.Tensor, n_fft: int) -> torch.Tensor:
    win = torch.hann_window(n_fft, device=x.device)
    return torch.stft(x.reshape(-1, x.shape[-1]), n_fft, n_fft // 4, window=win, return_complex=True).abs()


def spectral_losses(y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(multi-resolution log-mel L1, multi-resolution STFT loss) between output y and target x."""
    mel_l, stft_l = 0.0, 0.0
    for n_fft, mels in RESOLUTIONS:
        sy, sx = spectrum(y, n_fft), spectrum(x, n_fft)
        fb = mel_basis(n_fft, mels, x.device)
        mel_l = mel_l + F.l1_loss(torch.log(fb @ sy + 1e-5), torch.log(fb @ sx + 1e-5))
        sc = torch.linalg.norm(sy - sx) / (torch.linalg.norm(sx) + 1e-7)
        stft_l = stft_l + sc + F.l1_loss(torch.log(sy + 1e-5), torch.log(sx + 1e-5))
    return mel_l / len(RESOLUTIONS), stft_l / len(RESOLUTIONS)


def loss_fn(model: GRVQCodec, x: torch.Tensor) -> torch.Tensor:
    # Quantizer dropout: half the examples at the full count of levels, the rest at 1 to levels.
    n, top = x.shape[0], model.cfg.levels
    levels = torch.where(torch.rand(n) < 0.5, torch.full((n,), top), torch.randint(1, top + 1, (n,))).to(x.device)
    y, _, commit = model(x, levels)
    mel, stft = spectral_losses(y, x)
    model.last = (mel.item(), stft.item(), commit.item())
    return mel + stft + COMMIT_WEIGHT * commit


def evaluate_fn(val: torch.Tensor):
    def evaluate(model: GRVQCodec) -> dict:
        out = {}
        model.eval()
        with torch.no_grad():
            for levels in range(1, model.cfg.levels + 1):
                mel, snr = 0.0, 0.0
                for i in range(0, len(val), 8):
                    x = val[i:i + 8]
                    y = model.decode(model.encode(x, levels))
                    mel += spectral_losses(y, x)[0].item() * len(x)
                    snr += (10 * torch.log10((x ** 2).sum((1, 2)) / ((x - y) ** 2).sum((1, 2)).clamp_min(1e-12))).sum().item()
                out[f"mel{levels}"] = round(mel / len(val), 4)
                out[f"snr{levels}"] = round(snr / len(val), 2)
        model.train()
        return out
    return evaluate


# ---------------------------------------------------------------- commands

def run_dir_of(args) -> Path:
    return Path(args.run_dir).resolve() if args.run_dir else RUNS / MODEL_ID


def train(args) -> None:
    torch.set_num_threads(args.threads)
    cfg = GRVQConfig()
    model = GRVQCodec(cfg)
    train_files, val_files = speech_files()
    print(f"loading {len(train_files)} training files at 16 kHz ...", flush=True)
    data = SpeechSegments(train_files)
    val = SpeechSegments(val_files).batch(np.random.default_rng(7), 32, gain=False)
    dev = device()
    run_dir = run_dir_of(args)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "sources.json").write_text(json.dumps(
        {"train": [str(f) for f in train_files], "validation": [str(f) for f in val_files],
         "train_seconds_of_audio": data.samples / SAMPLE_RATE}, indent=1))
    print(f"{data.samples / SAMPLE_RATE / 60:.1f} min of training speech", flush=True)
    tc = TrainConfig(run_dir=str(run_dir), budget_seconds=args.budget, peak_lr=args.lr, threads=args.threads,
                     checkpoint_seconds=args.checkpoint_seconds, warmup_steps=100, weight_decay=0.0,
                     log_every_steps=10, budget_hint=args.budget_hint)
    fit(model, tc, loss_fn, lambda rng: data.batch(rng, args.batch).to(dev), args.batch * SEGMENT,
        evaluate_fn(val.to(dev)), extra={"model_id": MODEL_ID, "config": cfg.to_json()}, resume=not args.fresh)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--budget", type=float, default=7200.0, help="wall-clock seconds (default 7200)")
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--batch", type=int, default=BATCH)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--checkpoint-seconds", type=float, default=180.0)
    t.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    t.add_argument("--budget-hint", default="--budget")
    e = sub.add_parser("export")
    e.add_argument("--checkpoint", default="latest", choices=["latest", "best"])
    add_export_args(e, MODEL_ID)
    for q in (t, e):
        q.add_argument("--run-dir", help=f"the run folder (default Training/runs/{MODEL_ID})")
    args = p.parse_args()
    if args.cmd == "train":
        train(args)
    else:
        from grvq_export import export  # noqa: E402  (Training/recipes/grvq_export.py)
        export(args)


if __name__ == "__main__":
    main()
