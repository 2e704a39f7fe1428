"""`make bench-grvq`: the GRVQ speech codec (grvq-16k at 1, 2 and 3 kbit/s nominal) beside the
classical low-rate speech codecs, on librispeech/test-other (60 utterances, 16 kHz; evaluation
only, never trained on; read in place). BENCH_QUICK=1 takes the first 4 utterances and a 1-minute
memory file instead of 10 minutes.

Peers, all in this same run on the same clips: Opus (opusenc --bitrate 6, 8, 12; its floor is 6),
Codec2 1.0.5 (c2enc/c2dec 3200, 2400, 1600, 700C on 8 kHz 16-bit raw, resampled back to 16 kHz),
MP3 (lame at its lowest rates: 8 kbit/s at 8 kHz, 16 kbit/s at 16 kHz).

Every codec is measured the same way: encode to a file, decode, bitrate from the compressed file's
size (our container and its header included), fidelity against the original at 16 kHz: STOI (pystoi),
wide-band PESQ (pesq, ITU-T P.862.2), and a log-mel distance (64 HTK mels over 0-8 kHz, 32 ms
frames every 10 ms, natural log of energy + 1e-5, mean removed per clip, mean absolute difference;
the measure of Tests/GRVQTests/QualityTests.swift). Peers' decoders may shift the signal; each
decoded clip is aligned by the lag, within 1,600 samples, that maximizes correlation (ours keeps
the timing and is not shifted).

Index coding: the payload (chunk streams and their headers) against fixed 10-bit indices for the
same frames (2 groups x levels x 10 bits x 50 frames/s).

Speed: `codec roundtrip --json` over all clips pinned to one core (taskset -c 0), best of 2:
real-time factor = audio seconds / (encode + decode seconds). Memory: peak resident set
(/usr/bin/time -v) of `codec encode` and `codec decode` on a 1-minute and a 10-minute file made by
concatenating the clips (both stream: the file is read, resampled, coded and written block by block).
`grvq_bench.py --memory-only` (`make bench-grvq-memory`) measures only that, and rewrites only the
memory table of grvq.md and the `memory` entry of grvq.json, with its own date, machine and load.

Writes Benchmarks/results/grvq.md (or $GRVQ_BENCH_OUT), grvq.png beside it, and grvq.json (speeds,
for `make bench`'s report). Decoded clips to listen to go to .build/grvq-listen/ (not committed:
they are derived from the evaluation data).
"""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile
from scipy.signal import resample_poly

import sidecar  # Benchmarks/sidecar.py (this script's folder is first on sys.path)

REPO = Path(__file__).resolve().parents[1]
EVAL = REPO.parent / "shared" / "data" / "audio" / "speech" / "librispeech" / "test-other"
CODEC = REPO / ".build" / "release" / "codec"
QUICK = os.environ.get("BENCH_QUICK") == "1"
MEMORY_ONLY = "--memory-only" in sys.argv[1:]
OUT = Path(os.environ.get("GRVQ_BENCH_OUT", REPO / "Benchmarks" / "results" / "grvq.md"))
LISTEN = REPO / ".build" / "grvq-listen"
MODEL = "grvq-16k"
SR = 16000
LEVELS = [1, 2, 3]
OPUS = [6, 8, 12]
CODEC2 = ["3200", "2400", "1600", "700C"]
MP3 = [(8, 8000), (16, 16000)]  # kbit/s, sample rate lame codes at


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, **kw)


