"""The perception classifiers `codec score` runs (issue 19): MNIST digits, FSDD spoken digits and
CIFAR-10, each a small all-convolutional network trained here on the training split only.

One architecture for all three, so that one Swift type (Perception's `ConvClassifier`) runs them:
3x3 convolutions (padding 1, stride 1 or 2), each followed by batch norm and ReLU, then a global
average over space and one linear layer. The export folds every batch norm into its convolution
(eval mode: an affine map per channel), so the Swift side sees convolutions with a bias only.

Spoken digits go in as a log-mel spectrogram, treated as a one-channel image (mels x frames). The
features are computed here by `log_mel` and in Swift by Perception's `LogMel` with the same
definition (one second at 8 kHz, zero-padded or cut at the end; 256-sample periodic-Hann frames
every 80 samples, no centering; power spectrum; 32 triangular HTK-mel filters over 0-4 kHz;
natural log of mel + 1e-6, minus its mean over the whole spectrogram, which makes it
gain-invariant). The golden file checks the two agree.

Splits (../shared/data/README.md): MNIST t10k images 0-7999 (7600-7999 held out for validation),
test 8000-9999; CIFAR-10 per class 0000-0799 (0760-0799 validation), test 0800-0999; FSDD
recording index 5-34 (32-34 validation), test 0-4. Nothing is selected on a test split: the model
exported is the last one of the run, and test accuracy is measured once, for the card.
"""
from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .paths import SHARED_DATA

MNIST = SHARED_DATA / "perception" / "mnist"
CIFAR = SHARED_DATA / "perception" / "cifar10"
FSDD = SHARED_DATA / "audio" / "speech" / "fsdd"

# Log-mel definition, shared with Swift (Perception/LogMel.swift) through codec.json.
MEL = {"sample_rate": 8000, "samples": 8000, "fft": 256, "hop": 80, "mels": 32, "floor": 1e-6}


@dataclass(frozen=True)
class Spec:
    model_id: str
    task: str
    channels: int  # input channels
    widths: tuple[int, ...]
    strides: tuple[int, ...]
    classes: tuple[str, ...]


DIGITS = tuple(str(d) for d in range(10))
CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
SPECS = {
    "classifier-mnist": Spec("classifier-mnist", "digits-image", 1, (16, 32, 32, 64, 64), (1, 2, 1, 2, 1), DIGITS),
    "classifier-fsdd": Spec("classifier-fsdd", "digits-speech", 1, (16, 32, 32, 64, 64), (2, 1, 2, 1, 2), DIGITS),
    "classifier-cifar10": Spec("classifier-cifar10", "cifar10", 3, (24, 32, 48, 64, 96), (1, 2, 2, 1, 2),
                               CIFAR_CLASSES),
}


