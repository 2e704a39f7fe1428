"""WaLLoC in PyTorch: wavelet packets, a linear encoder, 8-bit companding, a convolutional decoder.

After Jacobellis & Yadwadkar, "Learned Compression for Compressed Learning" (DCC 2025). The
Swift runtime (Sources/WaLLoC) runs the same computation from the exported weights; the names of
the parameters here are the names it reads.

  X = WPT_J(x)                 wavelet packets: C*4^J channels (images) or C*2^J (audio)
  z = W X + b                  the encoder: one 1x1 linear map
  y = M erf(z / (s sqrt 2))    companding = 2M(Phi(z/s) - 1/2), s = 127/1.85, M = 127.499
  q = round(y)                 8-bit latents, integers in [-127, 127] (uniform noise in training)
  z^ = s sqrt 2 erfinv(q / M)  the decoder's first step inverts the companding
  x^ = clamp(WPT_J^-1(D(z^)))  D: residual conv blocks at the latent resolution
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import wavelets

COMPAND_SCALE = 127.0 / 1.85
COMPAND_MAX = 127.499
LATENT_MAX = 127  # |q| <= 127 since |y| < 127.499
# Upper bounds (exclusive) of the latent coder's context buckets: LatentCoder.bucketBounds.
CONTEXT_BOUNDS = [1, 2, 3, 4, 6, 8, 11, 15, 20, 27, 36, 48, 64]


@dataclass
class WaLLoCConfig:
    kind: str  # "image" or "audio"
    channels: int  # signal channels: 3 (RGB) or 2 (stereo)
    levels: int  # J
    latent: int  # latent channels
    width: int  # decoder width
    blocks: int  # residual blocks in the decoder
    groups: int = 8  # GroupNorm groups
    kernel: int = 3  # decoder kernel (3x3 images, 3 taps audio... see recipe)
    sample_rate: int = 0  # audio models only

    @property
    def bands(self) -> int:
        return self.channels * (4 if self.kind == "image" else 2) ** self.levels

    @property
    def stride(self) -> int:
        return 2 ** self.levels

    def to_json(self) -> dict:
        return asdict(self)


def compand(z: torch.Tensor) -> torch.Tensor:
    return COMPAND_MAX * torch.erf(z / (COMPAND_SCALE * math.sqrt(2.0)))


def expand(q: torch.Tensor) -> torch.Tensor:
    """Inverse companding; `q` is clamped just inside (-M, M) so that noise cannot leave it."""
    limit = COMPAND_MAX - 1e-2
    return COMPAND_SCALE * math.sqrt(2.0) * torch.erfinv(q.clamp(-limit, limit) / COMPAND_MAX)


class ResBlock(nn.Module):
    def __init__(self, cfg: WaLLoCConfig):
        super().__init__()
        conv = nn.Conv2d if cfg.kind == "image" else nn.Conv1d
        n, k = cfg.width, cfg.kernel
        self.norm1 = nn.GroupNorm(cfg.groups, n)
        self.conv1 = conv(n, n, k, padding=k // 2)
        self.norm2 = nn.GroupNorm(cfg.groups, n)
        self.conv2 = conv(n, n, k, padding=k // 2)

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        return x + self.conv2(F.silu(self.norm2(h)))


class Decoder(nn.Module):
    """Residual conv blocks at the latent resolution, out to the wavelet channels, plus a linear
    1x1 path from the latents (the part a linear decoder would get right from the first step)."""

    def __init__(self, cfg: WaLLoCConfig):
        super().__init__()
        conv = nn.Conv2d if cfg.kind == "image" else nn.Conv1d
        k = cfg.kernel
        self.conv_in = conv(cfg.latent, cfg.width, k, padding=k // 2)
        self.blocks = nn.ModuleList(ResBlock(cfg) for _ in range(cfg.blocks))
        self.norm_out = nn.GroupNorm(cfg.groups, cfg.width)
        self.conv_out = conv(cfg.width, cfg.bands, k, padding=k // 2)
        self.skip = conv(cfg.latent, cfg.bands, 1)

    def forward(self, z):
        h = self.conv_in(z)
        for b in self.blocks:
            h = b(h)
        return self.conv_out(F.silu(self.norm_out(h))) + self.skip(z)


class WaLLoC(nn.Module):
    def __init__(self, cfg: WaLLoCConfig):
        super().__init__()
        self.cfg = cfg
        conv = nn.Conv2d if cfg.kind == "image" else nn.Conv1d
        self.encoder = conv(cfg.bands, cfg.latent, 1)
        self.decoder = Decoder(cfg)
        # The training-time rate model mirrors the codec's latent coder (Sources/WaLLoC/
        # LatentCoder.swift): a logistic per latent channel and context bucket, the bucket taken
        # from the rounded magnitudes of the already-coded neighbours. The codec codes with
        # integer tables counted on training latents at export instead of these logistics.
        self.prior_mean = nn.Parameter(torch.zeros(cfg.latent))
        self.prior_log_scale = nn.Parameter(torch.full((cfg.latent, len(CONTEXT_BOUNDS) + 1), math.log(4.0)))

    def analysis(self, x):
        return wavelets.packet_2d(x, self.cfg.levels) if self.cfg.kind == "image" else wavelets.packet_1d(x, self.cfg.levels)

    def synthesis(self, X):
        return wavelets.inverse_packet_2d(X, self.cfg.levels) if self.cfg.kind == "image" else wavelets.inverse_packet_1d(X, self.cfg.levels)

    def encode(self, x) -> torch.Tensor:
        """x in [-0.5, 0.5] -> companded latents y (float, not yet rounded)."""
        return compand(self.encoder(self.analysis(x)))

    def decode(self, q) -> torch.Tensor:
        return self.synthesis(self.decoder(expand(q))).clamp(-0.5, 0.5)

    def decode_unclamped(self, q) -> torch.Tensor:
        return self.synthesis(self.decoder(expand(q)))

    def contexts(self, q) -> torch.Tensor:
        """Context bucket of every latent: |left| + |top| (images) or |q[t-1]| + |q[t-2]|
        (audio) of the rounded latents of its channel, bucketed as LatentCoder does."""
        a = torch.round(q.detach()).abs()
        m = torch.zeros_like(a)
        if self.cfg.kind == "image":
            m[..., :, 1:] += a[..., :, :-1]
            m[..., 1:, :] += a[..., :-1, :]
        else:
            m[..., 1:] += a[..., :-1]
            m[..., 2:] += a[..., :-2]
        bounds = torch.tensor(CONTEXT_BOUNDS, dtype=m.dtype, device=m.device)
        return torch.bucketize(m.clamp_max(254), bounds, right=True)

    def bits(self, q) -> torch.Tensor:
        """-log2 p(q) under the context logistics, with q noisy (training) or integer."""
        shape = [1, -1] + [1] * (q.dim() - 2)
        mu = self.prior_mean.view(shape)
        ctx = self.contexts(q)
        channel = torch.arange(self.cfg.latent, device=q.device).view(shape).expand_as(ctx)
        inv = torch.exp(-self.prior_log_scale[channel, ctx])
        upper = torch.sigmoid((q - mu + 0.5) * inv)
        lower = torch.sigmoid((q - mu - 0.5) * inv)
        return -torch.log2((upper - lower).clamp_min(1e-9))

    def forward(self, x):
        """Training pass: (reconstruction before clamping, noisy latents)."""
        y = self.encode(x)
        q = y + torch.rand_like(y) - 0.5
        return self.decode_unclamped(q), q
