"""The VQGAN codec's training pieces (issue 21): shapes, nearest-code search, weighted K-means, the
coding phases (a phase's logits never depend on what is not yet decoded), the training masks, the
prior's integer frequencies, MS-SSIM, and with SMOKE_EXPORT=<a vqgan export> that its golden
vectors are what its own float16 weights compute. Needs PyTorch: `make test-training`.
"""
from __future__ import annotations

import json
import os
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "recipes"))
import numpy as np  # noqa: E402
import torch  # noqa: E402

from neuralcodecs.export import frequency_table  # noqa: E402
from neuralcodecs.paths import REPO  # noqa: E402
from neuralcodecs.vqgan import (PHASES, IndexConfig, IndexTransformer, VQGAN, VQGANConfig,  # noqa: E402
                                coding_logits, ms_ssim, nearest, phase_map)
import vqgan as recipe  # noqa: E402

SMALL = VQGANConfig(channels=[8, 8, 16, 16], embed_dim=4, codes=64, rate_codes=[16, 4])


class AutoencoderTest(unittest.TestCase):
    def test_shapes_and_round_trip_of_indices(self):
        torch.manual_seed(0)
        vq = VQGAN(SMALL).eval()
        x = torch.rand(2, 3, 64, 96) * 2 - 1
        z = vq.encoder(x)
        self.assertEqual(list(z.shape), [2, 4, 4, 6])
        idx = vq.encode(x)
        self.assertEqual(list(idx.shape), [2, 4, 6])
        self.assertTrue(bool((idx >= 0).all()) and bool((idx < 64).all()))
        self.assertEqual(list(vq.decode(idx).shape), [2, 3, 64, 96])
        vq.train()
        y, idx2, commit = vq(x)
        self.assertEqual(list(y.shape), [2, 3, 64, 96])
        self.assertGreaterEqual(commit.item(), 0)

    def test_nearest_is_the_argmin_of_distances(self):
        g = torch.Generator().manual_seed(1)
        x, book = torch.randn(200, 8, generator=g), torch.randn(37, 8, generator=g)
        self.assertTrue(torch.equal(nearest(x, book), torch.cdist(x, book).argmin(1)))

    def test_rate_forward_moves_only_the_clustered_codebook(self):
        torch.manual_seed(0)
        vq = VQGAN(SMALL)
        t = recipe.RateTrainer(vq, 16, torch.randn(16, 4))
        t.train()
        loss = recipe.finetune_loss(t, torch.rand(2, 3, 64, 64) * 2 - 1)
        loss.backward()
        with_grad = [n for n, p in vq.named_parameters() if p.grad is not None]
        self.assertEqual(with_grad, ["codebooks.k16"])
        self.assertGreater(vq.codebooks["k16"].grad.abs().sum().item(), 0)


class KMeansTest(unittest.TestCase):
    def test_finds_separated_clusters_and_is_deterministic(self):
        g = torch.Generator().manual_seed(2)
        centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
        pts = torch.cat([c + 0.1 * torch.randn(50, 2, generator=g) for c in centres])
        c = recipe.weighted_kmeans(pts, torch.ones(len(pts)), 4)
        found = sorted(tuple(round(v) for v in row.tolist()) for row in c)
        self.assertEqual(found, [(0, 0), (0, 10), (10, 0), (10, 10)])
        self.assertTrue(torch.equal(c, recipe.weighted_kmeans(pts, torch.ones(len(pts)), 4)))

    def test_weights_pull_the_centroid(self):
        pts = torch.tensor([[0.0], [1.0]])
        c = recipe.weighted_kmeans(pts, torch.tensor([3.0, 1.0]), 1)
        self.assertAlmostEqual(c.item(), 0.25, places=5)

    def test_never_leaves_a_centroid_empty(self):
        pts = torch.arange(20.0)[:, None]
        c = recipe.weighted_kmeans(pts, torch.ones(20), 20)
        self.assertEqual(sorted(c[:, 0].round().tolist()), list(range(20)))