class ConvClassifier(nn.Module):
    def __init__(self, spec: Spec):
        super().__init__()
        layers, c = [], spec.channels
        for w, s in zip(spec.widths, spec.strides):
            layers.append(nn.Sequential(nn.Conv2d(c, w, 3, s, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU()))
            c = w
        self.blocks = nn.ModuleList(layers)
        self.head = nn.Linear(c, len(spec.classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for b in self.blocks:
            x = b(x)
        return self.head(x.mean(dim=(2, 3)))


class FoldedClassifier(nn.Module):
    """The exported form: batch norm folded into each convolution (what Swift runs)."""

    def __init__(self, trained: ConvClassifier, spec: Spec):
        super().__init__()
        convs = []
        for b, s in zip(trained.blocks, spec.strides):
            conv, bn = b[0], b[1]
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            c = nn.Conv2d(conv.in_channels, conv.out_channels, 3, s, 1, bias=True)
            c.weight.data = conv.weight.data * scale[:, None, None, None]
            c.bias.data = bn.bias.data - bn.running_mean * scale
            convs.append(c)
        self.blocks = nn.ModuleList(convs)
        self.head = nn.Linear(trained.head.in_features, trained.head.out_features)
        self.head.load_state_dict(trained.head.state_dict())

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for c in self.blocks:
            x = torch.relu(c(x))
            out.append(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)[-1].mean(dim=(2, 3)))


# ---------------------------------------------------------------- data

def mnist(split: str) -> tuple[np.ndarray, np.ndarray]:
    """(images float32 [n,1,28,28] in [0,1], labels) of 'train' (0-7599), 'val' (7600-7999) or
    'test' (8000-9999)."""
    with gzip.open(MNIST / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(MNIST / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    r = {"train": slice(0, 7600), "val": slice(7600, 8000), "test": slice(8000, 10000)}[split]
    return images[r].astype(np.float32) / 255.0, labels[r].astype(np.int64)


def cifar(split: str) -> tuple[np.ndarray, np.ndarray]:
    """(images float32 [n,3,32,32] in [0,1], labels): per class 0000-0759 'train', 0760-0799 'val',
    0800-0999 'test'."""
    from PIL import Image

    r = {"train": range(0, 760), "val": range(760, 800), "test": range(800, 1000)}[split]
    xs, ys = [], []
    for label, name in enumerate(CIFAR_CLASSES):
        for i in r:
            with Image.open(CIFAR / name / f"{i:04d}.png") as im:
                xs.append(np.asarray(im.convert("RGB"), dtype=np.float32).transpose(2, 0, 1) / 255.0)
            ys.append(label)
    return np.stack(xs), np.array(ys, dtype=np.int64)


def fsdd_files(split: str) -> list[Path]:
    """'train': recording index 5-31, 'val': 32-34, 'test': 0-4 (the data README allows training on
    5-34 only)."""
    lo, hi = {"train": (5, 31), "val": (32, 34), "test": (0, 4)}[split]
    out = []
    for p in sorted(FSDD.glob("*.flac")):
        m = re.fullmatch(r"(\d)_[a-z]+_(\d+)", p.stem)
        if m and lo <= int(m.group(2)) <= hi:
            out.append(p)
    return out


def fsdd_waves(split: str) -> tuple[list[np.ndarray], np.ndarray]:
    import soundfile as sf

    waves, labels = [], []
    for p in fsdd_files(split):
        x, rate = sf.read(str(p), dtype="float32", always_2d=True)
        assert rate == MEL["sample_rate"], p
        waves.append(x.mean(axis=1))
        labels.append(int(p.name[0]))
    return waves, np.array(labels, dtype=np.int64)


def fit_length(x: np.ndarray, n: int = MEL["samples"]) -> np.ndarray:
    """The first `n` samples, zero-padded at the end."""
    out = np.zeros(n, dtype=np.float64)
    m = min(n, len(x))
    out[:m] = x[:m]
    return out


def hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filters() -> np.ndarray:
    """[mels, fft/2+1] triangles, peak 1, edges equally spaced in HTK mel over 0..rate/2."""
    bins = MEL["fft"] // 2 + 1
    freqs = np.arange(bins) * MEL["sample_rate"] / MEL["fft"]
    edges = mel_to_hz(np.linspace(0.0, hz_to_mel(MEL["sample_rate"] / 2), MEL["mels"] + 2))
    fb = np.zeros((MEL["mels"], bins))
    for m in range(MEL["mels"]):
        lo, c, hi = edges[m], edges[m + 1], edges[m + 2]
        fb[m] = np.maximum(0.0, np.minimum((freqs - lo) / (c - lo), (hi - freqs) / (hi - c)))
    return fb


_FB = None


def log_mel(x: np.ndarray) -> np.ndarray:
    """float32 [1, mels, frames] of one mono 8 kHz clip (see the module doc)."""
    global _FB
    if _FB is None:
        _FB = mel_filters()
    x = fit_length(x)
    n, hop = MEL["fft"], MEL["hop"]
    frames = 1 + (len(x) - n) // hop
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)
    idx = np.arange(n)[None, :] + hop * np.arange(frames)[:, None]
    spec = np.abs(np.fft.rfft(x[idx] * window, axis=1)) ** 2  # [frames, bins]
    mel = np.log(spec @ _FB.T + MEL["floor"]).T  # [mels, frames]
    return (mel - mel.mean()).astype(np.float32)[None]


# ---------------------------------------------------------------- augmentation

def shift_images(x: np.ndarray, rng: np.random.Generator, pad: int, flip: bool) -> np.ndarray:
    """Random translations by up to `pad` pixels (zero fill), and horizontal flips when `flip`."""
    n, c, h, w = x.shape
    padded = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=x.dtype)
    padded[:, :, pad:pad + h, pad:pad + w] = x
    out = np.empty_like(x)
    dy, dx = rng.integers(0, 2 * pad + 1, n), rng.integers(0, 2 * pad + 1, n)
    for i in range(n):
        out[i] = padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
        if flip and rng.random() < 0.5:
            out[i] = out[i, :, :, ::-1]
    return out


def shift_wave(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random start offset of up to 0.1 s either way (silence fill) and a gain of 0.5-2."""
    s = int(rng.integers(-800, 801))
    y = np.concatenate([np.zeros(s), x]) if s > 0 else x[-s:]
    return y * float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