def read16k(path: Path) -> np.ndarray:
    x, sr = soundfile.read(str(path), dtype="float64", always_2d=True)
    x = x.mean(axis=1)
    if sr != SR:
        g = math.gcd(sr, SR)
        x = resample_poly(x, SR // g, sr // g)
    return x


def aligned(ref: np.ndarray, got: np.ndarray, max_lag: int = 1600) -> np.ndarray:
    n = 1 << int(math.ceil(math.log2(len(ref) + len(got))))
    corr = np.fft.irfft(np.fft.rfft(got, n) * np.conj(np.fft.rfft(ref, n)), n)
    lags = np.concatenate([np.arange(0, max_lag + 1), np.arange(-max_lag, 0)])
    lag = int(lags[np.argmax(corr[lags % n])])
    src = got[lag:] if lag >= 0 else np.concatenate([np.zeros(-lag), got])
    out = np.zeros_like(ref)
    m = min(len(ref), len(src))
    out[:m] = src[:m]
    return out


def fitted(ref: np.ndarray, got: np.ndarray) -> np.ndarray:
    out = np.zeros_like(ref)
    m = min(len(ref), len(got))
    out[:m] = got[:m]
    return out


def mel_filters(n_fft: int = 512, mels: int = 64) -> np.ndarray:
    hz = lambda m: 700 * (10 ** (m / 2595) - 1)  # noqa: E731
    edges = hz(np.linspace(0, 2595 * math.log10(1 + SR / 2 / 700), mels + 2))
    freqs = np.arange(n_fft // 2 + 1) * SR / n_fft
    fb = np.zeros((mels, len(freqs)))
    for i in range(mels):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        fb[i] = np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0, None)
    return fb


FILTERS = mel_filters()


def log_mel(x: np.ndarray, n_fft: int = 512, hop: int = 160) -> np.ndarray:
    x = np.concatenate([x, np.zeros(max(0, n_fft - len(x)))])
    frames = 1 + (len(x) - n_fft) // hop
    idx = np.arange(n_fft)[None] + hop * np.arange(frames)[:, None]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    power = np.abs(np.fft.rfft(x[idx] * window, axis=1)) ** 2
    m = np.log(power @ FILTERS.T + 1e-5)
    return m - m.mean()


def metrics(ref: np.ndarray, got: np.ndarray) -> dict:
    from pesq import pesq
    from pystoi import stoi
    try:
        p = float(pesq(SR, ref, got, "wb"))
    except Exception:  # pesq refuses clips it finds no speech in
        p = float("nan")
    return {"stoi": float(stoi(ref, got, SR, extended=False)), "pesq": p,
            "mel": float(np.mean(np.abs(log_mel(ref) - log_mel(got))))}


def grvq(levels: int, wav: Path, tmp: Path) -> tuple[int, np.ndarray, dict]:
    out, dec = tmp / "x.nc", tmp / "x_dec.wav"
    run([str(CODEC), "encode", "--codec", MODEL, "-p", f"kbps={levels}", "-o", str(out), "--force", "-q", str(wav)])
    run([str(CODEC), "decode", "-o", str(dec), "--force", "-q", str(out)])
    info = run([str(CODEC), "info", str(out)]).stdout.decode()
    payload = int(re.search(r"payload:\s+(\d+) bytes", info).group(1))
    return out.stat().st_size, read16k(dec), {"payload": payload}


def opus(kbps: int, wav: Path, tmp: Path) -> tuple[int, np.ndarray, dict]:
    out, dec = tmp / "x.opus", tmp / "x_dec.wav"
    run(["opusenc", "--quiet", "--bitrate", str(kbps), str(wav), str(out)])
    run(["opusdec", "--quiet", "--rate", str(SR), str(out), str(dec)])
    return out.stat().st_size, read16k(dec), {}


def codec2(mode: str, ref: np.ndarray, tmp: Path) -> tuple[int, np.ndarray, dict]:
    raw, bits, dec = tmp / "x8k.raw", tmp / "x.bit", tmp / "x_dec.raw"
    x8 = resample_poly(ref, 1, 2)
    np.clip(np.round(x8 * 32767), -32768, 32767).astype("<i2").tofile(raw)
    run(["c2enc", mode, str(raw), str(bits)])
    run(["c2dec", mode, str(bits), str(dec)])
    y = np.fromfile(dec, dtype="<i2").astype(np.float64) / 32768
    return bits.stat().st_size, resample_poly(y, 2, 1), {}


def mp3(kbps: int, rate: int, wav: Path, tmp: Path) -> tuple[int, np.ndarray, dict]:
    out, dec = tmp / "x.mp3", tmp / "x_dec.wav"
    run(["lame", "--quiet", "--resample", f"{rate / 1000:g}", "-b", str(kbps), "--cbr", str(wav), str(out)])
    run(["lame", "--quiet", "--decode", str(out), str(dec)])
    return out.stat().st_size, read16k(dec), {}


def speed(clips: list[Path], levels: int) -> dict:
    best = None
    for _ in range(2):
        res = json.loads(run(["taskset", "-c", "0", str(CODEC), "roundtrip", "--json", "-q", "--codec", MODEL,
                              "-p", f"kbps={levels}", *map(str, clips)]).stdout)
        seconds = sum(soundfile.info(str(c)).duration for c in clips)
        enc, dec = sum(r["encodeSeconds"] for r in res), sum(r["decodeSeconds"] for r in res)
        cur = {"encode": seconds / enc, "decode": seconds / dec, "both": seconds / (enc + dec)}
        best = cur if best is None else {k: max(best[k], cur[k]) for k in cur}
    return best


def peak_memory(cmd: list[str]) -> float:
    """Peak resident set of `cmd` in MiB."""
    res = subprocess.run(["/usr/bin/time", "-v", *cmd], check=True, capture_output=True)
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", res.stderr.decode()).group(1)) / 1024


def memory(clips: list[Path], minutes: list[int], tmp: Path) -> list[dict]:
    pool = np.concatenate([read16k(c) for c in clips])
    rows = []
    for m in minutes:
        n = m * 60 * SR
        x = np.tile(pool, -(-n // len(pool)))[:n]
        wav, nc, dec = tmp / f"long{m}.wav", tmp / f"long{m}.nc", tmp / f"long{m}_dec.wav"
        soundfile.write(str(wav), x, SR, subtype="PCM_16")
        t0 = time.time()
        enc = peak_memory([str(CODEC), "encode", "--codec", MODEL, "-p", "kbps=3", "-o", str(nc), "--force", "-q", str(wav)])
        t1 = time.time()
        decm = peak_memory([str(CODEC), "decode", "-o", str(dec), "--force", "-q", str(nc)])
        rows.append({"minutes": m, "encode_mib": enc, "decode_mib": decm, "encode_s": t1 - t0, "decode_s": time.time() - t1,
                     "samples_mib": n * 4 / 2**20})
    return rows


MEMORY_TABLE = "| file | encode peak RSS MiB | decode peak RSS MiB | its samples as Float32 MiB | encode s | decode s |"


def memory_lines(mem: list[dict], measured: str = "") -> list[str]:
    lines = [MEMORY_TABLE, "|---|---|---|---|---|---|"]
    for m in mem:
        lines.append(f"| {m['minutes']} min | {m['encode_mib']:.0f} | {m['decode_mib']:.0f} | {m['samples_mib']:.0f} | "
                     f"{m['encode_s']:.1f} | {m['decode_s']:.1f} |")
    return lines + ["", "Peak resident set (/usr/bin/time -v) of `codec encode -p kbps=3` and `codec decode` (all cores) on "
                    "the clips concatenated (16 kHz mono 16-bit WAV). Both stream: the CLI reads the file in blocks, "
                    "resamples as a stream, codes chunk by chunk (250 frames, 5 s) and writes decoded blocks to the "
                    "output as they come, so memory does not grow with the length; what does is the payload (about "
                    "225 KB for 10 minutes at 3 kbit/s) and, when decoding, the indices (12 bytes per frame)."
                    + (f" {measured}" if measured else "")]


def memory_only() -> None:
    """Reruns the memory measurement alone and rewrites its table in grvq.md and its entry in grvq.json."""
    clips = sorted(EVAL.glob("*.flac"))[:4 if QUICK else 60]
    if not clips:
        raise SystemExit(f"no clips in {EVAL}")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as t:
        mem = memory(clips, [1] if QUICK else [1, 10], Path(t))
    load1 = os.getloadavg()[0]
    measured = (f"This table measured {started} by `grvq_bench.py --memory-only` on {sidecar.machine()}; load average "
                f"{load0:.1f} at the start, {load1:.1f} at the end (the rest of the page is from the run above).")
    md = OUT.read_text().split("\n")
    start = md.index(MEMORY_TABLE)
    end = next(i for i in range(start, len(md)) if md[i].startswith("Peak resident set"))
    md[start:end + 1] = memory_lines(mem, measured)
    OUT.write_text("\n".join(md))
    side = OUT.with_suffix(".json")
    if side.exists():
        doc = json.loads(side.read_text())
        doc["memory"] = {"date": started, "machine": sidecar.machine(), "load": [round(load0, 2), round(load1, 2)],
                         "quick": QUICK, "rows": mem}
        side.write_text(json.dumps(doc, indent=1) + "\n")
    print("\n".join(memory_lines(mem, measured)))


def main() -> None:
    if MEMORY_ONLY:
        memory_only()
        return
    for tool in ["opusenc", "opusdec", "lame", "c2enc", "c2dec", "taskset", "/usr/bin/time"]:
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: make bench-grvq installs it (apt-get)")
    listed = run([str(CODEC), "list"]).stdout.decode()
    if not any(line.split()[:1] == [MODEL] for line in listed.splitlines()):
        raise SystemExit(f"{MODEL} is not registered in this build")
    clips = sorted(EVAL.glob("*.flac"))[:4 if QUICK else 60]
    if not clips:
        raise SystemExit(f"no clips in {EVAL}")
    card = (REPO / "Codecs" / MODEL / "codec.json")
    export_id = json.loads(card.read_text()).get("export_id") if card.exists() else None
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load0 = os.getloadavg()[0]
    systems = [(f"GRVQ {lv} kbit/s", "grvq", lv) for lv in LEVELS] + [(f"Opus {k}", "opus", k) for k in OPUS] \
        + [(f"Codec2 {m}", "codec2", m) for m in CODEC2] + [(f"MP3 {k} ({r // 1000} kHz)", "mp3", (k, r)) for k, r in MP3]
    rows = []
    LISTEN.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        for i, clip in enumerate(clips):
            ref = read16k(clip)
            dur = len(ref) / SR
            wav = tmp / "src.wav"
            soundfile.write(str(wav), ref, SR, subtype="PCM_16")
            ref = soundfile.read(str(wav), dtype="float64")[0]  # the 16-bit samples every codec sees
            for name, kind, arg in systems:
                if kind == "grvq":
                    size, got, extra = grvq(arg, wav, tmp)
                    got = fitted(ref, got)
                elif kind == "opus":
                    size, got, extra = opus(arg, wav, tmp)
                    got = aligned(ref, got)
                elif kind == "codec2":
                    size, got, extra = codec2(arg, ref, tmp)
                    got = aligned(ref, got)
                else:
                    size, got, extra = mp3(*arg, wav, tmp)
                    got = aligned(ref, got)
                if i < 3:
                    soundfile.write(str(LISTEN / f"{clip.stem}_{name.replace(' ', '_').replace('/', '')}.wav"), got, SR, subtype="PCM_16")
                rows.append({"clip": clip.name, "system": name, "kind": kind, "arg": arg, "bytes": size, "dur": dur,
                             **extra, **metrics(ref, got)})
            if i < 3:
                soundfile.write(str(LISTEN / f"{clip.stem}_original.wav"), ref, SR, subtype="PCM_16")
            print(f"  {i + 1}/{len(clips)} {clip.name}", file=sys.stderr, flush=True)
        speeds = {lv: speed(clips, lv) for lv in LEVELS}
        mem = memory(clips, [1] if QUICK else [1, 10], tmp)
    load1 = os.getloadavg()[0]
    seconds = sum(r["dur"] for r in rows if r["system"] == systems[0][0])

    def summary(name: str) -> dict:
        rs = [r for r in rows if r["system"] == name]
        pesqs = [r["pesq"] for r in rs if not math.isnan(r["pesq"])]
        return {"kbps": sum(r["bytes"] for r in rs) * 8 / sum(r["dur"] for r in rs) / 1000,
                "stoi": float(np.mean([r["stoi"] for r in rs])), "pesq": float(np.mean(pesqs)) if pesqs else float("nan"),
                "mel": float(np.mean([r["mel"] for r in rs])), "pesq_n": len(pesqs), "n": len(rs)}

    table = {name: summary(name) for name, _, _ in systems}
    lines = ["# GRVQ speech codec against the low-rate speech codecs", "",
             f"Measured {started} by `make bench-grvq` (`Benchmarks/grvq_bench.py`{', BENCH_QUICK=1' if QUICK else ''}) on "
             f"{sidecar.machine()}; load average {load0:.1f} at the start, {load1:.1f} at the end. Model: `Codecs/{MODEL}` "
             f"({'export ' + export_id if export_id else 'released'}). Data: librispeech/test-other, {len(clips)} utterances, "
             f"{seconds / 60:.1f} min, 16 kHz (evaluation only, never trained on).", "",
             "Bitrate from each compressed file's size (our container and its header included); STOI, wide-band PESQ and "
             "mel distance (lower is better) are means over the clips, against the 16-bit original at 16 kHz.", "",
             "| codec | kbit/s | STOI | PESQ (wb) | mel distance |", "|---|---|---|---|---|"]
    for name, _, _ in systems:
        s = table[name]
        note = f" ({s['pesq_n']} of {s['n']} clips)" if s["pesq_n"] < s["n"] else ""
        lines.append(f"| {name} | {s['kbps']:.2f} | {s['stoi']:.3f} | {s['pesq']:.3f}{note} | {s['mel']:.3f} |")
    lines += ["", "## Index coding: rANS under the model's frequency tables against fixed 10-bit indices", "",
              "| levels | fixed 10-bit kbit/s | payload kbit/s | saved |", "|---|---|---|---|"]
    for lv in LEVELS:
        rs = [r for r in rows if r["kind"] == "grvq" and r["arg"] == lv]
        dur = sum(r["dur"] for r in rs)
        fixed = sum(math.ceil(r["dur"] * SR / 320) * 2 * lv * 10 for r in rs) / dur / 1000
        coded = sum(r["payload"] for r in rs) * 8 / dur / 1000
        lines.append(f"| {lv} | {fixed:.3f} | {coded:.3f} | {100 * (1 - coded / fixed):.1f}% |")
    lines += ["", "## Targets (issue 20)", ""]
    o6 = table["Opus 6"]
    best3 = max((table[f"GRVQ {lv} kbit/s"] for lv in LEVELS), key=lambda s: s["stoi"])
    g2 = table["GRVQ 2 kbit/s"]
    c2400 = table["Codec2 2400"]
    lines += ["| target | measured | met |", "|---|---|---|",
              f"| ≤ 3 kbit/s: STOI ≥ Opus 6's ({o6['stoi']:.3f}) | best GRVQ {best3['stoi']:.3f} | "
              f"{'yes' if best3['stoi'] >= o6['stoi'] else '**no**'} |",
              f"| ≤ 3 kbit/s: PESQ ≥ Opus 6's ({o6['pesq']:.3f}) | best GRVQ {max(table[f'GRVQ {lv} kbit/s']['pesq'] for lv in LEVELS):.3f} | "
              f"{'yes' if max(table[f'GRVQ {lv} kbit/s']['pesq'] for lv in LEVELS) >= o6['pesq'] else '**no**'} |",
              f"| 2 kbit/s: STOI ≥ 0.85 and > Codec2 2400's ({c2400['stoi']:.3f}) | {g2['stoi']:.3f} | "
              f"{'yes' if g2['stoi'] >= 0.85 and g2['stoi'] > c2400['stoi'] else '**no**'} |",
              f"| encode + decode ≥ 10x real time, one core | {min(s['both'] for s in speeds.values()):.1f}x (slowest rate) | "
              f"{'yes' if min(s['both'] for s in speeds.values()) >= 10 else '**no**'} |"]
    lines += ["", "## Speed and memory", "",
              "| kbit/s | encode x real time | decode x real time | encode + decode x real time |", "|---|---|---|---|"]
    for lv in LEVELS:
        s = speeds[lv]
        lines.append(f"| {lv} | {s['encode']:.1f} | {s['decode']:.1f} | {s['both']:.1f} |")
    lines += ["", "`codec roundtrip --json` over the clips, pinned to one core (taskset -c 0), release build, best of 2.", "",
              *memory_lines(mem), "",
              f"Decoded clips to listen to (first 3 utterances, every codec, aligned as scored): `{LISTEN.relative_to(REPO)}/` "
              "(not committed; rerun the bench to make them).", "", "![STOI and PESQ against bitrate](grvq.png)", ""]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines))
    plot(table, systems, OUT.with_suffix(".png"))
    side = [{"kind": "speed", "what": f"{MODEL} {lv} kbit/s encode + decode (one core)", "ours": MODEL,
             "ours_value": round(speeds[lv]["both"], 2), "peer": None, "peer_value": None, "unit": "x real time"} for lv in LEVELS]
    if OUT == REPO / "Benchmarks" / "results" / "grvq.md":
        sidecar.write("grvq", side, memory={"date": started, "machine": sidecar.machine(), "load": [round(load0, 2), round(load1, 2)],
                                            "quick": QUICK, "rows": mem})
    print("\n".join(lines))


def plot(table: dict, systems: list, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    families = {"grvq": ("GRVQ", "o-"), "opus": ("Opus", "s-"), "codec2": ("Codec2", "^-"), "mp3": ("MP3", "v-")}
    for kind, (label, style) in families.items():
        names = [n for n, k, _ in systems if k == kind]
        xs = [table[n]["kbps"] for n in names]
        for ax, key in zip(axes, ["stoi", "pesq"]):
            ax.plot(xs, [table[n][key] for n in names], style, label=label)
    for ax, key in zip(axes, ["STOI", "PESQ (wide-band)"]):
        ax.set_xscale("log")
        ax.set_xlabel("kbit/s")
        ax.set_ylabel(key)
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle("librispeech/test-other: GRVQ against Opus, Codec2 and MP3")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