class PhaseTest(unittest.TestCase):
    def test_phase_map(self):
        p = phase_map(8, 8)
        self.assertEqual([int((p == s).sum()) for s in range(PHASES)], [4, 12, 16, 32])
        self.assertEqual(int(p[0, 0]), 0)
        self.assertEqual(int(p[4, 4]), 0)
        self.assertEqual(int(p[2, 0]), 1)
        self.assertEqual(int(p[1, 3]), 2)
        self.assertEqual(int(p[0, 1]), 3)
        self.assertEqual(list(phase_map(1, 3).reshape(-1)), [0, 3, 1])

    def test_coding_logits_depend_only_on_earlier_phases(self):
        torch.manual_seed(0)
        m = IndexTransformer(IndexConfig(codes=16, dim=32, heads=2, layers=2, mlp=64)).eval()
        g = torch.Generator().manual_seed(3)
        idx = torch.randint(16, (7, 10), generator=g)
        phase = phase_map(7, 10)
        with torch.no_grad():
            base = coding_logits(m, idx)
            for s in range(PHASES):
                other = idx.clone()
                later = phase >= s
                other[later] = (other[later] + 5) % 16  # change everything not yet decoded at phase s
                changed = coding_logits(m, other)
                self.assertTrue(torch.allclose(base[phase == s], changed[phase == s], atol=1e-6), s)
            # ... and a change in an earlier phase does change a later phase's logits
            other = idx.clone()
            other[0, 0] = (other[0, 0] + 1) % 16
            self.assertFalse(torch.allclose(base[phase == 3], coding_logits(m, other)[phase == 3]))

    def test_window_limit(self):
        m = IndexTransformer(IndexConfig(codes=4, dim=16, heads=2, layers=1, mlp=32))
        with self.assertRaises(ValueError):
            m(torch.zeros(1, 17, 2, dtype=torch.long))


class MaskTest(unittest.TestCase):
    def test_batches_mask_phases_or_whole_lost_blocks(self):
        rng = np.random.default_rng(0)
        grids = [torch.randint(8, (20, 24)) for _ in range(3)]
        data = recipe.IndexBatches(grids, mask_token=8)
        kinds = set()
        for _ in range(30):
            tokens, idx, target = data.batch(rng, 6)
            h, w = idx.shape[1:]
            phase = phase_map(h, w)
            for t, i, m in zip(tokens, idx, target):
                masked = t == 8
                self.assertTrue(bool(m.any()))
                self.assertTrue(bool((masked | ~m).all()), "a target position is visible")
                self.assertTrue(torch.equal(t[~masked], i[~masked]))
                s = [s for s in range(PHASES) if torch.equal(m, phase == s)]
                if s and torch.equal(masked, phase >= s[0]):
                    kinds.add("coding")
                else:  # restoration: the lost positions are whole 4x4 blocks (cut at the edge)
                    self.assertTrue(torch.equal(m, masked))
                    for by in range(0, h, 4):
                        for bx in range(0, w, 4):
                            block = m[by:by + 4, bx:bx + 4]
                            self.assertTrue(bool(block.all()) or not bool(block.any()))
                    kinds.add("restore")
        self.assertEqual(kinds, {"coding", "restore"})


class FrequencyTest(unittest.TestCase):
    def test_prior_logits_become_valid_tables(self):
        torch.manual_seed(0)
        m = IndexTransformer(IndexConfig(codes=64, dim=32, heads=2, layers=1, mlp=64)).eval()
        with torch.no_grad():
            logits = coding_logits(m, torch.randint(64, (4, 4)))
        for row in logits.reshape(-1, 64):
            f = frequency_table(torch.softmax(row.double(), 0).numpy(), 16)
            self.assertEqual(int(f.sum()), 1 << 16)
            self.assertGreaterEqual(int(f.min()), 1)


