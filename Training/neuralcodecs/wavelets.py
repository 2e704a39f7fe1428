"""The wavelet packet transform WaLLoC runs on, in PyTorch; Sources/Wavelets is the Swift twin.

CDF 9/7 (the biorthogonal 4.4 pair of JPEG 2000) by lifting, with periodic extension
(periodization: n samples give n/2 low and n/2 high coefficients), scaled so that both bands keep
the signal's energy to within a few percent (low band DC gain sqrt 2). Lifting makes the inverse
exact up to float rounding whatever the length, which a filter-bank formulation only approaches.

Layout, identical in Swift: every level splits every channel; channel c becomes bands
c*2 + {low, high} in 1-D and c*4 + {LL, LH, HL, HH} in 2-D, where the first letter is the band
along the width (last axis) and the second along the height. J levels of the full packet tree on
C channels give C * 2^J (1-D) or C * 4^J (2-D) channels.
"""
from __future__ import annotations

import math

import torch

# Lifting steps of CDF 9/7 (Daubechies & Sweldens 1998; JPEG 2000 part 1, irreversible path).
ALPHA = -1.586134342059924
BETA = -0.052980118572961
GAMMA = 0.882911075530934
DELTA = 0.443506852043971
K = 1.230174104914001
LOW_SCALE = math.sqrt(2.0) / K
HIGH_SCALE = K / math.sqrt(2.0)


def _split(x: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    n = x.shape[dim]
    if n % 2:
        raise ValueError(f"wavelet level needs an even length, got {n}")
    even = torch.arange(0, n, 2, device=x.device)
    return x.index_select(dim, even), x.index_select(dim, even + 1)


def analysis_1d(x: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One lifting level along `dim`: (low, high), each half as long."""
    s, d = _split(x, dim)
    d = d + ALPHA * (s + torch.roll(s, -1, dim))
    s = s + BETA * (torch.roll(d, 1, dim) + d)
    d = d + GAMMA * (s + torch.roll(s, -1, dim))
    s = s + DELTA * (torch.roll(d, 1, dim) + d)
    return s * LOW_SCALE, d * HIGH_SCALE


def synthesis_1d(s: torch.Tensor, d: torch.Tensor, dim: int) -> torch.Tensor:
    """Inverse of analysis_1d: the lifting steps undone in reverse order."""
    s = s / LOW_SCALE
    d = d / HIGH_SCALE
    s = s - DELTA * (torch.roll(d, 1, dim) + d)
    d = d - GAMMA * (s + torch.roll(s, -1, dim))
    s = s - BETA * (torch.roll(d, 1, dim) + d)
    d = d - ALPHA * (s + torch.roll(s, -1, dim))
    out = torch.stack([s, d], dim=dim + 1 if dim >= 0 else dim)  # interleave even/odd
    shape = list(s.shape)
    shape[dim] *= 2
    return out.reshape(shape)


def packet_2d(x: torch.Tensor, levels: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, C * 4^levels, H / 2^levels, W / 2^levels)."""
    for _ in range(levels):
        b, c, h, w = x.shape
        lo, hi = analysis_1d(x, -1)
        ll, lh = analysis_1d(lo, -2)
        hl, hh = analysis_1d(hi, -2)
        x = torch.stack([ll, lh, hl, hh], dim=2).reshape(b, c * 4, h // 2, w // 2)
    return x


def inverse_packet_2d(x: torch.Tensor, levels: int) -> torch.Tensor:
    for _ in range(levels):
        b, c4, h, w = x.shape
        bands = x.reshape(b, c4 // 4, 4, h, w)
        ll, lh, hl, hh = bands.unbind(2)
        lo = synthesis_1d(ll, lh, -2)
        hi = synthesis_1d(hl, hh, -2)
        x = synthesis_1d(lo, hi, -1)
    return x


def packet_1d(x: torch.Tensor, levels: int) -> torch.Tensor:
    """(B, C, L) -> (B, C * 2^levels, L / 2^levels)."""
    for _ in range(levels):
        b, c, n = x.shape
        lo, hi = analysis_1d(x, -1)
        x = torch.stack([lo, hi], dim=2).reshape(b, c * 2, n // 2)
    return x


def inverse_packet_1d(x: torch.Tensor, levels: int) -> torch.Tensor:
    for _ in range(levels):
        b, c2, n = x.shape
        lo, hi = x.reshape(b, c2 // 2, 2, n).unbind(2)
        x = synthesis_1d(lo, hi, -1)
    return x
