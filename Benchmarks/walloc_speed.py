"""`make bench-walloc-speed`: one-core encode and decode speeds of every released WaLLoC model,
without the rest of `make bench-walloc` (rate-distortion, peers, latents), so speed work can be
re-measured in minutes. Writes its section into Benchmarks/results/walloc.md in place of the
previous one (`--write`), else prints it.

Images: the 24 Kodak photos (768x512); audio: the 10 music/eval clips (44.1 kHz stereo); both
evaluation sets, only measured. Each run is one `codec roundtrip --json` of the whole set pinned
to one core (taskset -c 1); `--runs` runs per model, interleaved across models, and the medians
reported. Two clocks: wall clock (what a user waits on an idle core) and the process's CPU time
over the same span (`encodeCPUSeconds`), which time spent waiting for a core on a loaded
machine does not inflate; the load average is reported beside them.

Also Benchmarks/results/walloc-speed.json (sidecar.py) for `make bench`'s report: each model's
median speeds (both clocks, each direction), beside the --baseline build's where one is given.
BENCH_QUICK=1 (or --quick): the first QUICK_IMAGES Kodak photos and QUICK_CLIPS clips, every model
and row kept; the section then goes to .build/bench-quick/walloc-speed.md (sidecar.page), never
into the committed walloc.md.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

import sidecar  # Benchmarks/sidecar.py (this script's folder is first on sys.path)

REPO = Path(__file__).resolve().parents[1]
CODEC = REPO / ".build" / "release" / "codec"
RESULTS = REPO / "Benchmarks" / "results" / "walloc.md"
KODAK = REPO.parent / "shared" / "data" / "images" / "kodak"
EVAL = REPO.parent / "shared" / "data" / "audio" / "music" / "eval"
HEADER = "## Speed, one core"
QUICK_IMAGES, QUICK_CLIPS = 4, 3
# model → (inputs, unit, per-unit divisor of rawBytes, encode target, decode target)
MODELS = {
    "walloc-rgb-16x": ("kodak", "MP/s", 3, 20, 1),
    "walloc-rgb-4x": ("kodak", "MP/s", 3, 20, 1),
    "walloc-stereo-5x": ("eval", "Msamples/s", 2, 20, 2),
    "walloc-stereo-20x": ("eval", "Msamples/s", 2, 20, 2),
}


def one_run(codec: Path, model: str, files: list[Path], divisor: int) -> dict:
    out = subprocess.run(["taskset", "-c", "1", str(codec), "roundtrip", "--json", "-q", "--codec", model, *map(str, files)],
                         check=True, capture_output=True).stdout
    rows = json.loads(out)
    units = sum(int(r["rawBytes"]) / divisor for r in rows) / 1e6
    return {
        "encode_cpu": units / sum(r["encodeCPUSeconds"] for r in rows),
        "decode_cpu": units / sum(r["decodeCPUSeconds"] for r in rows),
        "encode": units / sum(r["encodeSeconds"] for r in rows),
        "decode": units / sum(r["decodeSeconds"] for r in rows)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--write", action="store_true", help="replace the speed section of Benchmarks/results/walloc.md")
    p.add_argument("--codec", type=Path, default=CODEC, help="the codec binary measured (default: this build's)")
    p.add_argument("--baseline", type=Path, help="another codec binary (an earlier build) measured in the same runs, "
                   "interleaved, for a before/after comparison; labelled with --baseline-label")
    p.add_argument("--baseline-label", default="baseline")
    p.add_argument("--quick", action="store_true", help=f"the first {QUICK_IMAGES} images and {QUICK_CLIPS} clips (also BENCH_QUICK=1)")
    args = p.parse_args()
    if args.quick:
        os.environ["BENCH_QUICK"] = "1"  # the sidecar records it and sidecar.page follows it
    quick = sidecar.quick()
    binaries = [("this build", args.codec)] + ([(args.baseline_label, args.baseline)] if args.baseline else [])
    listed = subprocess.run([str(args.codec), "list"], check=True, capture_output=True).stdout.decode()
    models = [m for m in MODELS if any(line.split()[:1] == [m] for line in listed.splitlines())]
    sets = {"kodak": sorted(KODAK.glob("*.png"))[:QUICK_IMAGES if quick else None],
            "eval": sorted(EVAL.glob("*.flac"))[:QUICK_CLIPS if quick else None]}
    for name, files in sets.items():
        if not files:
            raise SystemExit(f"walloc_speed: no {name} files under {KODAK if name == 'kodak' else EVAL}")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    loads = [os.getloadavg()[0]]
    runs: dict[tuple[str, str], list[dict]] = {(m, b): [] for m in models for b, _ in binaries}
    for _ in range(args.runs):
        for m in models:
            for b, path in binaries:
                runs[(m, b)].append(one_run(path, m, sets[MODELS[m][0]], MODELS[m][2]))
        loads.append(os.getloadavg()[0])
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "x86-64")
    lines = [f"{HEADER} (taskset -c 1), release build, median of {args.runs} runs", "",
             f"Measured {started} on {cpu} ({os.cpu_count()} cores), `Benchmarks/walloc_speed.py`"
             f"{f' with BENCH_QUICK=1 (the first {QUICK_IMAGES} images and {QUICK_CLIPS} clips: a check of the plumbing)' if quick else ''}; "
             f"load average {min(loads):.1f} to {max(loads):.1f} over the runs (2 cores shared with training and builds). "
             f"{data_label('kodak', quick)} for the image models, {data_label('eval', quick)} for the "
             "audio ones; samples = frames x channels. Wall: the span `codec roundtrip` times (file reading excluded). "
             "CPU: the process's CPU time over the same span, which waiting for a core under load does not inflate.", "",
             "| model | build | encode wall | encode CPU | target | decode wall | decode CPU | target | unit |",
             "|---|---|---|---|---|---|---|---|---|"]
    medians = {key: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for key, rs in runs.items()}
    for m in models:
        _, unit, _, te, td = MODELS[m]
        for b, _ in binaries:
            med = medians[(m, b)]
            lines.append(f"| {m} | {b} | {med['encode']:.1f} | {med['encode_cpu']:.1f} | ≥ {te} | {med['decode']:.2f} | "
                         f"{med['decode_cpu']:.2f} | ≥ {td} | {unit} |")
    section = "\n".join(lines) + "\n"
    if quick:  # never into the committed walloc.md: the section is the quick page
        page = sidecar.page("walloc-speed")
        sidecar.write_page(page, section)
    elif args.write:
        page = RESULTS
        replace_section(section)
    else:
        page = None
    sidecar.write("walloc-speed", speed_rows(medians, binaries, quick), page=page)
    print(section + (f"\nwrote {page}" if page else ""))


def data_label(name: str, quick: bool) -> str:
    if name == "kodak":
        return f"Kodak (first {QUICK_IMAGES} of 24 images, 768x512)" if quick else "Kodak (24 images, 768x512)"
    return (f"music/eval (first {QUICK_CLIPS} of 10 clips, 44.1 kHz stereo)" if quick
            else "music/eval (10 clips, 100 s, 44.1 kHz stereo)")


def speed_rows(medians: dict, binaries: list, quick: bool) -> list[dict]:
    """The sidecar rows: each model's median speed per direction and clock (higher is better),
    beside the --baseline build's (the peer) when one was measured, else with no peer."""
    rows = []
    baseline = binaries[1:]
    for m in sorted({m for m, _ in medians}, key=list(MODELS).index):
        data, unit, _, te, td = MODELS[m]
        for direction, target in (("encode", te), ("decode", td)):
            for clock, key in (("CPU", f"{direction}_cpu"), ("wall", direction)):
                rows.append({"kind": "speed", "what": f"WaLLoC {direction} ({clock}, one core, target ≥ {target}), "
                             f"{data_label(data, quick)}", "ours": m, "ours_value": round(medians[(m, binaries[0][0])][key], 3),
                             "peer": baseline[0][0] if baseline else None,
                             "peer_value": round(medians[(m, baseline[0][0])][key], 3) if baseline else None, "unit": unit})
    return rows


def replace_section(section: str) -> None:
    """Puts section in place of walloc.md's speed section (or at its end)."""
    text = RESULTS.read_text()
    start = text.find(HEADER)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + ("\n" + text[end + 1:] if end >= 0 else "")
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
