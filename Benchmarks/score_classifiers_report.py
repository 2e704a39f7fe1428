"""Writes Benchmarks/results/score-classifiers.md from the JSON of `make bench-score-classifiers`."""
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from score_report import machine  # noqa: E402

TASKS = [("digits-image", "classifier-mnist", "MNIST test images 8000-9999"),
         ("digits-speech", "classifier-fsdd", "FSDD test recordings (index 0-4)"),
         ("cifar10", "classifier-cifar10", "CIFAR-10 test images 0800-0999 of each class")]


def acc(t):
    return f"{100 * (1 - t['edits'] / t['length']):.2f}% ({t['length'] - t['edits']}/{t['length']})" if t else "-"


def num(v, fmt):
    return format(v, fmt) if isinstance(v, (int, float)) else "-"


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
    for task, _, _ in TASKS:
        r = json.load(open(os.path.join(out, f"sweep-{task}.json")))
        image = r["rateUnit"] != "kbit/s"
        files = r["points"][0]["files"]
        print(f"\n## Sweep: `{task}` over {files} test inputs\n")
        cols = ("PSNR dB", "MS-SSIM") if image else ("SNR dB", "SI-SDR dB")
        keys = ("psnr", "msssim") if image else ("snr", "sisdr")
        print(f"| codec | setting | rate ({r['rateUnit']}) | accuracy | drop | {cols[0]} | {cols[1]} | feature distance |")
        print("|---|---|---|---|---|---|---|---|")
        for p in r["points"]:
            print(f"| {p['codec']} | {p['setting']} | {num(p.get('rate'), '.3f')} | {acc(p.get('errors'))} | "
                  f"{num(100 * p['drop'], '+.2f') + ' pt' if 'drop' in p else ''} | {num(p.get(keys[0]), '.2f')} | "
                  f"{num(p.get(keys[1]), '.4f' if image else '.2f')} | {num(p.get('distance'), '.4f')} |")
        c = r.get("correlations", {})
        names = [(keys[0], cols[0].split()[0]), (keys[1], cols[1].split()[0]), ("feature_distance", "feature distance")]
        coded = len(r["points"]) - 1
        print(f"\nSpearman's ρ of the accuracy drop with, over {coded} coded points: "
              + ", ".join(f"{label} {num(c.get(k), '+.3f')}" for k, label in names)
              + f". {r['seconds']:.0f} s.")


if __name__ == "__main__":
    main()
