#!/usr/bin/env python3
"""Classical lossless coders on the MNIST test split (t10k images 8000-9999), for
Benchmarks/results/circuits.md: per image (each image its own file) and as one 100x20 mosaic.

PNG: every image written with each PNG row filter (0-4, one filter for all rows, and the
per-row minimum-sum heuristic libpng uses) at zlib level 9, memLevel 9, default and filtered
strategies; the smallest file counts (at least as small as libpng at maximum compression).
WebP: cwebp -lossless -z 9. JPEG XL: cjxl -d 0 -e 9. xz: xz -9e on the raw pixel bytes.
Reads MNIST in place from ../shared; writes only to a temporary directory.
With PC_BENCH_JSONL=<pc-tool bench --json output> it also writes Benchmarks/results/circuits.json
(sidecar.py) from pc-tool's rows and its own: each classical coder's rate, and its speed beside
pc-mnist's encode speed (one file per image).
"""
import gzip, json, os, struct, subprocess, sys, tempfile, time, zlib

import sidecar  # Benchmarks/sidecar.py (this script's folder is first on sys.path)

MNIST = "../shared/data/perception/mnist/t10k-images-idx3-ubyte.gz"
FIRST, LAST = 8000, 8000 + int(os.environ.get("PC_BASELINE_IMAGES", "2000"))


def load():
    data = gzip.open(MNIST).read()
    magic, n, rows, cols = struct.unpack(">IIII", data[:16])
    assert magic == 0x803 and rows == 28 and cols == 28
    return [data[16 + i * 784:16 + (i + 1) * 784] for i in range(FIRST, LAST)]


def filtered_rows(pixels, width, height, choice):
    out, prior = bytearray(), bytes(width)
    for y in range(height):
        row = pixels[y * width:(y + 1) * width]
        candidates = []
        for kind in ([choice] if choice is not None else range(5)):
            f = bytearray(width)
            for i in range(width):
                a = row[i - 1] if i else 0
                b = prior[i]
                c = prior[i - 1] if i else 0
                if kind == 0: p = 0
                elif kind == 1: p = a
                elif kind == 2: p = b
                elif kind == 3: p = (a + b) >> 1
                else:
                    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                    p = a if pa <= pb and pa <= pc else b if pb <= pc else c
                f[i] = (row[i] - p) & 255
            candidates.append((sum(v if v < 128 else 256 - v for v in f), kind, f))
        _, kind, f = min(candidates, key=lambda t: t[0])
        out.append(kind)
        out += f
        prior = row
    return bytes(out)


def png(pixels, width, height):
    def chunk(tag, body):
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)
    best = None
    for choice in [None, 0, 1, 2, 3, 4]:
        raw = filtered_rows(pixels, width, height, choice)
        for strategy in (zlib.Z_DEFAULT_STRATEGY, zlib.Z_FILTERED):
            z = zlib.compressobj(9, zlib.DEFLATED, 15, 9, strategy)
            idat = z.compress(raw) + z.flush()
            if best is None or len(idat) < len(best):
                best = idat
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", best) + chunk(b"IEND", b""))


def tool(cmd, out):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return os.path.getsize(out)


def measure(tmp, name, pixels, width, height):
    """File sizes in bytes for each coder, and seconds each took."""
    path = os.path.join(tmp, name)
    sizes, seconds = {}, {}
    t = time.time(); data = png(pixels, width, height); seconds["PNG"] = time.time() - t
    with open(path + ".png", "wb") as f: f.write(data)
    sizes["PNG"] = len(data)
    with open(path + ".raw", "wb") as f: f.write(pixels)
    for label, cmd, out in [
        ("WebP lossless (cwebp -lossless -z 9)", ["cwebp", "-quiet", "-lossless", "-z", "9", path + ".png", "-o", path + ".webp"], path + ".webp"),
        ("JPEG XL lossless (cjxl -d 0 -e 9)", ["cjxl", "--quiet", "-d", "0", "-e", "9", path + ".png", path + ".jxl"], path + ".jxl"),
        ("xz -9e (raw pixels)", ["sh", "-c", f"xz -9e -c {path}.raw > {path}.xz"], path + ".xz"),
    ]:
        t = time.time(); sizes[label] = tool(cmd, out); seconds[label] = time.time() - t
    return sizes, seconds


def main():
    images = load()
    n = len(images)
    per_image, per_seconds = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, img in enumerate(images):
            sizes, secs = measure(tmp, "one", img, 28, 28)
            for k in sizes:
                per_image[k] = per_image.get(k, 0) + sizes[k]
                per_seconds[k] = per_seconds.get(k, 0) + secs[k]
        mosaic = bytearray(2800 * 560)
        for i, img in enumerate(images):
            r, c = divmod(i, 100)
            for y in range(28):
                mosaic[(r * 28 + y) * 2800 + c * 28:(r * 28 + y) * 2800 + c * 28 + 28] = img[y * 28:(y + 1) * 28]
        mosaic_sizes, _ = measure(tmp, "mosaic", bytes(mosaic), 2800, 560)
    pixels = n * 784
    print(f"| classical coder | bits/dim, per image ({n} files) | bits/dim, 100x20 mosaic | images/s per image (one process each) |")
    print("|---|---|---|---|")
    for k in per_image:
        print(f"| {k} | {per_image[k] * 8 / pixels:.3f} | {mosaic_sizes[k] * 8 / pixels:.3f} | {n / per_seconds[k]:.0f} |")
    if os.environ.get("PC_BENCH_JSONL"):
        ours = [json.loads(l) for l in open(os.environ["PC_BENCH_JSONL"]) if l.strip()]
        encode = next(r for r in ours if r.get("what") == "circuits encode, one file per image")
        data = f"MNIST t10k {FIRST}-{LAST - 1} ({n} images)"
        rows = [r for r in ours if r["kind"] == "fidelity" or r.get("peer") is None and r is not encode]
        for k in per_image:
            rows.append({"kind": "fidelity", "data": data, "codec": k, "setting": "one file per image",
                         "rate": round(per_image[k] * 8 / pixels, 4), "rate_unit": "bits/dim", "exact": True})
            rows.append({**encode, "peer": k + (" (Python zlib, in process)" if k == "PNG" else " (one process per image)"), "peer_value": round(n / per_seconds[k], 1)})
        sidecar.write("circuits", rows)


if __name__ == "__main__":
    sys.exit(main())
