"""The GRVQ speech codec in PyTorch: a strided convolutional encoder, group-residual vector
quantization, a HiFi-GAN style decoder.

After Yang et al., "HiFi-Codec: Group-residual Vector quantization for High Fidelity Audio Codec"
(2023), sized for a 2-core CPU. The Swift runtime is meant to run the same computation from the
exported weights; the parameter names here are the names it reads, and every layer is one that
Sources/Neural has (Conv1d with stride/dilation/zero padding, ConvTranspose1d, LeakyReLU).

  x [N, 1, T]     16 kHz mono, T a multiple of HOP = 320 (the codec pads and crops)
  z = E(x)        [N, D, T/320]: 50 frames per second
  z = [z_1; z_2]  two groups of D/2 channels
  q_g = RVQ_g(z_g, levels)   residual VQ per group: level l quantizes what the levels before it left
  x^ = G(q)       the decoder: transposed convolutions up to 16 kHz with multi-receptive-field blocks

Bitrate: 2 groups x levels x 10 bits x 50 frames/s: 1 kbit/s per level (before entropy coding).
The codebooks differ from the published ones (which learn by gradient alone): they follow an
exponential moving average of their assigned vectors, start from k-means of the first batch, and
codes that fall out of use are reset to random recent encoder outputs. Quantizer dropout (a random
number of levels per example) makes one model serve 1, 2 and 3 kbit/s.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

SAMPLE_RATE = 16000
SLOPE = 0.1  # LeakyReLU slope everywhere (Swift: Activation.leakyReLU(slope: 0.1))


@dataclass
class GRVQConfig:
    patch: int = 8  # the encoder's first strided convolution and the decoder's last transposed one
    strides: list[int] = field(default_factory=lambda: [5, 8])  # after the patch; patch x strides = the hop, 320
    enc_channels: int = 48  # encoder width after the patch; doubles at every downsampling
    latent: int = 256  # D; two groups of D/2
    groups: int = 2
    levels: int = 3  # residual levels per group at the highest rate
    codes: int = 1024
    dec_channels: int = 192  # decoder width at 50 Hz; halves at every upsampling
    mrf_kernels: list[int] = field(default_factory=lambda: [3, 7])
    mrf_dilations: list[int] = field(default_factory=lambda: [1, 3])

    @property
    def hop(self) -> int:
        h = self.patch
        for s in self.strides:
            h *= s
        return h

    def to_json(self) -> dict:
        return asdict(self)


def down_padding(stride: int) -> int:
    """Padding of a kernel-2s, stride-s convolution so that length L (a multiple of s) maps to L/s."""
    return (stride + 1) // 2


def up_padding(stride: int) -> tuple[int, int]:
    """(padding, output_padding) of a kernel-2u, stride-u transposed convolution: L -> L*u."""
    return (stride + 1) // 2, stride % 2


class ResUnit(nn.Module):
    """x + conv1x1(act(conv_k,dilated(act(x)))): the encoder's residual unit."""

    def __init__(self, ch: int, dilation: int):
        super().__init__()
        self.conv1 = nn.Conv1d(ch, ch, 7, dilation=dilation, padding=3 * dilation)
        self.conv2 = nn.Conv1d(ch, ch, 1)

    def forward(self, x):
        return x + self.conv2(F.leaky_relu(self.conv1(F.leaky_relu(x, SLOPE)), SLOPE))


class Encoder(nn.Module):
    def __init__(self, cfg: GRVQConfig):
        super().__init__()
        c = cfg.enc_channels
        self.stem = nn.Conv1d(1, c, 2 * cfg.patch, stride=cfg.patch, padding=down_padding(cfg.patch))
        self.blocks = nn.ModuleList()
        for s in cfg.strides:
            self.blocks.append(nn.ModuleDict({
                "res1": ResUnit(c, 1), "res2": ResUnit(c, 3),
                "down": nn.Conv1d(c, 2 * c, 2 * s, stride=s, padding=down_padding(s)),
            }))
            c *= 2
        self.out = nn.Conv1d(c, cfg.latent, 3, padding=1)

    def forward(self, x):
        h = self.stem(x)
        for b in self.blocks:
            h = b["down"](F.leaky_relu(b["res2"](b["res1"](h)), SLOPE))
        return self.out(F.leaky_relu(h, SLOPE))


