"""The classifiers' recipe pieces that need no data: batch norm folded into the convolutions
gives the trained network's outputs, the log-mel has its documented shape and gain invariance,
and the feature distance is 0 for identical inputs. Run by `make test-training`."""
from __future__ import annotations

import sys
import unittest
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import torch  # noqa: E402

from neuralcodecs import classifiers as C  # noqa: E402
from recipes.classifiers import feature_distance  # noqa: E402


class ClassifierTest(unittest.TestCase):
    def test_folding_batch_norm_keeps_the_outputs(self):
        torch.manual_seed(0)
        for spec in C.SPECS.values():
            net = C.ConvClassifier(spec)
            net.train()
            side = 28 if spec.channels == 1 else 32
            with torch.no_grad():
                for _ in range(3):  # running statistics away from their initial values
                    net(torch.rand(8, spec.channels, side, side))
            net.eval()
            x = torch.rand(2, spec.channels, side, side + 3)
            with torch.no_grad():
                self.assertLess((net(x) - C.FoldedClassifier(net, spec).eval()(x)).abs().max().item(), 1e-4)

    def test_log_mel_shape_and_gain(self):
        x = np.random.default_rng(1).normal(0, 0.1, 8000)
        a, b = C.log_mel(x), C.log_mel(2 * x)
        self.assertEqual(a.shape, (1, C.MEL["mels"], 97))
        self.assertLess(np.abs(a - b).max(), 1e-3)
        self.assertEqual(C.log_mel(x[:3000]).shape, a.shape)  # padded to one second

    def test_feature_distance(self):
        net = C.FoldedClassifier(C.ConvClassifier(C.SPECS["classifier-cifar10"]).eval(), C.SPECS["classifier-cifar10"])
        x = torch.rand(1, 3, 32, 32)
        with torch.no_grad():
            self.assertEqual(feature_distance(net, x, x), 0.0)
            d = feature_distance(net, x, torch.rand(1, 3, 32, 32))
        self.assertGreater(d, 0.0)
        self.assertLessEqual(d, 2.0)


if __name__ == "__main__":
    unittest.main()
