"""Writes Benchmarks/results/README.md, the evaluation report of `make bench`.

Reads the sidecars (Benchmarks/results/<name>.json, written by each benchmark through sidecar.py)
and answers three questions, each with one table and one plot (PNG, matplotlib):

  1. rate against fidelity       (rows of kind "fidelity": lossy PSNR / MS-SSIM, lossless exact)
  2. rate against machine performance  (kind "machine": `codec score` sweeps, task error)
  3. speed against the peers     (kind "speed": ours and a peer measured the same way, same run)

Only sidecars written since --since (the start of this `make bench`) count, so every row was
measured in this run; older ones are named as stale and left out. --log is make bench's table of
targets, seconds and status.

    python3 Benchmarks/report.py --since EPOCH_SECONDS --log .build/bench-run.tsv [--quick]
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import textwrap
from pathlib import Path

import sidecar  # Benchmarks/sidecar.py (this script's folder is first on sys.path)

RESULTS = Path(__file__).resolve().parent / "results"
PLOTS = {"fidelity": "report-fidelity.png", "machine": "report-machine.png", "speed": "report-speed.png"}


def load(since: float) -> tuple[list[dict], list[dict]]:
    fresh, stale = [], []
    for path in sorted(RESULTS.glob("*.json")):
        try:
            doc = json.loads(path.read_text())
        except ValueError:
            continue
        if not isinstance(doc, dict) or "rows" not in doc or "bench" not in doc:
            continue
        (fresh if doc.get("time", 0) >= since else stale).append(doc)
    return fresh, stale


def rows_of(docs: list[dict], kind: str) -> list[dict]:
    return [{**r, "bench": d["bench"]} for d in docs for r in d["rows"] if r.get("kind") == kind]


def num(x, digits=3) -> str:
    if x is None:
        return "-"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}" if abs(x) < 1 else f"{x:.{max(0, digits - len(str(int(abs(x)))))}f}"


def pct(x) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def speedup(r: dict) -> float | None:
    """How many times faster ours is than the peer (> 1: ours faster)."""
    if r.get("peer_value") in (None, 0) or not r.get("ours_value"):
        return None
    ratio = r["ours_value"] / r["peer_value"]
    return 1 / ratio if r.get("lower_is_better") else ratio


def is_ours(codec: str) -> bool:
    return codec.startswith(("walloc", "pc-", "lm-ac", "eiw", "lossless", "store", "grvq", "vqgan"))


# ------------------------------------------------------------------------------------ plots

def plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot
    return pyplot


def plot_fidelity(rows: list[dict], path: Path) -> bool:
    lossy = [r for r in rows if r.get("psnr") is not None]
    exact = [r for r in rows if r.get("exact")]
    if not lossy and not exact:
        return False
    # Lossy: one panel per rate unit (bits per pixel and kbit/s share no axis). Lossless: one bar
    # per codec, grouped by data set, below across the whole width (it widens with the bars).
    units = sorted({r["rate_unit"] for r in lossy})
    groups: dict[str, list] = {}
    for r in exact:  # data names run long ("Kodak (first 2 of 24 images)"): wrapped to fit under their bars
        groups.setdefault(textwrap.fill(r["data"], 16) + f"\n[{r['rate_unit']}]", []).append(r)
    top, bottom = (1 if units else 0), (1 if exact else 0)
    p = plt()
    fig = p.figure(figsize=(max(12.0, 5.5 * len(units), 0.24 * (len(exact) + len(groups)) + 2), 4.6 * (top + bottom)))
    grid = fig.add_gridspec(top + bottom, max(1, len(units)))
    for i, unit in enumerate(units):
        ax = fig.add_subplot(grid[0, i])
        by_codec: dict[str, list] = {}
        for r in lossy:
            if r["rate_unit"] == unit:
                by_codec.setdefault(f"{r['codec']} ({r['data']})", []).append((r["rate"], r["psnr"]))
        for label, pts in by_codec.items():
            pts.sort()
            style = dict(marker="*", markersize=13, linestyle="none") if is_ours(label) else dict(marker="o")
            ax.plot([x for x, _ in pts], [y for _, y in pts], label=label, **style)
        ax.set(xlabel=unit, ylabel="PSNR (dB)", title=f"lossy: rate ({unit}) against PSNR")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    if exact:
        # Each bar is its rate over the smallest of its group, so sets of any unit and size share one
        # axis and a few percent show; the label gives the rate itself.
        ax = fig.add_subplot(grid[top, :])
        labels, values, colors, ticks = [], [], [], []
        x = 0
        for g, rs in groups.items():
            start, best = x, min(r["rate"] for r in rs)
            for r in sorted(rs, key=lambda r: r["rate"]):
                labels.append(f"{r['codec']} {r['setting']}".strip() + f"  {num(r['rate'], 4)}")
                values.append((x, r["rate"] / best if best > 0 else 1.0))
                colors.append("tab:blue" if is_ours(r["codec"]) else "tab:gray")
                x += 1
            ticks.append(((start + x - 1) / 2, g))
            x += 1
        bars = ax.bar([v[0] for v in values], [v[1] for v in values], color=colors)
        for b, label in zip(bars, labels):
            ax.text(b.get_x() + b.get_width() / 2, b.get_height(), label, rotation=90, ha="center", va="bottom", fontsize=7)
        ax.set_xticks([t[0] for t in ticks], [t[1] for t in ticks], fontsize=7)
        highest = max(v[1] for v in values)
        ax.set_ylim(0.9, 0.9 + (highest - 0.9) / 0.55 + 0.1)  # room above the bars for their labels
        ax.axhline(1, color="black", linewidth=0.8)
        ax.set(ylabel="rate / smallest rate of the set",
               title="lossless (exact): each set's rates over its smallest (label: the rate, unit under the set); ours in blue")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    p.close(fig)
    return True


def plot_machine(rows: list[dict], path: Path) -> bool:
    swept = [r for r in rows if r.get("rate") is not None and r.get("error") is not None]
    if not swept:
        return False
    tasks = sorted({(r["task"], r["metric"], r["rate_unit"], r["data"]) for r in swept})
    p = plt()
    fig, axes = p.subplots(1, len(tasks), figsize=(6.5 * len(tasks), 4.4), squeeze=False)
    for ax, (task, metric, unit, data) in zip(axes[0], tasks):
        by_codec: dict[str, list] = {}
        for r in swept:
            if (r["task"], r["metric"], r["rate_unit"], r["data"]) == (task, metric, unit, data):
                by_codec.setdefault(r["codec"], []).append((r["rate"], 100 * r["error"]))
        for codec, pts in by_codec.items():
            pts.sort()
            style = dict(marker="*", markersize=13) if is_ours(codec) else dict(marker="o")
            ax.plot([x for x, _ in pts], [y for _, y in pts], label=codec, **style)
        clean = [r for r in rows if r["codec"] == "original" and r["task"] == task and r["data"] == data and r.get("error") is not None]
        if clean:
            ax.axhline(100 * clean[0]["error"], color="black", linestyle="--", linewidth=1, label="original")
        ax.set(xlabel=unit, ylabel=f"{metric} (%)", title=f"{task}: {data}")
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    p.close(fig)
    return True


def plot_speed(rows: list[dict], path: Path) -> bool:
    pairs = [(r, speedup(r)) for r in rows if speedup(r) is not None]
    if not pairs:
        return False
    p = plt()
    fig, ax = p.subplots(figsize=(9, 0.28 * len(pairs) + 1.2))
    labels = [f"{r['what']}: {r['ours']} vs {r['peer']}" for r, _ in pairs]
    values = [s for _, s in pairs]
    # Bars grow from 1 (parity): right when ours is faster, left when slower.
    ax.barh(range(len(pairs)), [v - 1 for v in values], left=1, color=["tab:blue" if s >= 1 else "tab:red" for s in values])
    ax.set_yticks(range(len(pairs)), labels, fontsize=6)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1, color="black", linewidth=1)
    ax.set(xlabel="speed-up of ours over the peer (log scale; > 1: ours faster)", title="speed against the peers")
    ax.grid(alpha=0.3, axis="x", which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    p.close(fig)
    return True


# ------------------------------------------------------------------------------------ tables

def fidelity_table(rows: list[dict]) -> list[str]:
    out = ["| bench | data | codec | setting | rate | unit | PSNR dB | MS-SSIM |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        psnr, ms = ("exact", "exact") if r.get("exact") else (num(r.get("psnr"), 4), num(r.get("msssim"), 4))
        out.append(f"| {r['bench']} | {r['data']} | {r['codec']} | {r['setting']} | {num(r['rate'], 4)} | {r['rate_unit']} | {psnr} | {ms} |")
    return out


def machine_table(rows: list[dict]) -> list[str]:
    out = ["| data | task | codec | setting | rate | unit | error (truth) | error vs original | seconds |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['data']} | {r['task']} ({r['metric']}) | {r['codec']} | {r['setting']} | {num(r.get('rate'), 4)} | "
                   f"{r['rate_unit']} | {pct(r.get('error'))} | {pct(r.get('error_vs_original'))} | {num(r.get('seconds'))} |")
    return out


def speed_table(rows: list[dict]) -> list[str]:
    out = ["| what | ours | value | peer | value | unit | speed-up |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        s = speedup(r)
        out.append(f"| {r['what']} | {r['ours']} | {num(r['ours_value'])} | {r.get('peer') or '-'} | {num(r.get('peer_value'))} | "
                   f"{r['unit']} | {'-' if s is None else f'{s:.2f}x'} |")
    return out


# ------------------------------------------------------------------------------------ report

QUESTIONS = [
    ("fidelity", "1. Rate against fidelity", fidelity_table, plot_fidelity,
     "Bits spent against what comes back: PSNR and MS-SSIM for the lossy codecs (means over the images), "
     "`exact` for the lossless ones, whose rate is the whole question. Rates count the coded file, "
     "container included, in the unit of each row."),
    ("machine", "2. Rate against machine performance", machine_table, plot_machine,
     "`codec score` sweeps (docs/SCORE.md): the task error of a perception engine on the decoded media, "
     "against the ground truth and against the engine's reading of the original. Corpus rates (total "
     "edits / total reference length). `seconds`: the sum of the files' times for that setting."),
    ("speed", "3. Speed against the peers", speed_table, plot_speed,
     "Ours and a peer measured the same way in the same run (the unit says which way; `speed-up` > 1: "
     "ours is faster). Rows without a peer are our own speeds, kept for completeness. The cores were "
     "shared (see the load), so absolute figures are upper bounds on time; ratios within a row are fairer."),
]


def page_link(doc: dict | None, short: str) -> str:
    """The page the benchmark wrote in this run, as its sidecar names it (a quick run's page lies
    under .build/bench-quick/, sidecar.page, which is not committed: then the committed full run's
    page is linked and the quick one named), else Benchmarks/results/<short>.md if there is one."""
    page = (doc or {}).get("page") or f"{short}.md"
    if page.startswith(".."):  # a quick page is not committed: link the committed full run's page
        full = f"[{short}.md]({short}.md) (last full run)" if (RESULTS / f"{short}.md").exists() else "-"
        return f"{full}; this run's quick page: `{Path(page).name}` in .build/bench-quick/"
    if not (RESULTS / page).exists():
        return "-"
    return f"[{Path(page).name}]({page})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--since", type=float, default=0.0, help="epoch seconds: sidecars older than this are stale")
    ap.add_argument("--log", help="make bench's TSV of target, seconds, status")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    fresh, stale = load(args.since)
    log = []
    if args.log and os.path.exists(args.log):
        lines = Path(args.log).read_text().splitlines()[1:]
        log = [l.split("\t") for l in lines if l.strip()]
    now = datetime.datetime.now(datetime.timezone.utc)
    started = datetime.datetime.fromtimestamp(args.since, datetime.timezone.utc) if args.since else None
    out = ["# Evaluation report", "",
           f"Generated by `make bench{' BENCH_QUICK=1' if args.quick else ''}` (Benchmarks/report.py) on "
           f"{sidecar.machine()}; run {started.strftime('%Y-%m-%d %H:%M') + ' to ' if started else ''}"
           f"{now.strftime('%Y-%m-%d %H:%M UTC')}."
           + (" **Quick mode** (`BENCH_QUICK=1`): each slow benchmark ran on fewer files (said per row in "
              "the data column), so figures are less averaged than a full run's. A benchmark's quick page goes "
              "under .build/bench-quick/ (not committed; the table links the committed full run's page) where it uses sidecar.page; the others rewrite "
              "their committed page, marked as quick; each page gives its date."
              if args.quick else ""),
           "",
           "Every row below was measured in this run, read from the sidecar (`Benchmarks/results/<name>.json`) "
           "the benchmark wrote; each benchmark's own page (linked) has the details. The machine's 2 cores were "
           "shared with other work while measuring (load averages below), so times are upper bounds.",
           "", "| benchmark | seconds | status | measured (UTC) | load average (1, 5, 15 min) | quick | rows | page |",
           "|---|---|---|---|---|---|---|---|"]
    by_name = {d["bench"]: d for d in fresh}
    targets = [(t[len("bench-"):] if t.startswith("bench-") else t, t, secs, status) for t, secs, status in log]
    seen = set()
    for short, target, secs, status in targets:  # bench-NAME writes NAME.json and NAME.md
        d = by_name.get(short)
        seen.add(short)
        page = page_link(d, short)
        if d:
            out.append(f"| `make {target}` | {secs} | {status} | {d['date']} | {', '.join(map(str, d['load']))} | "
                       f"{'yes' if d['quick'] else 'no'} | {len(d['rows'])} | {page} |")
        else:
            out.append(f"| `make {target}` | {secs} | {status} | no sidecar written in this run | | | 0 | {page} |")
    for d in fresh:
        if d["bench"] not in seen:
            out.append(f"| {d['bench']} (outside the log) | - | - | {d['date']} | {', '.join(map(str, d['load']))} | "
                       f"{'yes' if d['quick'] else 'no'} | {len(d['rows'])} | {page_link(d, d['bench'])} |")
    if stale:
        out += ["", "Left out as not measured in this run (older sidecars): "
                + ", ".join(f"`{d['bench']}.json` ({d.get('date', '?')})" for d in stale) + "."]
    failed = [t for t in targets if t[3] != "ok"]
    if failed:
        out += ["", "**Failed in this run:** " + ", ".join(f"`make {t[1]}`" for t in failed)
                + " (their rows are missing below; see the make output)."]
    for kind, title, table, plot, text in QUESTIONS:
        rows = rows_of(fresh, kind)
        out += ["", f"## {title}", "", text, ""]
        if not rows:
            out.append("No rows measured in this run.")
            continue
        if plot(rows, RESULTS / PLOTS[kind]):
            out += [f"![{title}]({PLOTS[kind]})", ""]
        out += table(rows)
    (RESULTS / "README.md").write_text("\n".join(out) + "\n")
    print(f"wrote {RESULTS / 'README.md'} ({sum(len(d['rows']) for d in fresh)} rows from {len(fresh)} benchmarks"
          + (f"; stale: {', '.join(d['bench'] for d in stale)}" if stale else "") + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
