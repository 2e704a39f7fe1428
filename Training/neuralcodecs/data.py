"""Datasets over ../shared/data, respecting its evaluation splits (see ../shared/data/README.md).

Text: the files of data/text/train/ only (canterbury/, calgary/ and large/ are evaluation sets and
are never read here), optionally plus Debian dictd dictionaries. Every file's last
`VAL_FRACTION` is held out for validation, so validation never touches an evaluation file either.
"""
from __future__ import annotations

import base64
import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .paths import SHARED_DATA

TEXT_TRAIN = SHARED_DATA / "text" / "train"
DICTD = Path("/usr/share/dictd")
VAL_FRACTION = 0.01
# data/text/train already holds the Jargon File and the Devil's Dictionary (from dict-jargon and
# dict-devil), so only dictionaries not listed here can add text.
DICTD_ALREADY_IN_TRAIN = {"jargon", "devil"}
SEPARATOR = b"\n\n"


def text_train_files() -> list[Path]:
    files = sorted(p for p in TEXT_TRAIN.glob("*.txt"))
    if not files:
        raise FileNotFoundError(f"no training text in {TEXT_TRAIN}: is ../shared/data beside the repository?")
    return files


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _dictd_number(s: str) -> int:
    n = 0
    for c in s:
        n = n * 64 + _B64.index(c)
    return n


def dictd_text(name: str) -> bytes:
    """The entries of /usr/share/dictd/<name>.dict.dz (dictzip is gzip-compatible), without the
    dictfmt `00-database-*` header entries."""
    body = gzip.open(DICTD / f"{name}.dict.dz").read()
    parts = []
    for line in (DICTD / f"{name}.index").read_text(encoding="utf-8", errors="replace").splitlines():
        fields = line.split("\t")
        if len(fields) < 3 or fields[0].startswith("00-database") or fields[0].startswith("00database"):
            continue
        off, length = _dictd_number(fields[1]), _dictd_number(fields[2])
        parts.append(body[off:off + length])
    return b"".join(parts)


@dataclass
class TextCorpus:
    train: np.ndarray  # uint8
    val: np.ndarray  # uint8
    sources: list[str]  # what went in, for the model card

    @staticmethod
    def load(dictd: tuple[str, ...] = ()) -> "TextCorpus":
        train_parts, val_parts, sources = [], [], []
        blobs = [(p.name, p.read_bytes()) for p in text_train_files()]
        for name in dictd:
            if name in DICTD_ALREADY_IN_TRAIN:
                raise ValueError(f"dictd '{name}' is already part of data/text/train")
            blobs.append((f"dictd:{name}", dictd_text(name)))
        for name, blob in blobs:
            cut = len(blob) - max(1, int(len(blob) * VAL_FRACTION))
            train_parts.append(blob[:cut])
            val_parts.append(blob[cut:])
            sources.append(f"{name} ({len(blob)} bytes, last {len(blob) - cut} held out for validation)")
        join = lambda parts: np.frombuffer(SEPARATOR.join(parts), dtype=np.uint8).copy()
        return TextCorpus(join(train_parts), join(val_parts), sources)


def byte_windows(data: np.ndarray, rng: np.random.Generator, batch: int, length: int) -> np.ndarray:
    """`batch` windows of `length` consecutive bytes at uniformly random offsets, as int64 [B, L]."""
    starts = rng.integers(0, len(data) - length, size=batch)
    return np.stack([data[s:s + length] for s in starts]).astype(np.int64)


def fixed_windows(data: np.ndarray, count: int, length: int) -> np.ndarray:
    """`count` evenly spaced windows (a fixed validation set), as int64 [count, L]."""
    starts = np.linspace(0, len(data) - length, count).astype(np.int64)
    return np.stack([data[s:s + length] for s in starts]).astype(np.int64)
