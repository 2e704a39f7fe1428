"""`make bench-lossless`: the `lossless` codec beside the formats people use, on the same files in
one run (issue 22). Writes its page (per set: sizes, bits per sample, and encode/decode speeds in MB
of raw samples per CPU second of the child process, so a loaded machine slows every coder alike;
issue 22's targets; the run time of each set) and Benchmarks/results/lossless.json (sidecar.py)
for `make bench`'s report: each set's rate per coder (fidelity "exact") and our speed beside each
peer's, each direction.

Every `lossless` file is decoded and compared sample for sample with its source; the peers'
outputs are sizes only (they are lossless by construction).

The page is Benchmarks/results/lossless.md, or with BENCH_QUICK=1 (or --quick: the first
QUICK_FILES files of every set, every row kept) .build/bench-quick/lossless.md, so a quick run
never replaces the committed full run (sidecar.page). --out writes it elsewhere. A run that fails
writes neither page nor sidecar.

usage: lossless_bench.py CODEC_BINARY DATA_ROOT [--sets audio,images] [--jobs 2] [--quick | --limit N] [--out PAGE]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile
from PIL import Image

import sidecar  # Benchmarks/sidecar.py (this script's folder is first on sys.path)

QUICK_FILES = 2
# kind -> (name, folder under DATA_ROOT, extension, what a file is)
SETS = {
    "audio": [("music/eval", "audio/music/eval", ".flac", "stereo clips"),
              ("librispeech/test-other", "audio/speech/librispeech/test-other", ".flac", "clips")],
    "images": [("Kodak", "images/kodak", ".png", "images"),
               ("clic2025", "images/clic2025", ".png", "images")],
}
OURS = "lossless"
# Issue 22's size targets: (peer, the largest allowed ratio of our total to the peer's), and the
# decode speed every set must reach (MB of raw samples per CPU second, one core).
TARGETS = {"audio": [("flac -8", 0.97), ("wavpack -hh -x6", 1.0)],
           "images": [("cwebp -lossless -z 9", 1.0), ("cjxl -d 0 -e 7", 1.0)]}
DECODE_TARGET = 2.0
# The moonshot: images below JPEG XL's slowest effort (not a requirement; reported beside).
MOONSHOTS = {"images": [("cjxl -d 0 -e 9", 1.0)]}


def run(cmd):
    """Runs cmd and returns the CPU seconds (user + system) of that process alone (wait4), so
    files can be coded two at a time without their times mixing."""
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({process.returncode})")
    return usage.ru_utime + usage.ru_stime


AUDIO_DEPTH = {"PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "PCM_S8": 1, "PCM_U8": 1}


def samples(path):
    """The raw samples as an integer array, and their size in bytes at the source depth."""
    if path.endswith(".png"):
        image = np.array(Image.open(path))
        return image, image.size * image.dtype.itemsize
    info = soundfile.info(path)
    data, _ = soundfile.read(path, dtype="int32", always_2d=True)
    return data, data.size * AUDIO_DEPTH.get(info.subtype, 4)


def raw_size(path):
    """Raw sample bytes from the header alone (no decoding): sizes the sets a run left out."""
    if path.endswith(".png"):
        with Image.open(path) as image:
            return image.width * image.height * len(image.getbands()) * (2 if image.mode.startswith("I") else 1)
    info = soundfile.info(path)
    return info.frames * info.channels * AUDIO_DEPTH.get(info.subtype, 4)


def peers(kind, source, work):
    """(name, command that writes the output, command that decodes it, output) for each peer."""
    out = os.path.join(work, "peer")
    if kind == "audio":
        wav = os.path.join(work, "in.wav")
        subprocess.run(["flac", "-s", "-d", "-f", "-o", wav, source], check=True)
        return [
            ("flac -8", ["flac", "-s", "-f", "-8", "-o", out + ".flac", wav], ["flac", "-s", "-d", "-f", "-o", out + ".wav", out + ".flac"], out + ".flac"),
            ("wavpack -hh -x6", ["wavpack", "-q", "-y", "-hh", "-x6", "-o", out + ".wv", wav], ["wvunpack", "-q", "-y", out + ".wv", "-o", out + ".wav"], out + ".wv"),
        ]
    return [
        ("cwebp -lossless -z 9", ["cwebp", "-quiet", "-lossless", "-z", "9", source, "-o", out + ".webp"], ["dwebp", "-quiet", out + ".webp", "-o", out + ".png"], out + ".webp"),
        ("cjxl -d 0 -e 7", ["cjxl", "--quiet", "--num_threads=1", "-d", "0", "-e", "7", source, out + ".jxl"], ["djxl", "--num_threads=1", out + ".jxl", out + ".png"], out + ".jxl"),
        # The moonshot's peer: about 14x cjxl -e 7's encode time (15 CPU s per Kodak image).
        ("cjxl -d 0 -e 9", ["cjxl", "--quiet", "--num_threads=1", "-d", "0", "-e", "9", source, out + "-e9.jxl"], ["djxl", "--num_threads=1", out + "-e9.jxl", out + "-e9.png"], out + "-e9.jxl"),
    ]


def measure(codec, kind, source, extension):
    """Every coder on one file, in a folder of its own: {coder: (bytes, encode s, decode s)}, raw
    bytes and sample count."""
    results = {}
    with tempfile.TemporaryDirectory() as work:
        reference, raw = samples(source)
        container = os.path.join(work, "x.nc")
        decoded = os.path.join(work, "x" + (".png" if kind == "images" else extension))
        encode_s = run([codec, "encode", "--quiet", "--force", "--codec", OURS, "-o", container, source])
        decode_s = run([codec, "decode", "--quiet", "--force", "-o", decoded, container])
        back, _ = samples(decoded)
        if back.shape != reference.shape or not np.array_equal(back, reference):
            sys.exit(f"{OURS}: {source} does not decode exactly")
        results[OURS] = (os.path.getsize(container), encode_s, decode_s)
        for peer, encode, decode, output in peers(kind, source, work):
            encode_s = run(encode)
            results[peer] = (os.path.getsize(output), encode_s, run(decode))
    return results, raw, reference.size


def split(coder):
    """'cjxl -d 0 -e 7' -> ('cjxl', '-d 0 -e 7'): the report's codec and setting columns."""
    name, _, setting = coder.partition(" ")
    return name, setting


