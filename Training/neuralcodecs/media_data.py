"""Image and audio training data over ../shared/data, respecting its evaluation splits.

Images: random crops of the training photos (data/images/train only; Kodak, CLIC and the
document pages are evaluation sets and are never read here). Audio: random segments of the
training speech and music (LibriSpeech train-clean-5, LJSpeech, FSDD indices 5-34, music/train;
LibriSpeech test-other, FSDD indices 0-4 and music/eval are evaluation sets). Every recipe that
trains on images or audio draws its batches from here.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .paths import SHARED_DATA

IMAGES_TRAIN = SHARED_DATA / "images" / "train"
AUDIO = SHARED_DATA / "audio"


def image_train_files() -> list[Path]:
    files = sorted(p for p in IMAGES_TRAIN.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    if not files:
        raise FileNotFoundError(f"no training photos in {IMAGES_TRAIN}: is ../shared/data beside the repository?")
    return files


def random_image_crops(count: int, size: int, rng: np.random.Generator, files: list[Path] | None = None) -> np.ndarray:
    """`count` random `size`x`size` RGB crops as float32 in [0, 1], shape (count, 3, size, size).
    Photos smaller than `size` on a side are skipped."""
    from PIL import Image  # Pillow, only needed by image recipes

    files = files or image_train_files()
    out = np.empty((count, 3, size, size), dtype=np.float32)
    n = 0
    while n < count:
        with Image.open(files[rng.integers(len(files))]) as im:
            rgb = im.convert("RGB")
            w, h = rgb.size
            if w < size or h < size:
                continue
            x, y = int(rng.integers(w - size + 1)), int(rng.integers(h - size + 1))
            crop = np.asarray(rgb.crop((x, y, x + size, y + size)), dtype=np.float32) / 255.0
        out[n] = crop.transpose(2, 0, 1)
        n += 1
    return out


def _fsdd_training(p: Path) -> bool:
    """FSDD files are {digit}_{speaker}_{index}; indices 0-4 are the test split."""
    m = re.fullmatch(r"\d_[a-z]+_(\d+)", p.stem)
    return m is not None and 5 <= int(m.group(1)) <= 34


def audio_train_files(kind: str = "speech") -> list[Path]:
    """Training audio files: kind 'speech' (LibriSpeech train, LJSpeech, FSDD 5-34) or 'music'."""
    if kind == "music":
        files = sorted((AUDIO / "music" / "train").glob("*.flac"))
    elif kind == "speech":
        speech = AUDIO / "speech"
        files = sorted((speech / "librispeech" / "train").glob("*.flac"))
        files += sorted((speech / "ljspeech").glob("*.flac"))
        files += sorted(p for p in (speech / "fsdd").glob("*.flac") if _fsdd_training(p))
    else:
        raise ValueError(f"audio kind must be 'speech' or 'music', not {kind!r}")
    if not files:
        raise FileNotFoundError(f"no {kind} training audio under {AUDIO}")
    return files


def random_audio_segments(count: int, seconds: float, sample_rate: int, rng: np.random.Generator,
                          kind: str = "speech", files: list[Path] | None = None) -> np.ndarray:
    """`count` random mono segments of `seconds` at `sample_rate` (files at another rate are
    skipped; resampling is the recipe's choice), float32 in [-1, 1], shape (count, samples)."""
    import soundfile

    files = files or audio_train_files(kind)
    length = int(round(seconds * sample_rate))
    out = np.empty((count, length), dtype=np.float32)
    n, tries = 0, 0
    while n < count:
        tries += 1
        if tries > 100 * count:
            raise ValueError(f"no {kind} training file at {sample_rate} Hz is {seconds} s long")
        path = files[rng.integers(len(files))]
        info = soundfile.info(str(path))
        if info.samplerate != sample_rate or info.frames < length:
            continue
        start = int(rng.integers(info.frames - length + 1))
        audio, _ = soundfile.read(str(path), start=start, frames=length, dtype="float32", always_2d=True)
        out[n] = audio.mean(axis=1)
        n += 1
    return out
