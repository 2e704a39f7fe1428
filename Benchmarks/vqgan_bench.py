"""`make bench-vqgan`: the VQGAN extreme-rate codec (issue 21) on Kodak, written to
Benchmarks/results/vqgan.md, vqgan.json and vqgan-grid.png.

Everything goes through the `codec` command (release build) with `--codec MODEL` (vqgan-f16 by
default; NEURALCODECS_MODELS chooses the weights, as for every command), on the 24 Kodak photos
(evaluation only; `--quick` or BENCH_QUICK=1: the first 2). Every codec, ours and the baselines, is
measured the same way in this run: bits per pixel from the compressed file's size (our container
included), PSNR and MS-SSIM over RGB from the decoded pixels, computed here (walloc_bench's code).

- Ours at each K the model offers, with the learned prior (the file as written) and without it:
  the same indices at log2(K) bits each plus the same container header (what the paper sends),
  computed from the index count; same pixels, so same fidelity.
- Baselines: downscale by 4 and by 8 (bicubic), cwebp -m 6 / cjpeg -optimize at the highest
  quality whose file lands at or below our rate on that image, bicubic upscale; and WebP (q 0) and
  JPEG (q 1) at full size, their lowest settings.
- Restoration: a fraction (5, 10, 20, 30%) of the index blocks of each file damaged (a byte flipped
  inside each chosen block, seeded), decoded by `codec decode` (which must say "restored N of M");
  MS-SSIM against the original beside the undamaged decode's. At the default unit for every
  fraction; at the other units (4, 8, 16) at 20%, with their rates, to choose the unit.
- Speed: `codec roundtrip --json` pinned to one core (taskset), decode and encode megapixels per
  second in the process (model loaded once), per K, on the first 4 images; plus the whole
  `codec decode` process per file (start-up and model load included).
- Machine perception: the deep feature distance of `codec score --task similarity` (the scoring
  issue's LPIPS-like measure, lower is better) of every decoded picture above, ours at each K and the
  baselines at that K's rate, to the original.
- A grid of Kodak crops: original, ours at each K, ours with 20% of blocks lost, the
  downscale baselines matched to the largest K's rate.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

import sidecar  # Benchmarks/sidecar.py (this script's folder is first on sys.path)
from walloc_bench import load_rgb, ms_ssim, psnr  # the one fidelity code of the image benchmarks

REPO = Path(__file__).resolve().parents[1]
KODAK = REPO.parent / "shared" / "data" / "images" / "kodak"
CODEC = REPO / ".build" / "release" / "codec"
LOSSES = [5, 10, 20, 30]
UNITS = [4, 8, 16]
DOWN = 16  # pixels per index along each side


def run(cmd: list, check: bool = True, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise SystemExit(f"failed ({r.returncode}): {' '.join(map(str, cmd))}\n{r.stderr}")
    return r


def child_cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


# ---------------------------------------------------------------- our files

def rates_and_unit(model: str) -> tuple[list[int], int]:
    """The K the model offers and the default unit, from `codec list` (what the codec declares)."""
    text = run([CODEC, "list"]).stdout
    section = text.split(f"\n{model} options (-p name=value):", 1)
    if len(section) < 2:
        raise SystemExit(f"{model} is not registered in this build (`codec list`): apply the registration "
                         "(Registry.swift) and build, or pass --model")
    ks = re.search(r"codebook size ([\d|]+)", section[1])
    unit = re.search(r"unit \(default (\d+)\)", section[1])
    if not ks or not unit:
        raise SystemExit(f"cannot read {model}'s k and unit options from `codec list`")
    return sorted(map(int, ks.group(1).split("|")), reverse=True), int(unit.group(1))


def layout(data: bytes, width: int, height: int) -> dict:
    """Where things are in one of our files (docs/FORMAT.md, docs/VQGAN.md payload layout 1):
    header size, K, unit, and each index block's byte range in the file."""
    assert data[:4] == b"NCDC", "not a container"
    version, o = data[4], 6
    o += 1 + data[o]  # codec id
    o += 1 + data[o]  # model id
    o += 8  # model hash
    kind = data[o]
    assert kind == 1, "not an image"
    o += 1 + 11
    length = int.from_bytes(data[o:o + 8], "little")
    o += 8 + (4 if version >= 2 else 0)
    payload = data[o:o + length]
    unit, k = payload[1], int.from_bytes(payload[2:6], "little")
    rows, cols = -(-height // DOWN), -(-width // DOWN)
    blocks = -(-rows // unit) * -(-cols // unit)
    p, lengths = 6, []
    for _ in range(blocks):
        v, shift = 0, 0
        while True:
            b = payload[p]
            p += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        lengths.append(v)
    p += 2 * blocks + 4  # the checks and the table's CRC
    ranges, start = [], o + p
    for n in lengths:
        ranges.append((start, start + n))
        start += n
    assert start == o + length, "block table disagrees with the payload"
    return {"header": o + 4, "k": k, "unit": unit, "indices": rows * cols, "blocks": ranges}


def fixed_length_bits(lay: dict) -> int:
    """The paper's coding: every index at log2(K) bits (whole bytes), the same container header
    and trailing CRC, the payload's 6-byte head; no block table, no prior."""
    return 8 * (lay["header"] + 6) + 8 * math.ceil(lay["indices"] * math.log2(lay["k"]) / 8)


def encode_all(model: str, images: list[Path], out: Path, k: int, unit: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    run([CODEC, "encode", "--codec", model, "-p", f"k={k}", "-p", f"unit={unit}", "-q", "--force", "-o", out, *images])


def decode_one(nc: Path, png: Path, one_core: bool = False, strict: bool = False) -> tuple[subprocess.CompletedProcess, float, float]:
    """`codec decode` of one file; returns the process, its wall and CPU seconds."""
    cmd = (["taskset", "-c", "1"] if one_core else []) + [CODEC, "decode", "--force", "-q", *(["--strict"] if strict else []), "-o", png, nc]
    c0, t0 = child_cpu(), time.perf_counter()
    r = run(cmd, check=False)
    return r, time.perf_counter() - t0, child_cpu() - c0


# ---------------------------------------------------------------- baselines

def peer(name: str, q: int, src: Image.Image, tmp: Path) -> tuple[int, Image.Image]:
    """Compressed size and decoded picture of `src` through cwebp -m 6 or cjpeg -optimize at q."""
    if name == "WebP":
        src.save(tmp / "p.png")
        run(["cwebp", "-quiet", "-m", "6", "-q", q, tmp / "p.png", "-o", tmp / "p.webp"])
        run(["dwebp", "-quiet", tmp / "p.webp", "-o", tmp / "p_dec.png"])
        size, dec = (tmp / "p.webp").stat().st_size, tmp / "p_dec.png"
    else:
        src.save(tmp / "p.ppm")  # Debian's cjpeg does not read PNG
        run(["cjpeg", "-optimize", "-quality", q, "-outfile", tmp / "p.jpg", tmp / "p.ppm"])
        run(["djpeg", "-outfile", tmp / "p_dec.ppm", tmp / "p.jpg"])
        size, dec = (tmp / "p.jpg").stat().st_size, tmp / "p_dec.ppm"
    with Image.open(dec) as im:
        return size, im.convert("RGB").copy()


LOWEST = {"WebP": 0, "JPEG": 1}


def matched(name: str, scale: int, ref: np.ndarray, target_bits: float, tmp: Path) -> dict:
    """Downscale by `scale` (bicubic), code at the highest quality whose file is at most
    `target_bits`, upscale back (bicubic). If even the lowest quality is larger, that one, marked."""
    h, w = ref.shape[:2]
    small = Image.fromarray(ref).resize((max(1, round(w / scale)), max(1, round(h / scale))), Image.BICUBIC)
    lo, hi, best = LOWEST[name], 100, None
    cache = {}

    def at(q):
        if q not in cache:
            cache[q] = peer(name, q, small, tmp)
        return cache[q]

    while lo <= hi:  # sizes grow with quality (near enough: the search may miss a non-monotone step)
        mid = (lo + hi) // 2
        if at(mid)[0] * 8 <= target_bits:
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    fits = best is not None
    q = best if fits else LOWEST[name]
    size, dec = at(q)
    got = np.asarray(dec.resize((w, h), Image.BICUBIC))
    return {"quality": q, "fits": fits, "bits": size * 8, "decoded": got}


def full_size_lowest(name: str, ref: np.ndarray, tmp: Path) -> dict:
    size, dec = peer(name, LOWEST[name], Image.fromarray(ref), tmp)
    return {"quality": LOWEST[name], "bits": size * 8, "decoded": np.asarray(dec)}


# ---------------------------------------------------------------- machine perception

def similarity(images: list[Path], folder: Path) -> float:
    """Mean deep feature distance of the decoded pictures in `folder` (named as the originals) to the
    originals: `codec score --task similarity --decoded`."""
    res = json.loads(run([CODEC, "score", "--task", "similarity", "--decoded", folder, "--json", "-q", *images]).stdout)
    return next(p["distance"] for p in res["points"] if p["codec"] != "original")


def save_png(picture: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(picture).save(path)


# ---------------------------------------------------------------- damage

def damaged(data: bytes, lay: dict, fraction: float, rng: random.Random) -> tuple[bytes, int]:
    """`data` with a byte flipped in the middle of round(fraction · blocks) blocks (at least one)."""
    blocks = lay["blocks"]
    n = max(1, round(fraction * len(blocks)))
    bad = bytearray(data)
    for b in rng.sample(range(len(blocks)), n):
        start, end = blocks[b]
        bad[(start + end) // 2] ^= 0xA5
    return bytes(bad), n


def restore_row(nc: Path, lay: dict, fraction: float, seed: int, ref: np.ndarray, clean: np.ndarray, tmp: Path) -> dict:
    bad, n = damaged(nc.read_bytes(), lay, fraction, random.Random(seed))
    (tmp / "bad.nc").write_bytes(bad)
    r, _, _ = decode_one(tmp / "bad.nc", tmp / "bad.png")
    said = re.search(r"restored (\d+) of (\d+) index blocks", r.stderr)
    if r.returncode != 0 or not said or (int(said.group(1)), int(said.group(2))) != (n, len(lay["blocks"])):
        raise SystemExit(f"restoration of {nc.name} with {n} of {len(lay['blocks'])} blocks damaged: exit {r.returncode}, "
                         f"stderr: {r.stderr.strip()!r} (expected 'restored {n} of {len(lay['blocks'])} index blocks')")
    got = load_rgb(tmp / "bad.png")
    return {"damaged": n, "blocks": len(lay["blocks"]), "msssim": ms_ssim(ref, got), "psnr": psnr(ref, got),
            "msssim_vs_clean": ms_ssim(clean, got), "decoded": got}


# ---------------------------------------------------------------- speed

def speeds(model: str, images: list[Path], k: int) -> dict:
    """One core, in the process: `codec roundtrip --json` (decode and encode wall and CPU seconds)."""
    res = json.loads(run(["taskset", "-c", "1", CODEC, "roundtrip", "--json", "-q", "--codec", model, "-p", f"k={k}", *images]).stdout)
    rows = res["results"] if isinstance(res, dict) else res
    mp = sum(r["rawBytes"] / 3 for r in rows) / 1e6
    return {"decode": mp / sum(r["decodeSeconds"] for r in rows), "decode_cpu": mp / sum(r["decodeCPUSeconds"] for r in rows),
            "encode": mp / sum(r["encodeSeconds"] for r in rows), "encode_cpu": mp / sum(r["encodeCPUSeconds"] for r in rows)}


# ---------------------------------------------------------------- the run

def grid(columns: list[tuple[str, list[np.ndarray]]], path: Path, crop: int = 160) -> None:
    """One row per image, one column per codec: the centre crop of each decoded picture."""
    label, gap = 16, 4
    rows = len(columns[0][1])
    sheet = Image.new("RGB", (len(columns) * (crop + gap), label + rows * (crop + gap)), "white")
    draw = ImageDraw.Draw(sheet)
    for c, (name, pictures) in enumerate(columns):
        draw.text((c * (crop + gap) + 2, 2), name.replace("÷", "/"), fill="black")  # the default font has no ÷
        for r, pic in enumerate(pictures):
            h, w = pic.shape[:2]
            y, x = (h - crop) // 2, (w - crop) // 2
            sheet.paste(Image.fromarray(pic[y:y + crop, x:x + crop]), (c * (crop + gap), label + r * (crop + gap)))
    sheet.save(path, optimize=True)


def mean(rows: list[dict], key: str) -> float:
    return float(np.mean([r[key] for r in rows]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="vqgan-f16")
    p.add_argument("--quick", action="store_true", help="the first 2 images (also BENCH_QUICK=1); every row kept")
    p.add_argument("--grid-images", type=int, default=3, help="rows of the crop grid")
    p.add_argument("--speed-images", type=int, default=4)
    p.add_argument("--seed", type=int, default=21)
    args = p.parse_args()
    if args.quick:
        os.environ["BENCH_QUICK"] = "1"  # the sidecar records it and sidecar.page follows it
    quick = sidecar.quick()
    for tool in ["cwebp", "dwebp", "cjpeg", "djpeg", "taskset"]:
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: make bench-vqgan installs it (apt-get)")
    if not CODEC.exists():
        raise SystemExit(f"{CODEC} is missing: `swift build -c release` (make bench-vqgan builds it)")
    images = sorted(KODAK.glob("*.png"))[:2 if quick else None]
    if not images:
        raise SystemExit(f"no Kodak images in {KODAK}")
    ks, default_unit = rates_and_unit(args.model)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load0 = os.getloadavg()[0]
    refs = {img.name: load_rgb(img) for img in images}
    shown = [img.name for img in images[:args.grid_images]]
    pictures: dict[str, dict[str, np.ndarray]] = {name: {} for name in shown}
    ours, base, restore, units, process_speed = [], [], [], [], []

    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        files: dict[tuple[int, int], Path] = {}
        # Ours at each K, default unit; the decoded pictures the restoration compares against.
        clean: dict[tuple[int, int, str], np.ndarray] = {}
        for k in ks:
            folder = tmp / f"k{k}-u{default_unit}"
            encode_all(args.model, images, folder, k, default_unit)
            files[(k, default_unit)] = folder
            for img in images:
                ref, nc = refs[img.name], folder / (img.name + ".nc")
                r, wall, cpu = decode_one(nc, folder / img.name, one_core=True)
                if r.returncode != 0 or r.stderr.strip():
                    raise SystemExit(f"decode of {nc.name} at k={k}: exit {r.returncode}: {r.stderr.strip()}")
                got = load_rgb(folder / img.name)
                clean[(k, default_unit, img.name)] = got
                lay = layout(nc.read_bytes(), ref.shape[1], ref.shape[0])
                pixels = ref.shape[0] * ref.shape[1]
                ours.append({"image": img.name, "k": k, "unit": default_unit, "bits": nc.stat().st_size * 8, "pixels": pixels,
                             "bpp": nc.stat().st_size * 8 / pixels, "bpp_fixed": fixed_length_bits(lay) / pixels,
                             "psnr": psnr(ref, got), "msssim": ms_ssim(ref, got)})
                process_speed.append({"k": k, "pixels": pixels, "wall": wall, "cpu": cpu})
                if img.name in pictures:
                    pictures[img.name][f"ours K={k}"] = got
            print(f"  ours k={k}: {mean([o for o in ours if o['k'] == k], 'bpp'):.4f} bpp", file=sys.stderr, flush=True)

        # Baselines at each K's rate, image by image; the lowest settings once.
        for img in images:
            ref = refs[img.name]
            pixels = ref.shape[0] * ref.shape[1]
            for k in ks:
                target = next(o["bits"] for o in ours if o["image"] == img.name and o["k"] == k)
                for scale in (4, 8):
                    for name in ("WebP", "JPEG"):
                        m = matched(name, scale, ref, target, tmp)
                        save_png(m["decoded"], tmp / "similarity" / f"{name}-{scale}-k{k}" / img.name)
                        base.append({"image": img.name, "codec": f"{name} ÷{scale}", "k": k, "quality": m["quality"], "fits": m["fits"],
                                     "bpp": m["bits"] / pixels, "psnr": psnr(ref, m["decoded"]), "msssim": ms_ssim(ref, m["decoded"])})
                        if img.name in pictures and k == ks[0]:
                            pictures[img.name][f"{name} ÷{scale}"] = m["decoded"]
            for name in ("WebP", "JPEG"):
                m = full_size_lowest(name, ref, tmp)
                save_png(m["decoded"], tmp / "similarity" / f"{name}-lowest" / img.name)
                base.append({"image": img.name, "codec": f"{name} lowest", "k": None, "quality": m["quality"], "fits": True,
                             "bpp": m["bits"] / pixels, "psnr": psnr(ref, m["decoded"]), "msssim": ms_ssim(ref, m["decoded"])})
            print(f"  baselines {img.name}", file=sys.stderr, flush=True)

        # Machine perception of every decoded set above.
        perception = {("ours", k): similarity(images, files[(k, default_unit)]) for k in ks}
        for k in ks:
            for scale in (4, 8):
                for name in ("WebP", "JPEG"):
                    perception[(f"{name} ÷{scale}", k)] = similarity(images, tmp / "similarity" / f"{name}-{scale}-k{k}")
        for name in ("WebP", "JPEG"):
            perception[(f"{name} lowest", None)] = similarity(images, tmp / "similarity" / f"{name}-lowest")
        print("  feature distances", file=sys.stderr, flush=True)

        # Restoration at the largest K: every fraction at the default unit, 20% at the other units.
        k = ks[0]
        for unit in UNITS:
            if (k, unit) not in files:
                folder = tmp / f"k{k}-u{unit}"
                encode_all(args.model, images, folder, k, unit)
                files[(k, unit)] = folder
            for i, img in enumerate(images):
                ref, nc = refs[img.name], files[(k, unit)] / (img.name + ".nc")
                lay = layout(nc.read_bytes(), ref.shape[1], ref.shape[0])
                if (k, unit, img.name) not in clean:
                    r, _, _ = decode_one(nc, tmp / "clean.png")
                    if r.returncode != 0:
                        raise SystemExit(f"decode of {nc.name} at unit {unit}: {r.stderr.strip()}")
                    clean[(k, unit, img.name)] = load_rgb(tmp / "clean.png")
                c = clean[(k, unit, img.name)]
                units.append({"image": img.name, "unit": unit, "bpp": nc.stat().st_size * 8 / (ref.shape[0] * ref.shape[1]),
                              "blocks": len(lay["blocks"]), "msssim": ms_ssim(ref, c)})
                for loss in (LOSSES if unit == default_unit else [20]):
                    row = restore_row(nc, lay, loss / 100, args.seed * 1000 + i * 10 + loss, ref, c, tmp)
                    if img.name in pictures and unit == default_unit and loss == 20:
                        pictures[img.name][f"K={k}, 20% lost"] = row["decoded"]
                    del row["decoded"]
                    restore.append({"image": img.name, "unit": unit, "loss": loss, "clean_msssim": ms_ssim(ref, c), **row})
            print(f"  restoration unit {unit}", file=sys.stderr, flush=True)
        # --strict refuses a damaged file (exit 2), naming the damaged blocks.
        nc = files[(k, default_unit)] / (images[0].name + ".nc")
        lay = layout(nc.read_bytes(), refs[images[0].name].shape[1], refs[images[0].name].shape[0])
        bad, n = damaged(nc.read_bytes(), lay, 0.2, random.Random(args.seed))
        (tmp / "strict.nc").write_bytes(bad)
        r, _, _ = decode_one(tmp / "strict.nc", tmp / "strict.png", strict=True)
        strict_ok = r.returncode == 2 and f"{n} of {len(lay['blocks'])} index blocks are damaged" in r.stderr
        if not strict_ok:
            raise SystemExit(f"--strict on a damaged file: exit {r.returncode}, {r.stderr.strip()!r}")

    speed = {k: speeds(args.model, images[:args.speed_images], k) for k in ks}
    load1 = os.getloadavg()[0]
    write_report(args, quick, images, ks, default_unit, ours, base, restore, units, speed, process_speed, pictures,
                 perception, started, load0, load1)


# ---------------------------------------------------------------- report

def weights_hash(model: str) -> str:
    """The hash of the weights the CLI loaded (NEURALCODECS_MODELS first, as CodecKit.ModelStore searches)."""
    found = [Path(b) / model / "codec.json" for b in (os.environ.get("NEURALCODECS_MODELS"), REPO / "Codecs") if b]
    for f in found:
        if f.exists():
            return str(json.loads(f.read_text())["weights"]["fnv1a64"])
    return "unknown"


def write_report(args, quick, images, ks, default_unit, ours, base, restore, units, speed, process_speed, pictures,
                 perception, started, load0, load1) -> None:
    page = sidecar.page("vqgan")  # a quick run's page and grid go to .build/bench-quick, never over the full run's
    page.parent.mkdir(parents=True, exist_ok=True)
    n = len(images)
    columns = [("original", [load_rgb(KODAK / name) for name in pictures])]
    for label in [f"ours K={k}" for k in ks] + [f"K={ks[0]}, 20% lost", "WebP ÷4", "JPEG ÷4", "WebP ÷8", "JPEG ÷8"]:
        columns.append((label, [pictures[name][label] for name in pictures]))
    grid(columns, page.with_name("vqgan-grid.png"))

    lines = [
        "# VQGAN benchmark (issue 21)", "",
        f"Measured {started} on {sidecar.machine()}, `make bench-vqgan`{' --quick (first 2 images)' if quick else ''}; "
        f"load average {load0:.1f} at the start, {load1:.1f} at the end. Kodak, {n} images, 768x512 RGB. "
        "Bits per pixel from the compressed file (our container included); PSNR and MS-SSIM over RGB, "
        "computed by this script for every codec from the decoded pixels.",
        f"Model `{args.model}`, weights hash {weights_hash(args.model)}; default block side (unit) {default_unit}.", "",
        "## Rate and fidelity (mean over images)", "",
        "Ours with the learned prior is the file as written; without it, the same indices at log2(K) bits each in the "
        "same container (the paper's coding), so the same pixels. Each baseline is matched to our rate at that K image by "
        "image: the highest quality whose file is at most ours (÷4, ÷8: downscaled by 4 or 8, bicubic both ways). "
        "`fits`: the images where some quality landed at or below our rate; on the others even the lowest quality is larger "
        "than our file, and that lowest quality is what the row shows.", "",
        "| codec | K | bpp, learned prior | bpp, log2(K) bits | PSNR dB | MS-SSIM |", "|---|---|---|---|---|---|",
    ]
    for k in ks:
        rs = [o for o in ours if o["k"] == k]
        lines.append(f"| ours | {k} | {mean(rs, 'bpp'):.4f} | {mean(rs, 'bpp_fixed'):.4f} | {mean(rs, 'psnr'):.2f} | {mean(rs, 'msssim'):.4f} |")
    lines += ["", "| baseline | at the rate of K | qualities used | bpp | PSNR dB | MS-SSIM | ours' MS-SSIM | fits |", "|---|---|---|---|---|---|---|---|"]
    for k in ks:
        mine = mean([o for o in ours if o["k"] == k], "msssim")
        for name in ("WebP ÷4", "JPEG ÷4", "WebP ÷8", "JPEG ÷8"):
            rs = [b for b in base if b["k"] == k and b["codec"] == name]
            qs = sorted({b["quality"] for b in rs})
            lines.append(f"| {name} | {k} | {qs[0]}-{qs[-1]} | {mean(rs, 'bpp'):.4f} | {mean(rs, 'psnr'):.2f} | {mean(rs, 'msssim'):.4f} | "
                         f"{mine:.4f} | {sum(b['fits'] for b in rs)}/{len(rs)} |")
    for name in ("WebP lowest", "JPEG lowest"):
        rs = [b for b in base if b["codec"] == name]
        lines.append(f"| {name} (full size, q {rs[0]['quality']}) | - | {rs[0]['quality']} | {mean(rs, 'bpp'):.4f} | "
                     f"{mean(rs, 'psnr'):.2f} | {mean(rs, 'msssim'):.4f} | - | - |")

    lines += ["", "## Machine perception: deep feature distance (lower is better)", "",
              "`codec score --task similarity --decoded` of each set of decoded pictures against the originals: the mean "
              "distance between the features of the scoring issue's image network (docs/SCORE.md), an LPIPS-like measure "
              "trained here since LPIPS' ImageNet networks cannot be had offline. Baselines matched to our rate at each K, "
              "as above.", "",
              "| at the rate of K | ours | WebP ÷4 | JPEG ÷4 | WebP ÷8 | JPEG ÷8 |", "|---|---|---|---|---|---|"]
    for k in ks:
        lines.append(f"| {k} | {perception[('ours', k)]:.4f} | "
                     + " | ".join(f"{perception[(name, k)]:.4f}" for name in ("WebP ÷4", "JPEG ÷4", "WebP ÷8", "JPEG ÷8")) + " |")
    lines.append(f"| - (lowest settings, full size) | - | WebP q0 {perception[('WebP lowest', None)]:.4f} | "
                 f"JPEG q1 {perception[('JPEG lowest', None)]:.4f} | - | - |")

    lines += ["", f"## Restoration (K = {ks[0]}): index blocks damaged at random, restored by `codec decode`", "",
              "A byte flipped inside each damaged block (seeded); every decode said `restored N of M index blocks`, and "
              "`--strict` refused such a file with exit 2. MS-SSIM against the original, beside the undamaged decode's.", "",
              "| unit | blocks lost | blocks per image | MS-SSIM undamaged | MS-SSIM restored | drop | MS-SSIM vs undamaged decode | PSNR restored |",
              "|---|---|---|---|---|---|---|---|"]
    for unit in UNITS:
        for loss in LOSSES:
            rs = [r for r in restore if r["unit"] == unit and r["loss"] == loss]
            if not rs:
                continue
            lines.append(f"| {unit} | {loss}% ({mean(rs, 'damaged'):.1f} blocks) | {mean(rs, 'blocks'):.0f} | {mean(rs, 'clean_msssim'):.4f} | "
                         f"{mean(rs, 'msssim'):.4f} | {mean(rs, 'clean_msssim') - mean(rs, 'msssim'):.4f} | "
                         f"{mean(rs, 'msssim_vs_clean'):.4f} | {mean(rs, 'psnr'):.2f} |")
    lines += ["", f"### The block side (K = {ks[0]})", "", "| unit | bpp | blocks per image | MS-SSIM drop at 20% lost |", "|---|---|---|---|"]
    for unit in UNITS:
        us = [u for u in units if u["unit"] == unit]
        rs = [r for r in restore if r["unit"] == unit and r["loss"] == 20]
        lines.append(f"| {unit} | {mean(us, 'bpp'):.4f} | {mean(us, 'blocks'):.0f} | {mean(rs, 'clean_msssim') - mean(rs, 'msssim'):.4f} |")

    lines += ["", "## Decode speed, one core (taskset -c 1), release build", "",
              f"In the process: `codec roundtrip --json` on the first {min(args.speed_images, n)} images (model loaded once; "
              "decode = range decoding under the prior + the decoder network). Whole process: `codec decode` of each file "
              "(start-up, model load and PNG writing included). Wall clock on a shared machine; CPU time beside it.", "",
              "| K | decode MP/s | decode MP/s (CPU time) | encode MP/s | whole `codec decode` MP/s | (CPU time) |", "|---|---|---|---|---|---|"]
    for k in ks:
        s = speed[k]
        ps = [x for x in process_speed if x["k"] == k]
        mp = sum(x["pixels"] for x in ps) / 1e6
        lines.append(f"| {k} | {s['decode']:.3f} | {s['decode_cpu']:.3f} | {s['encode']:.3f} | {mp / sum(x['wall'] for x in ps):.3f} | "
                     f"{mp / sum(x['cpu'] for x in ps):.3f} |")

    k0 = ks[0]
    ours0 = [o for o in ours if o["k"] == k0]
    beaten = []
    for name in ("WebP ÷4", "JPEG ÷4", "WebP ÷8", "JPEG ÷8"):
        rs = [b for b in base if b["k"] == k0 and b["codec"] == name]
        beaten.append(mean(ours0, "msssim") > mean(rs, "msssim") and mean(rs, "bpp") <= mean(ours0, "bpp") * 1.0001)
    r20 = [r for r in restore if r["unit"] == default_unit and r["loss"] == 20]
    drop = mean(r20, "clean_msssim") - mean(r20, "msssim")
    yes = lambda ok: "yes" if ok else "**no**"
    lines += ["", "## Targets (issue 21)", "", "| target | measured | met |", "|---|---|---|",
              f"| K = 1024 with the learned prior ≤ 0.03 bpp | K = {k0}: {mean(ours0, 'bpp'):.4f} bpp | {yes(k0 == 1024 and mean(ours0, 'bpp') <= 0.03)} |",
              f"| higher MS-SSIM than downscale-then-WebP/JPEG at ≤ our rate (K = {k0}) | ours {mean(ours0, 'msssim'):.4f}; "
              + ", ".join(f"{name} {mean([b for b in base if b['k'] == k0 and b['codec'] == name], 'msssim'):.4f}"
                          for name in ("WebP ÷4", "JPEG ÷4", "WebP ÷8", "JPEG ÷8")) + f" | {yes(all(beaten))} |",
              f"| lower feature distance than downscale-then-WebP/JPEG at ≤ our rate (K = {k0}) | ours {perception[('ours', k0)]:.4f}; "
              + ", ".join(f"{name} {perception[(name, k0)]:.4f}" for name in ("WebP ÷4", "JPEG ÷4", "WebP ÷8", "JPEG ÷8"))
              + f" | {yes(all(perception[('ours', k0)] < perception[(name, k0)] for name in ('WebP ÷4', 'JPEG ÷4', 'WebP ÷8', 'JPEG ÷8')))} |",
              f"| 20% of blocks lost: MS-SSIM within 0.03 of the undamaged decode (unit {default_unit}) | drop {drop:.4f} | {yes(drop <= 0.03)} |",
              f"| decode ≥ 0.5 MP/s on one core | K = {k0}: {speed[k0]['decode']:.3f} MP/s | {yes(speed[k0]['decode'] >= 0.5)} |",
              "", "## Decoded crops", "",
              f"Centre crops (160x160) of {', '.join(pictures)}: original, ours at each K, ours at K = {k0} with 20% of blocks "
              f"lost and restored, and the downscale baselines matched to the rate of K = {k0}.", "", "![crops](vqgan-grid.png)"]
    sidecar.write_page(page, "\n".join(lines) + "\n")

    data = f"Kodak ({n} images)"
    rows = []
    for k in ks:
        rs = [o for o in ours if o["k"] == k]
        rows.append({"kind": "fidelity", "data": data, "codec": args.model, "setting": f"k={k}", "rate": round(mean(rs, "bpp"), 5),
                     "rate_unit": "bpp", "psnr": round(mean(rs, "psnr"), 3), "msssim": round(mean(rs, "msssim"), 5)})
        for name in ("WebP ÷4", "JPEG ÷4", "WebP ÷8", "JPEG ÷8"):
            bs = [b for b in base if b["k"] == k and b["codec"] == name]
            rows.append({"kind": "fidelity", "data": data, "codec": name, "setting": f"at the rate of k={k}", "rate": round(mean(bs, "bpp"), 5),
                         "rate_unit": "bpp", "psnr": round(mean(bs, "psnr"), 3), "msssim": round(mean(bs, "msssim"), 5)})
        rows.append({"kind": "speed", "what": f"VQGAN decode, one core (taskset), {data}", "ours": f"{args.model} k={k}",
                     "ours_value": round(speed[k]["decode"], 4), "peer": None, "peer_value": None, "unit": "MP/s"})
    for name in ("WebP lowest", "JPEG lowest"):
        bs = [b for b in base if b["codec"] == name]
        rows.append({"kind": "fidelity", "data": data, "codec": name.split()[0], "setting": f"q{bs[0]['quality']}", "rate": round(mean(bs, "bpp"), 5),
                     "rate_unit": "bpp", "psnr": round(mean(bs, "psnr"), 3), "msssim": round(mean(bs, "msssim"), 5)})
    sidecar.write("vqgan", rows, page=page, feature_distance=[{"codec": c, "k": k, "distance": round(v, 5)} for (c, k), v in perception.items()],
                  restoration=[{"unit": r["unit"], "loss": r["loss"], "image": r["image"], "msssim": round(r["msssim"], 5),
                                              "clean_msssim": round(r["clean_msssim"], 5)} for r in restore])
    print("\n".join(lines))


if __name__ == "__main__":
    main()
