"""`make bench-lossless`: the `lossless` codec beside the formats people use, on the same files in
one run (issue 22). Writes a markdown table (sizes, and encode/decode speeds in MB of raw samples
per CPU second of the child process, so a loaded machine slows every coder alike) to stdout.

Every `lossless` file is decoded and compared sample for sample with its source; the peers'
outputs are sizes only (they are lossless by construction).

usage: lossless_bench.py CODEC_BINARY DATA_ROOT [--sets audio,images] [--jobs 2]
"""
import argparse
import concurrent.futures
import datetime
import os
import platform
import subprocess
import sys
import tempfile

import numpy as np
import soundfile
from PIL import Image

SETS = {
    "audio": [("music/eval (10 stereo clips)", "audio/music/eval", ".flac"),
              ("librispeech/test-other (60 clips)", "audio/speech/librispeech/test-other", ".flac")],
    "images": [("Kodak (24)", "images/kodak", ".png"),
               ("clic2025 (10)", "images/clic2025", ".png")],
}


def run(cmd):
    """Runs cmd and returns the CPU seconds (user + system) of that process alone (wait4), so
    files can be coded two at a time without their times mixing."""
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({process.returncode})")
    return usage.ru_utime + usage.ru_stime


def samples(path):
    """The raw samples as an integer array, and their size in bytes at the source depth."""
    if path.endswith(".png"):
        image = np.array(Image.open(path))
        return image, image.size * image.dtype.itemsize
    info = soundfile.info(path)
    data, _ = soundfile.read(path, dtype="int32", always_2d=True)
    depth = {"PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "PCM_S8": 1, "PCM_U8": 1}.get(info.subtype, 4)
    return data, data.size * depth


def peers(kind, source, work):
    """(name, command that writes `out`, command that decodes it) for each peer."""
    out = os.path.join(work, "peer")
    if kind == "audio":
        wav = os.path.join(work, "in.wav")
        subprocess.run(["flac", "-s", "-d", "-f", "-o", wav, source], check=True)
        return wav, [
            ("flac -8", ["flac", "-s", "-f", "-8", "-o", out + ".flac", wav], ["flac", "-s", "-d", "-f", "-o", out + ".wav", out + ".flac"], out + ".flac"),
            ("wavpack -hh -x6", ["wavpack", "-q", "-y", "-hh", "-x6", "-o", out + ".wv", wav], ["wvunpack", "-q", "-y", out + ".wv", "-o", out + ".wav"], out + ".wv"),
        ]
    return source, [
        ("cwebp -lossless -z 9", ["cwebp", "-quiet", "-lossless", "-z", "9", source, "-o", out + ".webp"], ["dwebp", "-quiet", out + ".webp", "-o", out + ".png"], out + ".webp"),
        ("cjxl -d 0 -e 7", ["cjxl", "--quiet", "--num_threads=1", "-d", "0", "-e", "7", source, out + ".jxl"], ["djxl", "--num_threads=1", out + ".jxl", out + ".png"], out + ".jxl"),
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("codec")
    parser.add_argument("data")
    parser.add_argument("--sets", default="audio,images")
    parser.add_argument("--jobs", type=int, default=2, help="files coded at once (CPU times are per process)")
    args = parser.parse_args()
    machine = subprocess.run(["sh", "-c", "lscpu | grep 'Model name' | sed 's/Model name: *//'"], capture_output=True, text=True).stdout.strip()
    print("# `lossless` beside FLAC, WavPack, WebP and JPEG XL\n")
    print(f"Machine: {machine or platform.processor()}, {os.cpu_count()} cores (shared; speeds are per CPU second "
          f"of the coder's process, start-up and file parsing included); {datetime.date.today().isoformat()}; "
          "`make bench-lossless`. Every `lossless` file decoded and compared sample for sample with its source.", flush=True)
    for kind in args.sets.split(","):
        for title, folder, extension in SETS[kind]:
            files = sorted(f for f in os.listdir(os.path.join(args.data, folder)) if f.endswith(extension))
            totals = {}  # name -> [bytes, encode s, decode s]

            def measure(name):
                """Every coder on one file, in a folder of its own: {coder: (bytes, encode s, decode s)}, raw bytes."""
                results = {}
                with tempfile.TemporaryDirectory() as work:
                    source = os.path.join(args.data, folder, name)
                    reference, raw = samples(source)
                    container = os.path.join(work, "x.nc")
                    decoded = os.path.join(work, "x" + (".png" if kind == "images" else extension))
                    encode_s = run([args.codec, "encode", "--quiet", "--force", "--codec", "lossless", "-o", container, source])
                    decode_s = run([args.codec, "decode", "--quiet", "--force", "-o", decoded, container])
                    back, _ = samples(decoded)
                    if back.shape != reference.shape or not np.array_equal(back, reference):
                        sys.exit(f"lossless: {source} does not decode exactly")
                    results["lossless"] = (os.path.getsize(container), encode_s, decode_s)
                    _, peer_list = peers(kind, source, work)
                    for peer, encode, decode, output in peer_list:
                        encode_s = run(encode)
                        results[peer] = (os.path.getsize(output), encode_s, run(decode))
                print(f"{title}: {name} done", file=sys.stderr)
                return results, raw, reference.size

            raw_total = sample_total = 0
            with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
                for results, raw, count in pool.map(measure, files):
                    raw_total += raw
                    sample_total += count
                    for coder, values in results.items():
                        entry = totals.setdefault(coder, [0, 0.0, 0.0])
                        for k in range(3):
                            entry[k] += values[k]
            lines = []
            lines.append(f"\n### {title}: {len(files)} files, {raw_total:,} bytes of raw samples\n")
            lines.append("| coder | bytes | × lossless | bits/sample | encode MB/s | decode MB/s |")
            lines.append("|---|---|---|---|---|---|")
            ours = totals["lossless"][0]
            for coder, (size, encode_s, decode_s) in totals.items():
                lines.append(f"| {coder} | {size:,} | {size / ours:.4f} | {8 * size / sample_total:.3f} "
                             f"| {raw_total / max(encode_s, 1e-9) / 1e6:.2f} | {raw_total / max(decode_s, 1e-9) / 1e6:.2f} |")
            print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
