#!/usr/bin/env bash
# Bit-identity check for WaLLoC encoder speed work: the latents feed the entropy coder, so a
# change to the encoder path (wavelets, the 1x1 encoder, companding, latent coder) must leave
# every container byte-identical.
#
#   scripts/walloc-identity.sh record REFERENCE_CODEC DIR   # encode the reference set with a trusted build
#   scripts/walloc-identity.sh check  CANDIDATE_CODEC DIR   # encode again and cmp every container
#
# The set: the 24 Kodak images through walloc-rgb-4x and walloc-rgb-16x, the 10 music/eval clips
# through walloc-stereo-5x and walloc-stereo-20x (evaluation data, read in place, only encoded).
# Models come from this checkout's Codecs/ for both binaries, so only the code differs.
# NEURALCODECS_SIMD=portable (or avx2) in the environment checks Neural's narrower kernel paths.
set -euo pipefail
mode=${1:?record or check}; codec=${2:?codec binary}; dir=${3:?directory}
repo=$(cd "$(dirname "$0")/.." && pwd)
data="$repo/../shared/data"
export NEURALCODECS_MODELS="$repo/Codecs"
case "$mode" in record) out="$dir/ref" ;; check) out="$dir/new" ;; *) echo "mode: record or check" >&2; exit 64 ;; esac
rm -rf "$out"; mkdir -p "$out"
encode() {  # model, inputs...
    local model=$1; shift
    mkdir -p "$out/$model"
    "$codec" encode -q --force --jobs 1 --codec "$model" -o "$out/$model/" "$@"
}
encode walloc-rgb-4x "$data"/images/kodak/*.png
encode walloc-rgb-16x "$data"/images/kodak/*.png
encode walloc-stereo-5x "$data"/audio/music/eval/*.flac
encode walloc-stereo-20x "$data"/audio/music/eval/*.flac
count=$(find "$out" -name '*.nc' | wc -l)
if [ "$mode" = record ]; then echo "recorded $count containers under $out"; exit 0; fi
bad=0
for f in $(cd "$dir/ref" && find . -name '*.nc' | sort); do
    cmp -s "$dir/ref/$f" "$out/$f" || { echo "DIFFERS: $f"; bad=$((bad + 1)); }
done
ref=$(find "$dir/ref" -name '*.nc' | wc -l)
[ "$ref" -eq "$count" ] || { echo "container count $count, reference $ref"; bad=$((bad + 1)); }
if [ "$bad" -gt 0 ]; then echo "FAIL: $bad difference(s)"; exit 1; fi
echo "OK: $count containers byte-identical"
