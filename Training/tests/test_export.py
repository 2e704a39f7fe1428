"""The training pipeline's tests: export to a new id, the card's own hash, the shared loop's
schedule, resume messages and signal checkpoints. Needs PyTorch: run by `make test-training` and
by every `make train-<model> SMOKE=1`, never by `make test`.

SMOKE_EXPORT=<folder> also checks a real export (the smoke run's) against its weights.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import torch  # noqa: E402

from neuralcodecs import export as ex  # noqa: E402
from neuralcodecs.paths import CODECS, REPO  # noqa: E402
from neuralcodecs.train import TrainConfig, fit, lr_at  # noqa: E402


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


class ExportTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        root = Path(self.tmp.name)
        self.codecs, self.exports = root / "Codecs", root / "exports"
        self.released = self.codecs / "toy"
        self.released.mkdir(parents=True)
        for name, text in [("model.safetensors", "released weights"), ("codec.json", "{}"),
                           ("MODEL_CARD.md", "released card")]:
            (self.released / name).write_text(text)
        self.before = {p.name: p.read_bytes() for p in self.released.iterdir()}

    def tearDown(self):
        self.tmp.cleanup()

    def dest(self, *args, **kw):
        return ex.export_dest("toy", *args, codecs=self.codecs, exports=self.exports, **kw)

    def export(self, dest, results=None):
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 3)
        old = os.umask(0o077)  # a strict umask must not leak into the exported files' modes
        try:
            config = ex.export_model(model, dest, {"model_id": "toy"}, None,
                                     {"x": torch.ones(2), "y": model(torch.ones(4)).detach()})
            card = ex.model_card("toy", "A toy.", weights=config["weights"],
                                 run={"model_id": "toy", "export_id": dest.parent.name, "data": "ones",
                                      "steps": 12, "units_seen": 48, "train_seconds": 3.5,
                                      "final_validation": {"val": 1.25}}, results=results)
            ex.write_card(dest, card)
        finally:
            os.umask(old)
        return config, card

    def test_export_goes_to_a_new_id_and_leaves_the_released_model(self):
        dest = self.dest("scratch")
        self.assertEqual(dest, (self.exports / "scratch" / "toy").resolve())
        self.export(dest)
        self.assertEqual({p.name: p.read_bytes() for p in self.released.iterdir()}, self.before)
        self.assertEqual(sorted(p.name for p in dest.iterdir()),
                         ["MODEL_CARD.md", "codec.json", "golden.safetensors", "model.safetensors"])
        for p in dest.iterdir():
            self.assertEqual(mode(p), 0o644, p.name)

    def test_default_id_and_environment(self):
        os.environ.pop("EXPORT_ID", None)
        self.assertEqual(self.dest().parent.name, ex.DEFAULT_EXPORT_ID)
        os.environ["EXPORT_ID"] = "from-env"
        try:
            self.assertEqual(self.dest().parent.name, "from-env")
        finally:
            del os.environ["EXPORT_ID"]
        with self.assertRaises(ValueError):
            self.dest("../escape")

    def test_released_model_only_on_request(self):
        with self.assertRaises(ex.ExportRefused):
            self.dest(dest=self.released)
        with self.assertRaises(ex.ExportRefused):
            self.dest(dest=self.codecs / "other")
        self.assertEqual(self.dest(replace=True), self.released.resolve())
        self.export(self.dest(replace=True))
        self.assertNotEqual((self.released / "model.safetensors").read_bytes(), self.before["model.safetensors"])

    def test_card_carries_its_own_hash_and_run(self):
        dest = self.dest("scratch")
        config, card = self.export(dest)
        blob = (dest / "model.safetensors").read_bytes()
        fnv = f"{ex.fnv1a64(blob):016x}"
        self.assertEqual(config["weights"]["fnv1a64"], fnv)
        self.assertEqual(json.loads((dest / "codec.json").read_text())["weights"]["sha256"],
                         hashlib.sha256(blob).hexdigest())
        text = (dest / "MODEL_CARD.md").read_text()
        self.assertEqual(text, card)
        self.assertIn(fnv, text)
        self.assertIn(hashlib.sha256(blob).hexdigest(), text)
        for fact in ("12 steps", "48 units seen", "val 1.25", "`scratch`", "ones"):
            self.assertIn(fact, text)
        self.assertIn("Not yet measured", text)

    def test_results_kept_only_for_the_hash_they_were_measured_with(self):
        dest = self.dest("scratch")
        _, card = self.export(dest, results="Measured with `0123456789abcdef`: 1.0 bpb\n")
        self.assertNotIn("0123456789abcdef", card)
        self.assertIn("measured with other weights", card)
        fnv = json.loads((dest / "codec.json").read_text())["weights"]["fnv1a64"]
        _, card = self.export(dest, results=f"Measured with `{fnv}`: 1.0 bpb\n")
        self.assertIn("1.0 bpb", card)


class LoopTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.run_dir = Path(self.tmp.name) / "run"

    def tearDown(self):
        self.tmp.cleanup()

    def fit(self, budget, batch_fn=None, **kw):
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 1)
        cfg = TrainConfig(run_dir=str(self.run_dir), budget_seconds=budget, threads=1, checkpoint_seconds=1e9,
                          log_every_steps=10 ** 6, budget_hint="TOY_BUDGET", **kw)
        x = torch.randn(16, 4)
        return fit(model, cfg, lambda m, b: ((m(b) - 1) ** 2).mean(), batch_fn or (lambda rng: x), 16,
                   lambda m: {"val": 0.0})

    def log(self) -> str:
        return (self.run_dir / "log.txt").read_text()

    def test_warmup_is_a_fraction_of_the_budget(self):
        cfg = TrainConfig(run_dir="", budget_seconds=100, peak_lr=1.0, warmup_steps=1000, warmup_fraction=0.1)
        self.assertLess(lr_at(cfg, 0, 1.0), 0.2)
        self.assertGreater(lr_at(cfg, 5, 10.0), 0.95)  # 5 steps, but 10% of the budget: warmed up
        cfg.warmup_steps = 4  # the step count still ends it earlier when it comes first
        self.assertGreater(lr_at(cfg, 4, 0.1), 0.99)
        cfg.warmup_fraction = None
        self.assertLess(lr_at(TrainConfig(run_dir="", budget_seconds=100, peak_lr=1.0, warmup_steps=1000,
                                          warmup_fraction=None), 5, 10.0), 0.01)

    def test_resume_reports_schedule_change_and_spent_budget(self):
        self.fit(0.2)
        ck = torch.load(self.run_dir / "latest.pt", weights_only=False)
        self.assertEqual(ck["schedule"]["budget_seconds"], 0.2)
        step = ck["state"]["step"]
        self.fit(0.2)
        self.assertIn(f"budget already spent at step {step}", self.log())
        self.assertIn("raise TOY_BUDGET", self.log())
        self.fit(0.4)
        self.assertIn("schedule changed on resume", self.log())
        ck = torch.load(self.run_dir / "latest.pt", weights_only=False)
        self.assertEqual([s["budget_seconds"] for s in ck["state"]["schedules"]], [0.2, 0.4])

    def test_signal_checkpoints_before_exiting(self):
        steps = []
        x = torch.randn(16, 4)

        def batch_fn(rng):
            steps.append(1)
            if len(steps) == 3:
                os.kill(os.getpid(), signal.SIGTERM)
            return x
        with self.assertRaises(SystemExit) as e:
            self.fit(60, batch_fn)
        self.assertEqual(e.exception.code, 128 + signal.SIGTERM)
        ck = torch.load(self.run_dir / "latest.pt", weights_only=False)
        self.assertEqual(ck["state"]["step"], 3)
        self.assertIn("interrupted (SIGTERM) at step 3", self.log())
        self.assertIs(signal.getsignal(signal.SIGTERM), signal.SIG_DFL)  # handlers restored


@unittest.skipUnless(os.environ.get("SMOKE_EXPORT"), "SMOKE_EXPORT names no export to check")
class SmokeExportTest(unittest.TestCase):
    def test_smoke_export(self):
        dest = Path(os.environ["SMOKE_EXPORT"])
        if not dest.is_absolute():
            dest = REPO / dest
        self.assertNotEqual(dest.resolve().parent, CODECS.resolve())
        config = json.loads((dest / "codec.json").read_text())
        facts = ex.weights_facts(dest / "model.safetensors")
        self.assertEqual(config["weights"]["fnv1a64"], facts["fnv1a64"])
        card = (dest / "MODEL_CARD.md").read_text()
        self.assertIn(facts["fnv1a64"], card)
        self.assertIn(facts["sha256"], card)
        self.assertIn(dest.parent.name, card)
        for p in dest.iterdir():
            self.assertEqual(mode(p), 0o644, p.name)
        for released in CODECS.iterdir():  # the released models are what their codec.json says
            cj = json.loads((released / "codec.json").read_text())
            if "weights" in cj:
                self.assertEqual(hashlib.sha256((released / "model.safetensors").read_bytes()).hexdigest(),
                                 cj["weights"]["sha256"], released.name)


if __name__ == "__main__":
    unittest.main()
