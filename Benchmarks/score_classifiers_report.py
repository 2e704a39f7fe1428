"""Writes Benchmarks/results/score-classifiers.md from the JSON of `make bench-score-classifiers`, and
score-classifiers.json (sidecar.py) for `make bench`'s report: every coded point as rate against the
classifier's error."""
import datetime
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import sidecar  # noqa: E402  Benchmarks/sidecar.py
from score_report import machine  # noqa: E402

TASKS = [("digits-image", "classifier-mnist", "MNIST test images 8000-9999"),
         ("digits-speech", "classifier-fsdd", "FSDD test recordings (index 0-4)"),
         ("cifar10", "classifier-cifar10", "CIFAR-10 test images 0800-0999 of each class")]


def acc(t):
    return f"{100 * (1 - t['edits'] / t['length']):.2f}% ({t['length'] - t['edits']}/{t['length']})" if t else "-"


def num(v, fmt):
    return format(v, fmt) if isinstance(v, (int, float)) else "-"


def sweep_table(r, image, points):
    """One row per point: rate, accuracy, its drop from the original's, fidelity, feature distance."""
    cols = ("PSNR dB", "MS-SSIM") if image else ("SNR dB", "SI-SDR dB")
    keys = ("psnr", "msssim") if image else ("snr", "sisdr")
    print(f"| codec | setting | rate ({r['rateUnit']}) | accuracy | drop | {cols[0]} | {cols[1]} | feature distance |")
    print("|---|---|---|---|---|---|---|---|")
    for p in points:
        print(f"| {p['codec']} | {p['setting']} | {num(p.get('rate'), '.3f')} | {acc(p.get('errors'))} | "
              f"{num(100 * p['drop'], '+.2f') + ' pt' if 'drop' in p else ''} | {num(p.get(keys[0]), '.2f')} | "
              f"{num(p.get(keys[1]), '.4f' if image else '.2f')} | {num(p.get('distance'), '.4f')} |")
    return keys, cols


def error_rate(t):
    return round(t["edits"] / t["length"], 6) if t and t["length"] else None


def main():
    out, quick = sys.argv[1], "--quick" in sys.argv
    print("# Classifiers and feature similarity in `codec score`\n")
    print(f"Machine: {machine()}; {datetime.date.today().isoformat()}; `make bench-score-classifiers`"
          + (" with BENCH_QUICK=1 (fewer inputs per sweep)" if quick else "") + ". The cores were shared with "
          "other work, so times are upper bounds; scores do not depend on the machine or the thread count.\n")
    print("## Clean accuracy on the test splits (Swift runtime)\n")
    print("| task | model | data | accuracy | seconds |\n|---|---|---|---|---|")
    for task, model, data in TASKS:
        r = json.load(open(os.path.join(out, f"{task}.json")))
        p = r["points"][0]
        print(f"| `{task}` | `{model}` | {data} | {acc(p.get('errors'))} | {r['seconds']:.0f} |")
    rows = []
    for task, model, data in TASKS:
        r = json.load(open(os.path.join(out, f"sweep-{task}.json")))
        image = r["rateUnit"] != "kbit/s"
        files = r["points"][0]["files"]
        print(f"\n## Sweep: `{task}` over {files} test inputs\n")
        keys, cols = sweep_table(r, image, r["points"])
        ours = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(out, f"codec-{task}-*.json")))]
        points = r["points"] + [p for o in ours for p in o["points"] if p["codec"] != "original"]
        for p in points:
            rows.append({"kind": "machine", "data": f"{data} ({p['files']})", "task": task, "metric": "error",
                         "codec": p["codec"], "setting": p["setting"], "rate": p.get("rate"), "rate_unit": r["rateUnit"],
                         "error": error_rate(p.get("errors")), "error_vs_original": None, "seconds": round(p["seconds"], 1)})
        c = r.get("correlations", {})
        names = [(keys[0], cols[0].split()[0]), (keys[1], cols[1].split()[0]), ("feature_distance", "feature distance")]
        coded = len(r["points"]) - 1
        print(f"\nSpearman's ρ of the accuracy drop with, over {coded} coded points: "
              + ", ".join(f"{label} {num(c.get(k), '+.3f')}" for k, label in names)
              + f". {r['seconds']:.0f} s.")
        if ours:
            print(f"\nThe registered codecs that fit the task, each swept alone on the same inputs (the original's "
                  f"row above; lossless codecs must show no drop):\n")
            sweep_table(r, image, [p for o in ours for p in o["points"] if p["codec"] != "original"])
    sidecar.write("score-classifiers", rows)


if __name__ == "__main__":
    main()
