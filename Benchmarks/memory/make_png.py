#!/usr/bin/env python3
"""Writes a WIDTHxHEIGHT RGBA 16-bit PNG, streaming rows (never the whole image in memory).

Smooth gradients with the Sub filter on every row, so the file is small (about 2 MB at
16384x16384) while the decoded samples are 2 GiB: the case of issue 17 (memory bounded by
pixels, not bytes). Usage: make_png.py OUT.png [WIDTH [HEIGHT]]
"""
import struct
import sys
import zlib

import numpy as np


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def main():
    out = sys.argv[1]
    width = int(sys.argv[2]) if len(sys.argv) > 2 else 16384
    height = int(sys.argv[3]) if len(sys.argv) > 3 else width
    x = np.arange(width, dtype=np.uint32)
    with open(out, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 0)))
        z = zlib.compressobj(6)
        pending = bytearray()
        for y in range(height):
            pixels = np.empty((width, 4), dtype=">u2")
            pixels[:, 0] = (x * 4 + y) & 0xFFFF
            pixels[:, 1] = (y * 4 + (x >> 6)) & 0xFFFF
            pixels[:, 2] = ((x + y) * 2) & 0xFFFF
            pixels[:, 3] = 65535
            raw = np.frombuffer(pixels.tobytes(), dtype=np.uint8)
            filtered = raw.copy()
            filtered[8:] = raw[8:] - raw[:-8]  # Sub: each byte minus the byte one pixel left
            pending += z.compress(b"\x01" + filtered.tobytes())
            if len(pending) >= 1 << 20:
                f.write(chunk(b"IDAT", bytes(pending)))
                pending.clear()
        pending += z.flush()
        f.write(chunk(b"IDAT", bytes(pending)))
        f.write(chunk(b"IEND", b""))


if __name__ == "__main__":
    main()
