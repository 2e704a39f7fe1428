"""`make bench-walloc`: WaLLoC against the classical codecs, written to Benchmarks/results/walloc.md.

Images: the 24 Kodak photos (evaluation only; BENCH_QUICK=1 takes the first 4). Every codec, ours
and the peers, is measured the same way in this run: encode to a file, decode to pixels, then
bits per pixel from the compressed file's size (our container included) and PSNR / MS-SSIM from
the decoded pixels, both computed here. Peers: JPEG (cjpeg -optimize; it reads PPM), WebP (cwebp
-m 6), JPEG XL (cjxl -e 7), AVIF (avifenc 0.11: quality through --min/--max). Speeds come from
`codec roundtrip --json` pinned to one core (taskset). Latent coding: the size of our rANS stream
against lossless WebP and PNG of the same latents tiled into one 8-bit image (`codec latents`).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

import sidecar  # Benchmarks/sidecar.py (this script's folder is first on sys.path)

REPO = Path(__file__).resolve().parents[1]
KODAK = REPO.parent / "shared" / "data" / "images" / "kodak"
CODEC = REPO / ".build" / "release" / "codec"
RESULTS = REPO / "Benchmarks" / "results"
QUICK = os.environ.get("BENCH_QUICK") == "1"

PEERS = {
    "JPEG": ([20, 50, 85], "cjpeg"),
    "WebP": ([20, 50, 85], "cwebp"),
    "JPEG XL": ([30, 60, 85], "cjxl"),
    "AVIF": ([50, 35, 20], "avifenc"),  # --min/--max quantizer (lower is better quality)
}


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, **kw)


# ---------------------------------------------------------------- fidelity

def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def _gauss(x: np.ndarray) -> np.ndarray:
    """Separable 11-tap Gaussian (sigma 1.5), 'valid' region (the border of 5 cut), on a 2-D array."""
    from scipy.ndimage import correlate1d
    t = np.arange(11) - 5
    g = np.exp(-t ** 2 / (2 * 1.5 ** 2))
    g /= g.sum()
    return correlate1d(correlate1d(x, g, axis=1), g, axis=0)[5:-5, 5:-5]


def _ssim(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = _gauss(x), _gauss(y)
    sxx, syy, sxy = _gauss(x * x) - mx * mx, _gauss(y * y) - my * my, _gauss(x * y) - mx * my
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    return float(np.mean((2 * mx * my + c1) / (mx * mx + my * my + c1) * cs)), float(np.mean(cs))


def ms_ssim(a: np.ndarray, b: np.ndarray) -> float:
    """MS-SSIM (Wang, Simoncelli & Bovik 2003; 5 scales, the standard weights), mean over channels."""
    w = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])
    out = []
    for c in range(a.shape[2]):
        x, y = a[:, :, c].astype(np.float32), b[:, :, c].astype(np.float32)
        vals = []
        for s in range(5):
            ssim, cs = _ssim(x, y)
            vals.append(max(ssim if s == 4 else cs, 1e-9))
            if s < 4:
                h, wd = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
                x = x[:h, :wd].reshape(h // 2, 2, wd // 2, 2).mean(axis=(1, 3))
                y = y[:h, :wd].reshape(h // 2, 2, wd // 2, 2).mean(axis=(1, 3))
        out.append(float(np.prod(np.array(vals) ** w)))
    return float(np.mean(out))


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


# ---------------------------------------------------------------- codecs

def peer_file(name: str, q: int, src_png: Path, src_ppm: Path, tmp: Path) -> tuple[Path, Path]:
    """Encodes with a peer at quality q; returns (compressed file, decoded PNG/PPM)."""
    if name == "JPEG":
        out = tmp / "x.jpg"
        run(["cjpeg", "-optimize", "-quality", str(q), "-outfile", str(out), str(src_ppm)])
        dec = tmp / "x_dec.ppm"
        run(["djpeg", "-outfile", str(dec), str(out)])
    elif name == "WebP":
        out = tmp / "x.webp"
        run(["cwebp", "-quiet", "-m", "6", "-q", str(q), str(src_png), "-o", str(out)])
        dec = tmp / "x_dec.png"
        run(["dwebp", "-quiet", str(out), "-o", str(dec)])
    elif name == "JPEG XL":
        out = tmp / "x.jxl"
        run(["cjxl", "-e", "7", "-q", str(q), str(src_png), str(out)])
        dec = tmp / "x_dec.png"
        run(["djxl", str(out), str(dec)])
    else:
        out = tmp / "x.avif"
        run(["avifenc", "--min", str(q), "--max", str(q), "-s", "6", str(src_png), str(out)])
        dec = tmp / "x_dec.png"
        run(["avifdec", str(out), str(dec)])
    return out, dec


def ours_file(model: str, src_png: Path, tmp: Path) -> tuple[Path, Path]:
    out, dec = tmp / "x.nc", tmp / "x_dec.png"
    run([str(CODEC), "encode", "--codec", model, "-o", str(out), "--force", "-q", str(src_png)])
    run([str(CODEC), "decode", "-o", str(dec), "--force", "-q", str(out)])
    return out, dec


def measure_images(models: list[str], images: list[Path]) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        for i, img in enumerate(images):
            ref = load_rgb(img)
            pixels = ref.shape[0] * ref.shape[1]
            ppm = tmp / "src.ppm"
            Image.fromarray(ref).save(ppm)
            jobs = [(m, None) for m in models] + [(p, q) for p, (qs, _) in PEERS.items() for q in qs]
            for name, q in jobs:
                start = time.perf_counter()
                f, dec = ours_file(name, img, tmp) if q is None else peer_file(name, q, img, ppm, tmp)
                seconds = time.perf_counter() - start  # encode + decode processes, start-up included
                got = load_rgb(dec)
                rows.append({"image": img.name, "codec": name, "quality": q, "bytes": f.stat().st_size, "seconds": seconds, "pixels": pixels,
                             "bpp": f.stat().st_size * 8 / pixels, "ratio": ref.size / f.stat().st_size,
                             "psnr": psnr(ref, got), "msssim": ms_ssim(ref, got)})
            print(f"  {i + 1}/{len(images)} {img.name}", file=sys.stderr, flush=True)
    return rows


def speeds(model: str, images: list[Path]) -> dict:
    """One core: encode and decode megapixels per second over the images (best of 2 runs each)."""
    best = None
    load = os.getloadavg()[0]
    for _ in range(2):
        out = run(["taskset", "-c", "1", str(CODEC), "roundtrip", "--json", "-q", "--codec", model, *map(str, images)]).stdout
        res = json.loads(out)
        mp = sum(int(r["rawBytes"]) / 3 for r in res) / 1e6
        enc = sum(r["encodeSeconds"] for r in res)
        dec = sum(r["decodeSeconds"] for r in res)
        cur = {"encode": mp / enc, "decode": mp / dec}
        best = cur if best is None else {k: max(best[k], cur[k]) for k in cur}
    return {**best, "load": (load + os.getloadavg()[0]) / 2}


def latent_sizes(model: str, images: list[Path]) -> dict | None:
    """Our rANS latent stream against lossless WebP and PNG of the same latents, tiled into
    one grayscale image per photo (channels side by side), summed over the photos."""
    probe = subprocess.run([str(CODEC), "latents", "--help"], capture_output=True)
    if probe.returncode != 0:
        return None
    ours = webp = png = 0
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        for img in images:
            npy, nc = tmp / "l.npy", tmp / "x.nc"
            run([str(CODEC), "latents", "--codec", model, "-o", str(npy), "--force", "-q", str(img)])
            run([str(CODEC), "encode", "--codec", model, "-o", str(nc), "--force", "-q", str(img)])
            lat = np.load(npy)
            lat = lat.reshape(-1, *lat.shape[-2:]) if lat.ndim > 3 else lat
            tiled = np.concatenate(list(lat), axis=1).astype(np.uint8)
            Image.fromarray(tiled).save(tmp / "t.png", optimize=True)
            run(["cwebp", "-quiet", "-lossless", "-z", "9", str(tmp / "t.png"), "-o", str(tmp / "t.webp")])
            ours += nc.stat().st_size
            webp += (tmp / "t.webp").stat().st_size
            png += (tmp / "t.png").stat().st_size
    return {"ours": ours, "webp": webp, "png": png}


# ---------------------------------------------------------------- report

def mean(rows, key):
    return float(np.mean([r[key] for r in rows]))


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    groups = {}
    for r in rows:
        groups.setdefault((r["codec"], r["quality"]), []).append(r)
    by_codec = {}
    for (codec, q), rs in groups.items():
        by_codec.setdefault(codec, []).append((mean(rs, "bpp"), mean(rs, "psnr"), mean(rs, "msssim")))
    for codec, pts in by_codec.items():
        pts.sort()
        style = dict(marker="*", markersize=14, linestyle="none") if codec.startswith("walloc") else dict(marker="o")
        axes[0].plot([p[0] for p in pts], [p[1] for p in pts], label=codec, **style)
        axes[1].plot([p[0] for p in pts], [p[2] for p in pts], label=codec, **style)
    axes[0].set(xlabel="bits per pixel", ylabel="PSNR (dB)", title="Kodak: PSNR")
    axes[1].set(xlabel="bits per pixel", ylabel="MS-SSIM", title="Kodak: MS-SSIM")
    for a in axes:
        a.grid(alpha=0.3)
        a.set_xlim(left=0)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write_sidecar(groups: dict, speed: dict, count: int) -> None:
    """Benchmarks/results/walloc.json for `make bench`'s report: every codec's mean rate and fidelity;
    each model's round trip (encode + decode processes, as every codec ran here) beside each peer's
    middle quality; and the one-core speeds (no peer measured that way)."""
    data = f"Kodak ({count} images)"
    rows = []
    for (codec, q), rs in groups.items():
        setting = "" if q is None else (f"--min/--max {q}" if codec == "AVIF" else f"q{q}")
        rows.append({"kind": "fidelity", "data": data, "codec": codec, "setting": setting, "rate": round(mean(rs, "bpp"), 4),
                     "rate_unit": "bpp", "psnr": round(mean(rs, "psnr"), 3), "msssim": round(mean(rs, "msssim"), 5)})
    mp = lambda rs: sum(r["pixels"] for r in rs) / 1e6 / sum(r["seconds"] for r in rs)
    for (codec, q), rs in groups.items():
        if q is not None:
            continue
        for peer, (qs, _) in PEERS.items():
            peer_rows = groups[(peer, qs[1])]
            rows.append({"kind": "speed", "what": f"image encode + decode (processes), {data}", "ours": codec,
                         "ours_value": round(mp(rs), 3), "peer": f"{peer} {'--min/--max ' if peer == 'AVIF' else 'q'}{qs[1]}",
                         "peer_value": round(mp(peer_rows), 3), "unit": "MP/s"})
        for direction in ("encode", "decode"):
            rows.append({"kind": "speed", "what": f"WaLLoC {direction}, one core (taskset), {data}", "ours": codec,
                         "ours_value": round(speed[codec][direction], 3), "peer": None, "peer_value": None, "unit": "MP/s"})
    sidecar.write("walloc", rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--models", default="walloc-rgb-16x,walloc-rgb-4x")
    args = p.parse_args()
    listed = run([str(CODEC), "list"]).stdout.decode()
    models = [m for m in args.models.split(",") if any(line.split()[:1] == [m] for line in listed.splitlines())]
    images = sorted(KODAK.glob("*.png"))[:4 if QUICK else None]
    if not images:
        raise SystemExit(f"no Kodak images in {KODAK}")
    for tool in ["cjpeg", "djpeg", "cwebp", "dwebp", "cjxl", "djxl", "avifenc", "avifdec", "taskset"]:
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: make bench-walloc installs it (apt-get)")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load0 = os.getloadavg()[0]
    rows = measure_images(models, images)
    speed = {m: speeds(m, images) for m in models}
    latents = {m: latent_sizes(m, images) for m in models}
    load1 = os.getloadavg()[0]
    RESULTS.mkdir(parents=True, exist_ok=True)
    plot(rows, RESULTS / "walloc-rd.png")
    hashes = {}
    for m in models:
        # The folder the Swift side loads (NEURALCODECS_MODELS first, as CodecKit.ModelStore searches),
        # so the figures carry the hash of the weights they were measured with.
        found = [Path(b) / m / "codec.json" for b in (os.environ.get("NEURALCODECS_MODELS"), REPO / "Codecs") if b]
        cfg = json.loads(next((f for f in found if f.exists()), found[-1]).read_text())
        hashes[m] = cfg["weights"]["fnv1a64"]
    cpu = platform.processor() or "x86-64"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = [
        "# WaLLoC benchmark", "",
        f"Measured {started} on {cpu} ({os.cpu_count()} cores), `make bench-walloc`"
        f"{' with BENCH_QUICK=1 (first 4 images)' if QUICK else ''}; load average {load0:.1f} at the start, "
        f"{load1:.1f} at the end. Kodak, {len(images)} images, 768x512 RGB. Bits per pixel from the compressed "
        "file (our container included); PSNR and MS-SSIM over RGB, computed by this script for every codec.",
        "Weights measured: " + ", ".join(f"`{m}` {h}" for m, h in hashes.items()) + ".", "",
        "## Rate and fidelity (mean over images)", "",
        "| codec | setting | bpp | ratio | PSNR dB | MS-SSIM |", "|---|---|---|---|---|---|",
    ]
    groups = {}
    for r in rows:
        groups.setdefault((r["codec"], r["quality"]), []).append(r)
    for (codec, q), rs in groups.items():
        setting = "" if q is None else (f"--min/--max {q}" if codec == "AVIF" else f"q{q}")
        lines.append(f"| {codec} | {setting} | {mean(rs, 'bpp'):.3f} | {mean(rs, 'ratio'):.1f}:1 | "
                     f"{mean(rs, 'psnr'):.2f} | {mean(rs, 'msssim'):.4f} |")
    lines += ["", "![rate-distortion](walloc-rd.png)", "", "## Targets (issue 18)", "",
              "| model | ratio (mean) | target | PSNR (mean) | target | met |", "|---|---|---|---|---|---|"]
    targets = {"walloc-rgb-16x": (35, 27.5), "walloc-rgb-4x": (8.5, 33.5)}
    for m in models:
        rs = groups[(m, None)]
        tr, tp = targets.get(m, (0, 0))
        ok = mean(rs, "ratio") >= tr and mean(rs, "psnr") >= tp
        lines.append(f"| {m} | {mean(rs, 'ratio'):.1f}:1 | ≥ {tr}:1 | {mean(rs, 'psnr'):.2f} dB | ≥ {tp} dB | {'yes' if ok else '**no**'} |")
    lines += ["", "## Speed, one core (taskset -c 1), release build, best of 2", "",
              "Wall clock of `codec roundtrip` (file reading excluded); on 2 shared cores a load average above 1",
              "slows it, so each row gives the load it ran under.", "",
              "| model | encode MP/s | target | decode MP/s | target | load average |", "|---|---|---|---|---|---|"]
    for m, s in speed.items():
        lines.append(f"| {m} | {s['encode']:.1f} | ≥ 20 | {s['decode']:.2f} | ≥ 1 | {s['load']:.1f} |")
    lines += ["", "## Latent coding: our rANS against lossless WebP and PNG of the same latents", ""]
    if all(v is None for v in latents.values()):
        lines.append("Not measured: this build has no `codec latents` command yet.")
    else:
        lines += ["| model | ours (container) | cwebp -lossless -z 9 | PNG | ours / WebP | ours / PNG |", "|---|---|---|---|---|---|"]
        for m, v in latents.items():
            if v:
                lines.append(f"| {m} | {v['ours']:,} | {v['webp']:,} | {v['png']:,} | {v['ours'] / v['webp']:.3f} | "
                             f"{v['ours'] / v['png']:.3f} |")
        lines.append("")
        lines.append("Sizes in bytes summed over the images; ours is the whole container (header and payload), "
                     "the others the bare latent image, tiled channel after channel.")
    (RESULTS / "walloc.md").write_text("\n".join(lines) + "\n")
    write_sidecar(groups, speed, len(images))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