class MRF(nn.Module):
    """HiFi-GAN's multi-receptive-field fusion: the mean of residual stacks with different kernels."""

    def __init__(self, ch: int, kernels: list[int], dilations: list[int]):
        super().__init__()
        self.stacks = nn.ModuleList()
        for k in kernels:
            self.stacks.append(nn.ModuleList([
                nn.ModuleDict({"conv1": nn.Conv1d(ch, ch, k, dilation=d, padding=d * (k - 1) // 2),
                               "conv2": nn.Conv1d(ch, ch, k, padding=(k - 1) // 2)})
                for d in dilations]))

    def forward(self, x):
        out = 0
        for stack in self.stacks:
            h = x
            for u in stack:
                h = h + u["conv2"](F.leaky_relu(u["conv1"](F.leaky_relu(h, SLOPE)), SLOPE))
            out = out + h
        return out / len(self.stacks)


class Decoder(nn.Module):
    def __init__(self, cfg: GRVQConfig):
        super().__init__()
        c = cfg.dec_channels
        self.stem = nn.Conv1d(cfg.latent, c, 7, padding=3)
        self.blocks = nn.ModuleList()
        for u in reversed(cfg.strides):
            p, op = up_padding(u)
            self.blocks.append(nn.ModuleDict({
                "up": nn.ConvTranspose1d(c, c // 2, 2 * u, stride=u, padding=p, output_padding=op),
                "mrf": MRF(c // 2, cfg.mrf_kernels, cfg.mrf_dilations),
            }))
            c //= 2
        p, op = up_padding(cfg.patch)
        self.out = nn.ConvTranspose1d(c, 1, 2 * cfg.patch, stride=cfg.patch, padding=p, output_padding=op)

    def forward(self, q):
        h = self.stem(q)
        for b in self.blocks:
            h = b["mrf"](b["up"](F.leaky_relu(h, SLOPE)))
        return torch.tanh(self.out(F.leaky_relu(h, SLOPE)))


class Codebook(nn.Module):
    """One VQ codebook with EMA updates, k-means start and dead-code reset. `embed` is what the
    Swift side reads; the EMA statistics are training state only (dropped at export)."""

    def __init__(self, codes: int, dim: int, decay: float = 0.99, dead_after: int = 50):
        super().__init__()
        self.decay, self.dead_after = decay, dead_after
        self.register_buffer("embed", torch.randn(codes, dim) * 0.1)
        self.register_buffer("ema_count", torch.ones(codes))
        self.register_buffer("ema_sum", self.embed.clone())
        self.register_buffer("idle", torch.zeros(codes, dtype=torch.long))  # steps since last chosen
        self.register_buffer("ready", torch.tensor(False))

    @torch.no_grad()
    def _kmeans_start(self, x: torch.Tensor, iters: int = 8) -> None:
        codes = self.embed.shape[0]
        g = torch.Generator(device="cpu").manual_seed(0)
        pick = torch.randint(len(x), (codes,), generator=g).to(x.device)
        # A batch may hold fewer vectors than codes: duplicates start apart by a little noise.
        c = x[pick] + 1e-3 * x.std() * torch.randn(codes, x.shape[1], generator=g).to(x.device)
        for _ in range(iters):
            a = torch.cdist(x, c).argmin(1)
            n = torch.bincount(a, minlength=codes).float()
            s = torch.zeros_like(c).index_add_(0, a, x)
            used = n > 0
            c[used] = s[used] / n[used, None]
        self.embed.copy_(c)
        self.ema_count.fill_(float(len(x)) / codes)
        self.ema_sum.copy_(c * self.ema_count[:, None])
        self.ready.fill_(True)

    def nearest(self, x: torch.Tensor) -> torch.Tensor:
        """Index of the nearest code (squared L2) for each row of x [M, dim]."""
        d = (x * x).sum(1, keepdim=True) - 2 * x @ self.embed.t() + (self.embed * self.embed).sum(1)[None]
        return d.argmin(1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x [M, dim] -> (quantized [M, dim], indices [M]); EMA-updates itself in training."""
        if self.training and not bool(self.ready):
            self._kmeans_start(x.detach())
        idx = self.nearest(x.detach())
        q = self.embed[idx]
        if self.training:
            with torch.no_grad():
                codes = self.embed.shape[0]
                onehot_n = torch.bincount(idx, minlength=codes).float()
                s = torch.zeros_like(self.embed).index_add_(0, idx, x.detach())
                self.ema_count.mul_(self.decay).add_(onehot_n, alpha=1 - self.decay)
                self.ema_sum.mul_(self.decay).add_(s, alpha=1 - self.decay)
                n = self.ema_count.sum()
                count = (self.ema_count + 1e-5) / (n + codes * 1e-5) * n  # Laplace-smoothed
                self.embed.copy_(self.ema_sum / count[:, None])
                self.idle.add_(1)
                self.idle[idx] = 0
                # Codes no input chose for `dead_after` steps restart at random current inputs.
                dead = self.idle > self.dead_after
                if bool(dead.any()):
                    k = int(dead.sum())
                    pick = torch.randint(len(x), (k,), device=x.device)
                    fresh = x.detach()[pick]
                    self.embed[dead] = fresh
                    self.ema_count[dead] = float(len(x)) / codes
                    self.ema_sum[dead] = fresh * self.ema_count[dead, None]
                    self.idle[dead] = 0
        return q, idx


class GRVQ(nn.Module):
    """Group-residual VQ: `groups` groups of channels, each a residual stack of `levels` codebooks."""

    def __init__(self, cfg: GRVQConfig):
        super().__init__()
        self.cfg = cfg
        dim = cfg.latent // cfg.groups
        self.codebooks = nn.ModuleList([nn.ModuleList([Codebook(cfg.codes, dim) for _ in range(cfg.levels)])
                                        for _ in range(cfg.groups)])

    def forward(self, z: torch.Tensor, levels: torch.Tensor | int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """z [N, D, F] -> (quantized z with straight-through gradient, indices [N, groups, levels, F],
        commitment loss). `levels`: one int for all, or [N] per example (quantizer dropout):
        levels past an example's count contribute nothing to it."""
        n, d, f = z.shape
        cfg = self.cfg
        dim = d // cfg.groups
        if isinstance(levels, int):
            levels = torch.full((n,), levels, device=z.device)
        out = torch.zeros_like(z)
        indices = torch.zeros(n, cfg.groups, cfg.levels, f, dtype=torch.long, device=z.device)
        commit = z.new_zeros(())
        for g, books in enumerate(self.codebooks):
            zg = z[:, g * dim:(g + 1) * dim].permute(0, 2, 1)  # [N, F, dim]
            residual = zg
            acc = torch.zeros_like(zg)
            for l, book in enumerate(books):
                keep = (levels > l)
                if not bool(keep.any()):
                    break
                r = residual[keep].reshape(-1, dim)
                q, idx = book(r)
                q = q.reshape(-1, f, dim)
                commit = commit + F.mse_loss(r.reshape(-1, f, dim), q.detach()) * keep.float().mean()
                step = torch.zeros_like(zg)
                step[keep] = q
                acc = acc + step
                residual = residual - step
                indices[keep, g, l] = idx.reshape(-1, f)
            out[:, g * dim:(g + 1) * dim] = acc.permute(0, 2, 1)
        return z + (out - z).detach(), indices, commit

    def lookup(self, indices: torch.Tensor, levels: int) -> torch.Tensor:
        """indices [N, groups, >=levels, F] -> the quantized latent [N, D, F] from the first `levels`."""
        parts = []
        for g, books in enumerate(self.codebooks):
            acc = 0
            for l in range(levels):
                acc = acc + books[l].embed[indices[:, g, l]]  # [N, F, dim]
            parts.append(acc.permute(0, 2, 1))
        return torch.cat(parts, 1)


class GRVQCodec(nn.Module):
    def __init__(self, cfg: GRVQConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.quantizer = GRVQ(cfg)
        self.decoder = Decoder(cfg)

    def forward(self, x: torch.Tensor, levels):
        z = self.encoder(x)
        q, idx, commit = self.quantizer(z, levels)
        return self.decoder(q), idx, commit

    @torch.no_grad()
    def encode(self, x: torch.Tensor, levels: int) -> torch.Tensor:
        return self.quantizer(self.encoder(x), levels)[1][:, :, :levels]

    @torch.no_grad()
    def decode(self, indices: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.quantizer.lookup(indices, indices.shape[2]))