def label(name, noun, run_files, all_files):
    return f"{name} ({all_files} {noun})" if run_files == all_files else f"{name} (first {run_files} of {all_files} {noun})"


def set_rows(data, totals, raw_total, sample_total):
    """The sidecar rows of one set: every coder's rate (bits per sample, container included;
    fidelity "exact": ours is checked, the peers are lossless formats), and ours beside each peer
    for encode and decode speed (unit "MB/CPU s": MB of raw samples per CPU second of the coder's
    process; higher is better)."""
    rows = []
    for coder, (size, _, _) in totals.items():
        codec, setting = split(coder)
        rows.append({"kind": "fidelity", "data": data, "codec": codec, "setting": setting,
                     "rate": round(8 * size / sample_total, 4), "rate_unit": "bits/sample", "exact": True})
    speed = lambda seconds: round(raw_total / max(seconds, 1e-9) / 1e6, 3)
    for k, direction in ((1, "encode"), (2, "decode")):
        for coder, values in totals.items():
            if coder != OURS:
                rows.append({"kind": "speed", "what": f"lossless {direction}, {data}", "ours": OURS,
                             "ours_value": speed(totals[OURS][k]), "peer": coder, "peer_value": speed(values[k]),
                             "unit": "MB/CPU s"})
    return rows


def set_table(title, totals, raw_total, sample_total):
    lines = [f"\n### {title}: {raw_total:,} bytes of raw samples\n",
             "| coder | bytes | × lossless | bits/sample | encode MB/s | decode MB/s |", "|---|---|---|---|---|---|"]
    ours = totals[OURS][0]
    for coder, (size, encode_s, decode_s) in totals.items():
        lines.append(f"| {coder} | {size:,} | {size / ours:.4f} | {8 * size / sample_total:.3f} "
                     f"| {raw_total / max(encode_s, 1e-9) / 1e6:.2f} | {raw_total / max(decode_s, 1e-9) / 1e6:.2f} |")
    return lines


def targets_table(measured):
    """Issue 22's targets against this run: measured is [(kind, title, totals, raw_total)]."""
    lines = ["\n### Against issue 22's targets (this run)\n",
             "| set | target | measured | met |", "|---|---|---|---|"]
    for kind, title, totals, raw_total in measured:
        ours = totals[OURS][0]
        for peer, limit in TARGETS[kind]:
            ratio = ours / totals[peer][0]
            lines.append(f"| {title} | total ≤ {limit:.2f}x {peer} | {ratio:.3f}x | {'yes' if ratio <= limit else '**no**'} |")
        decode = raw_total / max(totals[OURS][2], 1e-9) / 1e6
        lines.append(f"| {title} | decode ≥ {DECODE_TARGET:g} MB/s | {decode:.2f} MB/s | {'yes' if decode >= DECODE_TARGET else '**no**'} |")
        for peer, limit in MOONSHOTS.get(kind, []):
            ratio = ours / totals[peer][0]
            lines.append(f"| {title} | moonshot: total < {limit:.2f}x {peer} | {ratio:.3f}x | {'yes' if ratio < limit else 'no'} |")
    return lines


