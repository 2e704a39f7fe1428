"""WaLLoC's latent prior (neuralcodecs.walloc_prior): fitting, integer predictions, tables.
numpy only; run by `make test-training`."""
from __future__ import annotations

import sys
import unittest
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from neuralcodecs import walloc_prior as wp  # noqa: E402


def smooth_latents(seed: int, channels: int = 3, h: int = 24, w: int = 32) -> np.ndarray:
    """Spatially smooth, channel-correlated integer fields in -127..127."""
    rng = np.random.default_rng(seed)
    base = np.cumsum(np.cumsum(rng.normal(0, 1, (h, w)), 0), 1) / 4
    q = np.stack([base * (1 - 0.3 * c) + rng.normal(0, 1.5, (h, w)) for c in range(channels)])
    return np.clip(np.round(q), -127, 127).astype(np.int64)


class WallocPriorTest(unittest.TestCase):
    def test_fit_beats_no_prediction_and_tables_are_valid(self):
        train = [smooth_latents(s) for s in range(6)]
        held = [smooth_latents(s) for s in (100, 101)]
        weights, tables = wp.fit(train)
        self.assertEqual(weights.shape, (3, 6 + 5 * 2))
        self.assertEqual(tables.shape, (wp.CONTEXTS, wp.ALPHABET))
        self.assertTrue((tables >= 1).all() and (tables.sum(1) == 1 << wp.PRECISION).all())
        self.assertTrue((np.abs(weights) <= wp.WEIGHT_LIMIT).all())
        # Channel 0 has no earlier channel: those weights stay 0.
        self.assertTrue((weights[0, 6:] == 0).all() and (weights[1, 11:] == 0).all())
        bits = wp.ideal_bits(weights, tables, held)
        zero = np.zeros_like(weights)
        self.assertLess(bits, 0.9 * wp.ideal_bits(zero, wp.fit_tables(train, zero), held))

    def test_predictions_are_integers_in_range_and_causal(self):
        q = smooth_latents(7)
        weights, _ = wp.fit([q])
        p = wp.predict(q, weights)
        self.assertTrue(np.abs(p).max() <= 127)
        # Changing a later latent of the same channel (raster order) or a later channel leaves the
        # prediction of an earlier latent unchanged.
        q2 = q.copy()
        q2[1, 10, 20] += 5
        q2[2] += 3
        p2 = wp.predict(q2, weights)
        self.assertTrue((p2[0] == p[0]).all())
        flat, flat2 = p[1].ravel(), p2[1].ravel()
        self.assertTrue((flat[:10 * 32 + 21] == flat2[:10 * 32 + 21]).all())


if __name__ == "__main__":
    unittest.main()
