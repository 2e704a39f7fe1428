"""`make bench-walloc`, audio part: the stereo WaLLoC models against Opus and MP3 at matched
bitrates, with FLAC as the lossless size, on ../shared/data/audio/music/eval (10 stereo clips,
44.1 kHz, 16-bit; evaluation only, never trained on). BENCH_QUICK=1 takes the first 3 clips.

Every codec is measured the same way in this run: encode to a file, decode to WAV, bitrate from
the compressed file's size (our container included), fidelity from the decoded samples against
the original, computed here. The peers run at the bitrate our model reached on the same clip
(Opus: opusenc --bitrate, VBR; MP3: lame ABR, which takes 8 to 320 kbit/s), so each row pair
compares equal rates. Peers' decoders may shift the signal (MP3's encoder delay); the decoded
clip is aligned to the original by the lag, within 4,096 samples, that maximizes correlation.

Two PSNR figures, because two conventions exist:
- PSNR (full scale): samples in [-1, 1), peak 1, as `codec roundtrip` reports (Metrics.Fidelity).
- PSNR (WaLLoC's): after WaLLoC's own input scaling (mean removed, peak scaled to 0.5), with peak 1:
  the convention of the published figures (39.0 dB at 5x, 33.3 dB at 20x on MUSDB), equal to the
  full-scale one plus 20·log10(2·peak) of each clip.
The issue's targets (5x: >= 21:1 and >= 38 dB; 20x: >= 76:1 and >= 33 dB) are judged on WaLLoC's
convention, the one they were taken from; both are printed.

Appends its section to $APPEND_TO (Benchmarks/results/walloc.md) when set, else prints it.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

import sidecar  # Benchmarks/sidecar.py (this script's folder is first on sys.path)

REPO = Path(__file__).resolve().parents[1]
EVAL = REPO.parent / "shared" / "data" / "audio" / "music" / "eval"
CODEC = REPO / ".build" / "release" / "codec"
QUICK = os.environ.get("BENCH_QUICK") == "1"
MODELS = {"walloc-stereo-5x": (21, 38), "walloc-stereo-20x": (76, 33)}  # ratio, PSNR (WaLLoC's)


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True)


def read(path: Path) -> tuple[np.ndarray, int]:
    x, sr = soundfile.read(str(path), dtype="float64", always_2d=True)
    return x, sr


def aligned(ref: np.ndarray, got: np.ndarray, max_lag: int = 4096) -> np.ndarray:
    """`got` shifted by the lag (|lag| <= max_lag) that best correlates its mid channel with the
    original's, cut or zero-padded to the original's length."""
    a, b = ref.mean(axis=1), got.mean(axis=1)
    n = 1 << int(math.ceil(math.log2(len(a) + len(b))))
    corr = np.fft.irfft(np.fft.rfft(b, n) * np.conj(np.fft.rfft(a, n)), n)
    lags = np.concatenate([np.arange(0, max_lag + 1), np.arange(-max_lag, 0)])
    lag = int(lags[np.argmax(corr[lags % n])])
    out = np.zeros_like(ref)
    src = got[lag:] if lag >= 0 else np.concatenate([np.zeros((-lag, got.shape[1])), got])
    m = min(len(ref), len(src))
    out[:m] = src[:m, :ref.shape[1]]
    return out


def fidelity(ref: np.ndarray, got: np.ndarray) -> dict:
    mse = float(np.mean((ref - got) ** 2))
    centred = ref - ref.mean()
    peak = float(np.abs(centred).max())
    full = float("inf") if mse == 0 else 10 * math.log10(1.0 / mse)
    return {"psnr": full, "psnr_walloc": full + 20 * math.log10(2 * peak) if peak > 0 else full,
            "snr": 10 * math.log10(float(np.mean(ref ** 2)) / mse) if mse > 0 else float("inf")}


def ours(model: str, clip: Path, tmp: Path) -> tuple[int, np.ndarray]:
    out, dec = tmp / "x.nc", tmp / "x_dec.wav"
    run([str(CODEC), "encode", "--codec", model, "-o", str(out), "--force", "-q", str(clip)])
    run([str(CODEC), "decode", "-o", str(dec), "--force", "-q", str(out)])
    return out.stat().st_size, read(dec)[0]


def opus(kbps: float, wav: Path, tmp: Path) -> tuple[int, np.ndarray]:
    out, dec = tmp / "x.opus", tmp / "x_dec.wav"
    run(["opusenc", "--quiet", "--bitrate", f"{max(kbps, 6):.2f}", str(wav), str(out)])
    run(["opusdec", "--quiet", "--rate", "44100", str(out), str(dec)])
    return out.stat().st_size, read(dec)[0]


def mp3(kbps: float, wav: Path, tmp: Path) -> tuple[int, np.ndarray]:
    out, dec = tmp / "x.mp3", tmp / "x_dec.wav"
    run(["lame", "--quiet", "--abr", str(int(round(min(max(kbps, 8), 320)))), str(wav), str(out)])
    run(["lame", "--quiet", "--decode", str(out), str(dec)])
    return out.stat().st_size, read(dec)[0]


def speeds(model: str, clips: list[Path]) -> dict:
    """One core: encode and decode megasamples (frames x channels) per second, best of 2."""
    best = None
    for _ in range(2):
        res = json.loads(run(["taskset", "-c", "0", str(CODEC), "roundtrip", "--json", "-q", "--codec", model,
                              *map(str, clips)]).stdout)
        ms = sum(int(r["rawBytes"]) / 2 for r in res) / 1e6  # 16-bit samples
        cur = {"encode": ms / sum(r["encodeSeconds"] for r in res), "decode": ms / sum(r["decodeSeconds"] for r in res)}
        best = cur if best is None else {k: max(best[k], cur[k]) for k in cur}
    return best


def main() -> None:
    for tool in ["opusenc", "opusdec", "lame", "flac", "taskset"]:
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: make bench-walloc installs it (apt-get)")
    listed = run([str(CODEC), "list"]).stdout.decode()
    models = [m for m in MODELS if any(line.split()[:1] == [m] for line in listed.splitlines())]
    clips = sorted(EVAL.glob("*.flac"))[:3 if QUICK else None]
    if not clips:
        raise SystemExit(f"no clips in {EVAL}")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load0 = os.getloadavg()[0]
    rows, flac_bytes, raw_bytes, seconds = [], 0, 0, 0.0
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        for i, clip in enumerate(clips):
            ref, sr = read(clip)
            wav = tmp / "src.wav"
            soundfile.write(str(wav), ref, sr, subtype="PCM_16")
            raw = ref.shape[0] * ref.shape[1] * 2
            dur = ref.shape[0] / sr
            raw_bytes += raw
            seconds += dur
            run(["flac", "--silent", "-8", "-f", "-o", str(tmp / "x.flac"), str(wav)])
            flac_bytes += (tmp / "x.flac").stat().st_size
            for m in models:
                size, got = ours(m, clip, tmp)
                kbps = size * 8 / dur / 1000
                rows.append({"clip": clip.name, "codec": m, "model": m, "bytes": size, "raw": raw, "dur": dur,
                             **fidelity(ref, aligned(ref, got, 0))})  # ours keeps the timing
                for name, fn in (("Opus", opus), ("MP3", mp3)):
                    size, got = fn(kbps, wav, tmp)
                    rows.append({"clip": clip.name, "codec": name, "model": m, "bytes": size, "raw": raw, "dur": dur,
                                 **fidelity(ref, aligned(ref, got))})
            print(f"  {i + 1}/{len(clips)} {clip.name}", file=sys.stderr, flush=True)
    speed = {m: speeds(m, clips) for m in models}
    load1 = os.getloadavg()[0]

    lines = ["", "## Audio: stereo models against Opus and MP3 at matched bitrates", "",
             f"Measured {started}, `Benchmarks/walloc_audio_bench.py`{' with BENCH_QUICK=1' if QUICK else ''}; "
             f"load average {load0:.1f} at the start, {load1:.1f} at the end. music/eval, {len(clips)} stereo clips, "
             f"{seconds:.0f} s, 44.1 kHz 16-bit ({raw_bytes:,} bytes raw). FLAC -8 (lossless): {flac_bytes:,} bytes, "
             f"{raw_bytes / flac_bytes:.2f}:1, {flac_bytes * 8 / seconds / 1000:.0f} kbit/s. "
             "Ratio = raw bytes / compressed bytes over all clips; PSNR and SNR are means over clips "
             "(see the script's docstring for the two PSNR conventions).", ""]
    if not models:
        lines.append("No stereo WaLLoC model is released in this build: nothing measured.")
    else:
        lines += ["| matched to | codec | kbit/s | ratio | PSNR full-scale dB | PSNR WaLLoC's dB | SNR dB |",
                  "|---|---|---|---|---|---|---|"]
        for m in models:
            for name in (m, "Opus", "MP3"):
                rs = [r for r in rows if r["model"] == m and r["codec"] == name]
                b, raw, dur = sum(r["bytes"] for r in rs), sum(r["raw"] for r in rs), sum(r["dur"] for r in rs)
                mean = lambda k: float(np.mean([r[k] for r in rs]))  # noqa: E731
                lines.append(f"| {m} | {name} | {b * 8 / dur / 1000:.1f} | {raw / b:.1f}:1 | {mean('psnr'):.2f} | "
                             f"{mean('psnr_walloc'):.2f} | {mean('snr'):.2f} |")
        lines += ["", "| model | ratio | target | PSNR (WaLLoC's) | target | met | encode Msamples/s | target | decode Msamples/s | target |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for m in models:
            rs = [r for r in rows if r["codec"] == m]
            ratio = sum(r["raw"] for r in rs) / sum(r["bytes"] for r in rs)
            p = float(np.mean([r["psnr_walloc"] for r in rs]))
            tr, tp = MODELS[m]
            s = speed[m]
            lines.append(f"| {m} | {ratio:.1f}:1 | ≥ {tr}:1 | {p:.2f} dB | ≥ {tp} dB | "
                         f"{'yes' if ratio >= tr and p >= tp else '**no**'} | {s['encode']:.1f} | ≥ 20 | "
                         f"{s['decode']:.2f} | ≥ 2 |")
        lines += ["", "Speeds: `codec roundtrip --json` pinned to one core (taskset -c 0), release build, best of 2; "
                  "samples = frames x channels."]
    side = []
    for m in models:
        for name in (m, "Opus", "MP3"):
            rs = [r for r in rows if r["model"] == m and r["codec"] == name]
            b, dur = sum(r["bytes"] for r in rs), sum(r["dur"] for r in rs)
            side.append({"kind": "fidelity", "data": f"music/eval ({len(clips)} clips)", "codec": name,
                         "setting": f"matched to {m}" if name != m else "", "rate": round(b * 8 / dur / 1000, 2),
                         "rate_unit": "kbit/s", "psnr": round(float(np.mean([r["psnr"] for r in rs])), 3)})
        side.append({"kind": "speed", "what": f"{m} encode (one core)", "ours": m, "ours_value": round(speed[m]["encode"], 2),
                     "peer": None, "peer_value": None, "unit": "Msamples/s"})
        side.append({"kind": "speed", "what": f"{m} decode (one core)", "ours": m, "ours_value": round(speed[m]["decode"], 2),
                     "peer": None, "peer_value": None, "unit": "Msamples/s"})
    side.append({"kind": "fidelity", "data": f"music/eval ({len(clips)} clips)", "codec": "FLAC -8", "setting": "",
                 "rate": round(flac_bytes * 8 / seconds / 1000, 2), "rate_unit": "kbit/s", "exact": True})
    sidecar.write("walloc-audio", side)
    text = "\n".join(lines) + "\n"
    dest = os.environ.get("APPEND_TO")
    if dest:
        with open(dest, "a") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    main()
