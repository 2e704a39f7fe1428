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
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CODEC = REPO / ".build" / "release" / "codec"
RESULTS = REPO / "Benchmarks" / "results" / "walloc.md"
KODAK = REPO.parent / "shared" / "data" / "images" / "kodak"
EVAL = REPO.parent / "shared" / "data" / "audio" / "music" / "eval"
HEADER = "## Speed, one core"
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
    args = p.parse_args()
    binaries = [("this build", args.codec)] + ([(args.baseline_label, args.baseline)] if args.baseline else [])
    listed = subprocess.run([str(args.codec), "list"], check=True, capture_output=True).stdout.decode()
    models = [m for m in MODELS if any(line.split()[:1] == [m] for line in listed.splitlines())]
    sets = {"kodak": sorted(KODAK.glob("*.png")), "eval": sorted(EVAL.glob("*.flac"))}
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
             f"Measured {started} on {cpu} ({os.cpu_count()} cores), `Benchmarks/walloc_speed.py`; load average "
             f"{min(loads):.1f} to {max(loads):.1f} over the runs (2 cores shared with training and builds). "
             "Kodak (24 images, 768x512) for the image models, music/eval (10 clips, 100 s, 44.1 kHz stereo) for the "
             "audio ones; samples = frames x channels. Wall: the span `codec roundtrip` times (file reading excluded). "
             "CPU: the process's CPU time over the same span, which waiting for a core under load does not inflate.", "",
             "| model | build | encode wall | encode CPU | target | decode wall | decode CPU | target | unit |",
             "|---|---|---|---|---|---|---|---|---|"]
    for m in models:
        _, unit, _, te, td = MODELS[m]
        for b, _ in binaries:
            med = {k: statistics.median(r[k] for r in runs[(m, b)]) for k in ("encode", "encode_cpu", "decode", "decode_cpu")}
            lines.append(f"| {m} | {b} | {med['encode']:.1f} | {med['encode_cpu']:.1f} | ≥ {te} | {med['decode']:.2f} | "
                         f"{med['decode_cpu']:.2f} | ≥ {td} | {unit} |")
    section = "\n".join(lines) + "\n"
    if not args.write:
        print(section)
        return
    text = RESULTS.read_text()
    start = text.find(HEADER)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + ("\n" + text[end + 1:] if end >= 0 else "")
    RESULTS.write_text(text)
    print(section)


if __name__ == "__main__":
    main()
