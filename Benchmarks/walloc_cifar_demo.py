"""Compressed-domain learning with WaLLoC latents: the same small classifier trained on CIFAR-10
pixels and on `codec latents` of the same images, with the same wall-clock budget.

Data: ../shared/data/perception/cifar10, images 0000-0799 of each class to train (8,000) and
0800-0999 to test (2,000). The 32x32 images are upsampled to 64x64 (bicubic) before encoding, since
WaLLoC's latent grid is 1/8 of the image side: 12x8x8 latents for walloc-rgb-16x. The latents come
from the Swift codec (`codec latents`, uint8 with 128 meaning 0), exactly what a user gets.

Writes a section of Benchmarks/results/walloc.md (appended by `make bench-walloc-demo`).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
CIFAR = REPO.parent / "shared" / "data" / "perception" / "cifar10"
CODEC = REPO / ".build" / "release" / "codec"


def split() -> tuple[list[tuple[Path, int]], list[tuple[Path, int]]]:
    classes = sorted(p.name for p in CIFAR.iterdir() if p.is_dir())
    train, test = [], []
    for label, c in enumerate(classes):
        for f in sorted((CIFAR / c).glob("*.png")):
            (train if int(f.stem) < 800 else test).append((f, label))
    return train, test


def pixels(items) -> torch.Tensor:
    return torch.from_numpy(np.stack([np.asarray(Image.open(f).convert("RGB")) for f, _ in items])).permute(0, 3, 1, 2).float() / 255 - 0.5


def latents(items, model: str, tmp: Path) -> torch.Tensor:
    listing = tmp / "list.txt"
    names = []
    for i, (f, _) in enumerate(items):
        out = tmp / f"{i:05d}.png"
        Image.open(f).convert("RGB").resize((64, 64), Image.BICUBIC).save(out)
        names.append(str(out))
    listing.write_text("\n".join(names) + "\n")
    npy = tmp / "latents.npy"
    subprocess.run([str(CODEC), "latents", "--codec", model, "--from", str(listing), "-o", str(npy), "--force", "-q"], check=True)
    return (torch.from_numpy(np.load(npy).astype(np.float32)) - 128) / 64


class Net(nn.Module):
    """Three conv layers and a linear head; `stride` halves the first map for 32x32 pixels so that
    both versions see an 8x8 grid after the first layer and cost about the same."""

    def __init__(self, channels: int, stride: int):
        super().__init__()
        self.c1 = nn.Conv2d(channels, 96, 3, stride=stride, padding=1)
        self.c2 = nn.Conv2d(96, 96, 3, padding=1)
        self.c3 = nn.Conv2d(96, 192, 3, stride=2, padding=1)
        self.head = nn.Linear(192, 10)

    def forward(self, x):
        x = F.relu(self.c1(x))
        x = F.relu(self.c2(x))
        x = F.relu(self.c3(x))
        return self.head(x.mean(dim=(2, 3)))


def fit(x: torch.Tensor, y: torch.Tensor, xt: torch.Tensor, yt: torch.Tensor, stride: int, seconds: float) -> dict:
    torch.manual_seed(0)
    net = Net(x.shape[1], stride)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=5e-4)
    g = torch.Generator().manual_seed(0)
    start, steps = time.time(), 0
    while time.time() - start < seconds:
        idx = torch.randint(0, len(x), (128,), generator=g)
        xb = x[idx]
        if stride == 2 or x.shape[2] > 8:  # flips for pixels and latents alike
            xb = torch.where(torch.rand(len(xb), 1, 1, 1, generator=g) < 0.5, xb.flip(-1), xb)
        loss = F.cross_entropy(net(xb), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps += 1
    net.eval()
    with torch.no_grad():
        acc = (net(xt).argmax(1) == yt).float().mean().item()
    return {"accuracy": acc, "steps": steps, "seconds": time.time() - start}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", default="walloc-rgb-16x")
    p.add_argument("--seconds", type=float, default=150.0, help="training budget of each classifier")
    args = p.parse_args()
    torch.set_num_threads(1)
    train, test = split()
    y = torch.tensor([l for _, l in train])
    yt = torch.tensor([l for _, l in test])
    with tempfile.TemporaryDirectory() as t:
        t0 = time.time()
        lx = latents(train, args.model, Path(t))
        encode_train = time.time() - t0
    with tempfile.TemporaryDirectory() as t:
        lxt = latents(test, args.model, Path(t))
    px, pxt = pixels(train), pixels(test)
    on_pixels = fit(px, y, pxt, yt, stride=2, seconds=args.seconds)
    on_latents = fit(lx, y, lxt, yt, stride=1, seconds=args.seconds)
    lines = [
        "", "## Compressed-domain learning: CIFAR-10 on pixels and on WaLLoC latents", "",
        f"`Benchmarks/walloc_cifar_demo.py`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: 8,000 training "
        f"images (0000-0799 of each class), 2,000 test images (0800-0999); the same three-layer CNN, one PyTorch "
        f"thread, {args.seconds:.0f} s of training each. Latents: `codec latents --codec {args.model}` of the images "
        f"upsampled to 64x64 ({tuple(lx.shape[1:])} per image; encoding the 8,000 took {encode_train:.1f} s with PNG "
        "writing included).", "",
        "| input | values per image | test accuracy | steps | training s |", "|---|---|---|---|---|",
        f"| pixels 3x32x32 | {3 * 32 * 32} | {on_pixels['accuracy'] * 100:.1f}% | {on_pixels['steps']} | {on_pixels['seconds']:.0f} |",
        f"| latents {'x'.join(map(str, lx.shape[1:]))} | {lx[0].numel()} | {on_latents['accuracy'] * 100:.1f}% | "
        f"{on_latents['steps']} | {on_latents['seconds']:.0f} |",
    ]
    print("\n".join(lines))
    if os.environ.get("APPEND_TO"):
        with open(os.environ["APPEND_TO"], "a") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
