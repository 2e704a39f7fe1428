"""Image and audio training data over ../shared/data, respecting its evaluation splits.

Images: random crops of the training photos (data/images/train only; Kodak, CLIC and the
document pages are evaluation sets and are never read here). Audio: random segments of the
training speech and music (LibriSpeech train-clean-5, LJSpeech, FSDD indices 5-34, music/train;
LibriSpeech test-other, FSDD indices 0-4 and music/eval are evaluation sets). Every recipe that
trains on images or audio draws its batches from here.
"""
from __future__ import annotations

import math
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


class PhotoCrops:
    """The training photos decoded once into memory; batches of random crops at scales 1 to 1/2
    (area-averaged down), random horizontal flips, as x/255 - 0.5 (shared by the WaLLoC and VQGAN
    recipes)."""

    def __init__(self, files: list[Path]):
        import torch
        from PIL import Image
        self.photos = []
        for f in files:
            with Image.open(f) as im:
                self.photos.append(torch.from_numpy(np.asarray(im.convert("RGB"), dtype=np.uint8).copy()).permute(2, 0, 1))

    def batch(self, rng: np.random.Generator, count: int, size: int):
        import torch
        import torch.nn.functional as F
        out = torch.empty(count, 3, size, size)
        for i in range(count):
            photo = self.photos[rng.integers(len(self.photos))]
            _, h, w = photo.shape
            scale = math.exp(rng.uniform(math.log(0.5), 0.0))
            side = min(int(round(size / scale)), h, w)
            y, x = int(rng.integers(h - side + 1)), int(rng.integers(w - side + 1))
            crop = photo[:, y:y + side, x:x + side].float().unsqueeze(0) / 255.0
            if side != size:
                crop = F.interpolate(crop, size=(size, size), mode="area")
            if rng.random() < 0.5:
                crop = crop.flip(-1)
            out[i] = crop[0] - 0.5
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
