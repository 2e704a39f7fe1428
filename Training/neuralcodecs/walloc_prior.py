"""WaLLoC's latent prior (format 2): integer linear prediction plus activity-context tables.

The reference for Sources/WaLLoC/LatentCoder.swift, which must compute the same integers. Fitted
at export on training latents only (Training/recipes/walloc_export.py); not part of training.

Latents q[c, y, x] (integers in -127..127; audio has one row) are coded channel after channel, each
in raster order; values outside the grid, and channels before the first, count as 0.

  prediction  P = clamp((sum_k w[c, k] * f_k + 2^(SHIFT-1)) >> SHIFT, -127, 127)   (integer, floor shift)
              f: in channel c the causal W, N, NW, NE, WW, NN; then for each of the K channels
              c-1, c-2, ..., c-K already coded: its co-located value and its W, N, E, S neighbours
              (those channels are complete, so their "future" neighbours are known)
  residual    e = q - P, in -254..254, coded as the symbol e + 254 (alphabet 509)
  activity    A = (2|e_W| + 2|e_N| + |e_NW| + |e_NE| + 2|e(c-1)|) >> 1, residuals of the
              neighbours in channel c and of the co-located latent of channel c-1
  context     the number of ACTIVITY_BOUNDS <= A; one frequency table per context, shared by all
              channels

Why: neighbouring latents of one channel and latents of neighbouring channels are strongly
correlated (they are linear maps of overlapping wavelet bands), so a least-squares predictor
removes most of the value; the spread of what remains follows the local prediction errors, which
pick one of the tables. Everything is integer, so the coder is identical on every machine.
Weights: `prior.weights` [C, 6 + 5K] int32 (fixed point, 2^SHIFT = 1); tables:
`prior.frequencies` [contexts, 509] int32, each row summing to 2^PRECISION, every entry >= 1.
"""
from __future__ import annotations

import numpy as np

from .export import frequency_table

SHIFT = 12
PRECISION = 16
LATENT_MAX = 127
ALPHABET = 4 * LATENT_MAX + 1  # residuals -254..254
ACTIVITY_BOUNDS = [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 18, 22, 27, 33, 40, 50, 64, 80, 100]
CONTEXTS = len(ACTIVITY_BOUNDS) + 1
SPATIAL = [(0, 1), (1, 0), (1, 1), (1, -1), (0, 2), (2, 0)]  # (dy, dx) back: W, N, NW, NE, WW, NN
CROSS = [(0, 0), (0, 1), (1, 0), (0, -1), (-1, 0)]  # in an earlier channel: C, W, N, E, S
MAX_CROSS = 12  # earlier channels used at most (K = min(C - 1, MAX_CROSS))
WEIGHT_LIMIT = 1 << 16  # |w| bound checked by the Swift loader (keeps every sum far inside Int64)
SMOOTHING = 4.0  # pseudo-counts drawn from the pooled residual distribution


def shifted(a: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """out[..., y, x] = a[..., y - dy, x - dx], 0 outside."""
    out = np.zeros_like(a)
    h, w = a.shape[-2:]
    if abs(dy) >= h or abs(dx) >= w:
        return out
    dst_y = slice(max(dy, 0), h + min(dy, 0))
    src_y = slice(max(-dy, 0), h - max(dy, 0))
    dst_x = slice(max(dx, 0), w + min(dx, 0))
    src_x = slice(max(-dx, 0), w - max(dx, 0))
    out[..., dst_y, dst_x] = a[..., src_y, src_x]
    return out


def cross_channels(channels: int) -> int:
    return min(channels - 1, MAX_CROSS)


def features(q: np.ndarray, c: int, k: int) -> np.ndarray:
    """The predictor's inputs of channel c of q [C, H, W] (int64): [H*W, 6 + 5k]."""
    zero = np.zeros_like(q[0])
    f = [shifted(q[c], dy, dx) for dy, dx in SPATIAL]
    for j in range(1, k + 1):
        p = c - j
        f += [shifted(q[p], dy, dx) if p >= 0 else zero for dy, dx in CROSS]
    return np.stack([x.ravel() for x in f], 1)


def predict(q: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Integer predictions P [C, H, W] of the latents q [C, H, W]."""
    q = q.astype(np.int64)
    k = (weights.shape[1] - len(SPATIAL)) // len(CROSS)
    out = np.zeros_like(q)
    for c in range(q.shape[0]):
        s = features(q, c, k) @ weights[c].astype(np.int64)
        out[c] = np.clip((s + (1 << (SHIFT - 1))) >> SHIFT, -LATENT_MAX, LATENT_MAX).reshape(q.shape[1:])
    return out


def contexts(q: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    """Context of every latent from the residuals of its causal neighbours."""
    e = np.abs(q.astype(np.int64) - prediction)
    a = 2 * shifted(e, 0, 1) + 2 * shifted(e, 1, 0) + shifted(e, 1, 1) + shifted(e, 1, -1)
    a[1:] += 2 * e[:-1]
    return np.digitize(a >> 1, ACTIVITY_BOUNDS, right=False)


def symbols(q: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(symbol e + 254, context) of every latent."""
    p = predict(q, weights)
    return q.astype(np.int64) - p + 2 * LATENT_MAX, contexts(q, p)


def fit_weights(latents: list[np.ndarray]) -> np.ndarray:
    """Least squares per channel over the training latents, rounded to fixed point."""
    channels = latents[0].shape[0]
    k = cross_channels(channels)
    w = np.zeros((channels, len(SPATIAL) + len(CROSS) * k), dtype=np.int64)
    n = w.shape[1]
    for c in range(channels):
        # Normal equations, accumulated latent image by latent image (exact in float64: integer sums).
        xtx, xty = np.zeros((n, n)), np.zeros(n)
        for q in latents:
            x = features(q.astype(np.int64), c, k).astype(np.float64)
            xtx += x.T @ x
            xty += x.T @ q[c].ravel().astype(np.float64)
        # Features that are always 0 (earlier channels that do not exist) get weight 0.
        a = np.linalg.lstsq(xtx, xty, rcond=None)[0]
        w[c] = np.clip(np.round(a * (1 << SHIFT)), -WEIGHT_LIMIT, WEIGHT_LIMIT)
    return w.astype(np.int32)


def fit_tables(latents: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
    counts = np.zeros((CONTEXTS, ALPHABET), dtype=np.float64)
    for q in latents:
        s, k = symbols(q, weights)
        np.add.at(counts, (k.ravel(), s.ravel()), 1)
    pooled = counts.sum(0) + 0.5
    pooled /= pooled.sum()
    return np.stack([frequency_table(counts[k] + SMOOTHING * pooled, PRECISION) for k in range(CONTEXTS)]).astype(np.int32)


def fit(latents: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(prior.weights, prior.frequencies) from training latents, each [C, H, W] integers."""
    w = fit_weights(latents)
    return w, fit_tables(latents, w)


def ideal_bits(weights: np.ndarray, tables: np.ndarray, latents: list[np.ndarray]) -> float:
    logp = np.log2(tables / float(1 << PRECISION))
    bits = 0.0
    for q in latents:
        s, k = symbols(q, weights)
        bits -= logp[k.ravel(), s.ravel()].sum()
    return bits
