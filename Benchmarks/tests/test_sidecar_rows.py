"""The sidecar rows of Benchmarks/lossless_bench.py and walloc_speed.py, as Benchmarks/report.py
reads them, and where a quick run's page goes. Run by `make test-benchmarks` (part of `make test`): no data, no coders."""
import os
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import lossless_bench
import report
import sidecar
import walloc_speed

# One set as the benchmark totals it: coder -> [bytes, encode CPU s, decode CPU s].
TOTALS = {"lossless": [1000, 2.0, 4.0], "flac -8": [1200, 0.5, 0.1], "wavpack -hh -x6": [1100, 8.0, 0.2]}
RAW, SAMPLES = 4_000_000, 2_000_000


class LosslessRows(unittest.TestCase):
    def setUp(self):
        self.rows = lossless_bench.set_rows("music/eval (first 2 of 10 stereo clips)", TOTALS, RAW, SAMPLES)

    def test_fidelity_rows_are_exact_rates_per_coder(self):
        fidelity = [r for r in self.rows if r["kind"] == "fidelity"]
        self.assertEqual([(r["codec"], r["setting"]) for r in fidelity],
                         [("lossless", ""), ("flac", "-8"), ("wavpack", "-hh -x6")])
        self.assertEqual([r["rate"] for r in fidelity], [0.004, 0.0048, 0.0044])  # 8 * bytes / samples
        for r in fidelity:
            self.assertIs(r["exact"], True)
            self.assertEqual(r["rate_unit"], "bits/sample")
            self.assertEqual(r["data"], "music/eval (first 2 of 10 stereo clips)")

    def test_speed_rows_put_ours_beside_each_peer_each_way(self):
        speed = [r for r in self.rows if r["kind"] == "speed"]
        self.assertEqual([(r["what"], r["peer"]) for r in speed[::2]],
                         [("lossless encode, music/eval (first 2 of 10 stereo clips)", "flac -8"),
                          ("lossless decode, music/eval (first 2 of 10 stereo clips)", "flac -8")])
        self.assertEqual([r["peer"] for r in speed[1::2]], ["wavpack -hh -x6"] * 2)
        encode_flac, encode_wv, decode_flac, _ = speed
        self.assertEqual((encode_flac["ours_value"], encode_flac["peer_value"]), (2.0, 8.0))  # MB of raw samples / CPU s
        self.assertEqual((decode_flac["ours_value"], decode_flac["peer_value"]), (1.0, 40.0))
        self.assertAlmostEqual(report.speedup(encode_flac), 0.25)  # MB/s: higher is better, ours 4x slower
        self.assertAlmostEqual(report.speedup(encode_wv), 4.0)
        self.assertTrue(all(r["ours"] == "lossless" and r["unit"] == "MB/CPU s" and not r.get("lower_is_better") for r in speed))

    def test_report_tables_render_every_row(self):
        fidelity = report.fidelity_table([{**r, "bench": "lossless"} for r in self.rows if r["kind"] == "fidelity"])
        self.assertEqual(len(fidelity), 2 + 3)
        self.assertIn("| lossless | music/eval (first 2 of 10 stereo clips) | flac | -8 | 0.0048 | bits/sample | exact | exact |", fidelity)
        speed = report.speed_table([r for r in self.rows if r["kind"] == "speed"])
        self.assertEqual(len(speed), 2 + 4)
        self.assertTrue(speed[2].endswith("| 0.25x |"), speed[2])

    def test_targets_table_says_met_or_not(self):
        lines = lossless_bench.targets_table([("audio", "music/eval", TOTALS, RAW)])
        self.assertIn("| music/eval | total ≤ 0.97x flac -8 | 0.833x | yes |", lines)
        self.assertIn("| music/eval | total ≤ 1.00x wavpack -hh -x6 | 0.909x | yes |", lines)
        self.assertIn("| music/eval | decode ≥ 2 MB/s | 1.00 MB/s | **no** |", lines)

    def test_data_label_names_a_partial_set(self):
        self.assertEqual(lossless_bench.label("Kodak", "images", 24, 24), "Kodak (24 images)")
        self.assertEqual(lossless_bench.label("Kodak", "images", 2, 24), "Kodak (first 2 of 24 images)")


class QuickPages(unittest.TestCase):
    def test_a_quick_page_never_replaces_the_committed_one(self):
        with mock.patch.dict(os.environ, {"BENCH_QUICK": "1"}):
            self.assertEqual(sidecar.page("lossless"), sidecar.QUICK_PAGES / "lossless.md")
        with mock.patch.dict(os.environ, {"BENCH_QUICK": "0"}):
            self.assertEqual(sidecar.page("lossless"), sidecar.RESULTS / "lossless.md")

    def test_the_report_links_the_page_the_sidecar_names(self):
        with tempfile.TemporaryDirectory() as root:
            results, quick = Path(root, "results"), Path(root, "quick")
            results.mkdir(), quick.mkdir()
            (results / "lossless.md").write_text("full\n")
            (quick / "lossless.md").write_text("quick\n")
            with mock.patch.object(report, "RESULTS", results):
                self.assertEqual(report.page_link({"page": "lossless.md"}, "lossless"), "[lossless.md](lossless.md)")
                self.assertEqual(report.page_link(None, "lossless"), "[lossless.md](lossless.md)")
                # A quick page is not committed: the committed full run's page is linked instead.
                self.assertEqual(report.page_link({"page": "../quick/lossless.md"}, "lossless"),
                                 "[lossless.md](lossless.md) (last full run); this run's quick page: "
                                 "`lossless.md` in .build/bench-quick/")
                self.assertEqual(report.page_link({"page": "../quick/vqgan.md"}, "vqgan"),
                                 "-; this run's quick page: `vqgan.md` in .build/bench-quick/")
                self.assertEqual(report.page_link({"page": "walloc.md"}, "walloc-speed"), "-")


class WallocSpeedRows(unittest.TestCase):
    def test_every_model_direction_and_clock_beside_the_baseline(self):
        medians = {(m, b): {"encode": 10.0, "encode_cpu": 20.0, "decode": 1.0, "decode_cpu": 2.0}
                   for m in ("walloc-rgb-16x", "walloc-stereo-5x") for b in ("this build", "before")}
        rows = walloc_speed.speed_rows(medians, [("this build", None), ("before", None)], quick=True)
        self.assertEqual(len(rows), 2 * 2 * 2)
        self.assertEqual([r["ours"] for r in rows], ["walloc-rgb-16x"] * 4 + ["walloc-stereo-5x"] * 4)
        self.assertEqual({r["unit"] for r in rows[:4]}, {"MP/s"})
        self.assertIn("first 4 of 24 images", rows[0]["what"])
        self.assertEqual((rows[0]["ours_value"], rows[0]["peer"], report.speedup(rows[0])), (20.0, "before", 1.0))
        alone = walloc_speed.speed_rows({k: v for k, v in medians.items() if k[1] == "this build"}, [("this build", None)], quick=False)
        self.assertTrue(all(r["peer"] is None and r["peer_value"] is None for r in alone))
        self.assertIn("Kodak (24 images", alone[0]["what"])

if __name__ == "__main__":
    unittest.main()