class MSSSIMTest(unittest.TestCase):
    def test_identity_and_order(self):
        g = torch.Generator().manual_seed(4)
        x = torch.rand(2, 3, 64, 64, generator=g)
        self.assertTrue(torch.allclose(ms_ssim(x, x), torch.ones(2)))
        a = ms_ssim(x, (x + 0.05 * torch.randn(x.shape, generator=g)).clamp(0, 1))
        b = ms_ssim(x, (x + 0.2 * torch.randn(x.shape, generator=g)).clamp(0, 1))
        self.assertTrue(bool((a > b).all()))
        y = x.clone().requires_grad_()
        ms_ssim(y, torch.rand(2, 3, 64, 64, generator=g)).sum().backward()
        self.assertTrue(bool(torch.isfinite(y.grad).all()))


FIXTURE = REPO / "Tests" / "VQGANTests" / "Golden"


def _vqgan_exports() -> list[Path]:
    """The Swift tests' fixture (written by the export code) and SMOKE_EXPORT when it is a vqgan export."""
    out = [FIXTURE]
    d = os.environ.get("SMOKE_EXPORT")
    if d:
        p = Path(d) if Path(d).is_absolute() else REPO / d
        cj = p / "codec.json"
        if cj.exists() and json.loads(cj.read_text()).get("codec") == "vqgan":
            out.append(p)
    return out


class VQGANExportTest(unittest.TestCase):
    def test_golden_vectors_follow_from_the_float16_weights(self):
        for dest in _vqgan_exports():
            with self.subTest(export=str(dest)):
                self.check(dest)

    def check(self, dest: Path):
        from safetensors.torch import load_file
        config = json.loads((dest / "codec.json").read_text())
        w = load_file(str(dest / "model.safetensors"))
        gold = load_file(str(dest / "golden.safetensors"))
        self.assertTrue(all(v.dtype == torch.float16 for v in w.values()))
        arch = {k: v for k, v in config["architecture"].items() if k in VQGANConfig.__dataclass_fields__}
        vq = VQGAN(VQGANConfig(**arch)).eval()
        vq.load_state_dict({k: v.float() for k, v in w.items() if k.startswith(("encoder.", "decoder."))}, strict=False)
        vq.quantizer.embed.copy_(w[f"codebook.k{vq.cfg.codes}"].float())
        for r in config["rates"]:
            vq.add_rate_codebook(r["k"], w[r["codebook"]].float())
        with torch.no_grad():
            x = gold["input"]
            self.assertTrue(torch.allclose(vq.encoder(x), gold["latent"], atol=1e-4))
            for k in [vq.cfg.codes] + [r["k"] for r in config["rates"]]:
                idx = vq.encode(x, k)
                self.assertTrue(torch.equal(idx[0].to(torch.int32), gold[f"indices.k{k}"]), k)
                self.assertTrue(torch.allclose(vq.decode(idx, k), gold[f"output.k{k}"], atol=1e-4), k)
            icfg = {k: v for k, v in config["index_model"].items() if k in IndexConfig.__dataclass_fields__}
            for r in config["rates"]:
                k = r["k"]
                m = IndexTransformer(IndexConfig(codes=k, **icfg)).eval()
                m.load_state_dict({n[len(f"index.k{k}."):]: v.float() for n, v in w.items() if n.startswith(f"index.k{k}.")})
                win = gold[f"prior.k{k}.indices"].long()
                self.assertTrue(torch.allclose(coding_logits(m, win), gold[f"prior.k{k}.logits"], atol=1e-4))
                self.assertTrue(torch.allclose(m(gold[f"restore.k{k}.tokens"].long()[None])[0],
                                               gold[f"restore.k{k}.logits"], atol=1e-4))
        self.assertLess(sum(p.stat().st_size for p in dest.iterdir()), 20_000_000)


if __name__ == "__main__":
    unittest.main()