def timing_table(timings):
    """How long each set took in this run and what all of its files would take at the same pace
    (scaled by raw bytes): timings is [(title, files run, all files, raw run, raw all, wall s, totals)]."""
    lines = ["\n### Run time of each set (this run)\n",
             "Wall seconds of the set (verification and waiting for a core included) and CPU seconds of each "
             "coder's processes, encode + decode; the last two columns scale this run to every file of the set "
             "by raw bytes (the wall time depends on the load; the coders' CPU time much less).\n",
             "| set | files | wall s | CPU s per coder | whole set, est. wall s | whole set, est. coders' CPU s |",
             "|---|---|---|---|---|---|"]
    for title, run_files, all_files, raw_run, raw_all, wall, totals in timings:
        cpu = {c: t[1] + t[2] for c, t in totals.items()}
        scale = raw_all / raw_run
        lines.append(f"| {title} | {run_files} of {all_files} | {wall:.0f} | {', '.join(f'{c} {s:.1f}' for c, s in cpu.items())} | "
                     f"{wall * scale:.0f} | {sum(cpu.values()) * scale:.0f} |")
    return lines


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("codec")
    parser.add_argument("data")
    parser.add_argument("--sets", default="audio,images")
    parser.add_argument("--jobs", type=int, default=2, help="files coded at once (CPU times are per process)")
    parser.add_argument("--quick", action="store_true", help=f"the first {QUICK_FILES} files of each set (also BENCH_QUICK=1)")
    parser.add_argument("--limit", type=int, help="the first N files of each set")
    parser.add_argument("--out", type=Path, help="the page (default: sidecar.page('lossless'))")
    args = parser.parse_args()
    if args.quick or args.limit:
        os.environ["BENCH_QUICK"] = "1"  # fewer files: the sidecar records it and sidecar.page follows it
    limit = args.limit or (QUICK_FILES if sidecar.quick() else None)
    kinds = args.sets.split(",")
    if unknown := [k for k in kinds if k not in SETS]:
        sys.exit(f"--sets: unknown set(s) {', '.join(unknown)} (audio, images)")
    if not os.access(args.codec, os.X_OK):
        sys.exit(f"lossless_bench: {args.codec}: no codec binary there (build it: swift build -c release)")
    if missing := [f for k in kinds for _, f, _, _ in SETS[k] if not os.path.isdir(os.path.join(args.data, f))]:
        sys.exit(f"lossless_bench: {', '.join(os.path.join(args.data, f) for f in missing)}: not found (the data root is ../shared/data)")
    out = args.out or sidecar.page("lossless")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load0 = os.getloadavg()[0]
    body, rows, measured, timings = [], [], [], []
    for kind in kinds:
        for name, folder, extension, noun in SETS[kind]:
            folder = os.path.join(args.data, folder)
            every = sorted(f for f in os.listdir(folder) if f.endswith(extension))
            files = every[:limit]
            title = label(name, noun, len(files), len(every))
            totals = {}  # coder -> [bytes, encode s, decode s]
            raw_total = sample_total = 0
            t0 = time.monotonic()
            pool = concurrent.futures.ThreadPoolExecutor(args.jobs)
            try:
                jobs = [pool.submit(measure, args.codec, kind, os.path.join(folder, f), extension) for f in files]
                for f, job in zip(files, jobs):
                    results, raw, count = job.result()
                    print(f"{title}: {f} done", file=sys.stderr, flush=True)
                    raw_total += raw
                    sample_total += count
                    for coder, values in results.items():
                        entry = totals.setdefault(coder, [0, 0.0, 0.0])
                        for k in range(3):
                            entry[k] += values[k]
            finally:  # a failed file stops the run: the files not started yet are dropped
                pool.shutdown(wait=True, cancel_futures=True)
            wall = time.monotonic() - t0
            raw_all = raw_total + sum(raw_size(os.path.join(folder, f)) for f in every[len(files):])
            table = set_table(title, totals, raw_total, sample_total)
            print("\n".join(table), flush=True)
            body += table
            rows += set_rows(title, totals, raw_total, sample_total)
            measured.append((kind, title, totals, raw_total))
            timings.append((title, len(files), len(every), raw_total, raw_all, wall, totals))
    page = ["# `lossless` beside FLAC, WavPack, WebP and JPEG XL", "",
            f"Measured {started} on {sidecar.machine()} (shared: load average {load0:.1f} at the start, "
            f"{os.getloadavg()[0]:.1f} at the end), `make bench-lossless`"
            + (f" in quick mode (BENCH_QUICK=1 or --limit: the first {limit} files of each set; a check of the "
               "plumbing and of the time a full run takes, not the result)" if limit else "")
            + f", {args.jobs} file(s) at a time. Speeds are MB of raw samples per CPU second of the coder's process, "
            "start-up and file parsing included. Every `lossless` file decoded and compared sample for sample "
            "with its source; sizes include our container (about 45 bytes a file)."]
    page += body + targets_table(measured) + timing_table(timings)
    sidecar.write_page(out, "\n".join(page) + "\n")
    print(f"wrote {out} and {sidecar.write('lossless', rows, page=out)}", file=sys.stderr)


if __name__ == "__main__":
    main()
