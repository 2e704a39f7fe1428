#!/usr/bin/env bash
# Peak memory (maximum resident set size from /usr/bin/time -v) and wall time of `codec encode`
# and `codec decode` with store and lossless on one large PNG, written as a Markdown table with
# the machine and date. Usage: bench.sh CODEC_BINARY OUT.md [SIZE]
#   BEFORE=/path/to/older/codec adds that binary's rows (the same runs) for comparison.
#   CODECS="store lossless" chooses the codecs; MEMORY_BENCH_DIR keeps the PNG between runs
#   (default: a temporary directory, removed afterwards).
set -euo pipefail
codec=$1; out=$2; size=${3:-16384}
here=$(cd "$(dirname "$0")" && pwd)
dir=${MEMORY_BENCH_DIR:-$(mktemp -d)}
[ -n "${MEMORY_BENCH_DIR:-}" ] || trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir"
png=$dir/rgba16-${size}.png
[ -s "$png" ] || python3 "$here/make_png.py" "$png" "$size"
raw=$((size * size * 4 * 2))

# One measured command: prints "peak_MB wall_s exit".
measure() {
    local log=$dir/time.log status=0
    /usr/bin/time -v "$@" >/dev/null 2>"$log" || status=$?
    local kb wall
    kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.1f", s }')
    echo "$((kb / 1024)) $wall $status"
}

rows=()
binaries=("after:$codec")
[ -n "${BEFORE:-}" ] && binaries=("before:$BEFORE" "${binaries[@]}")
for c in ${CODECS:-store lossless}; do
    for entry in "${binaries[@]}"; do
        label=${entry%%:*}; bin=${entry#*:}
        read -r emb ews est < <(measure "$bin" encode --codec "$c" "$png" -o "$dir/x.nc" --force --quiet)
        ncsize=$(stat -c %s "$dir/x.nc" 2>/dev/null || echo 0)
        read -r dmb dws dst < <(measure "$bin" decode "$dir/x.nc" -o "$dir/x.png" --force --quiet)
        echo "$c $label: encode ${emb} MB ${ews} s (exit $est), decode ${dmb} MB ${dws} s (exit $dst)" >&2
        rows+=("| \`$c\` | $label | $emb | $ews | $dmb | $dws | $ncsize | $est/$dst |")
        rm -f "$dir/x.nc" "$dir/x.png"
    done
done

{
    echo "# Peak memory of store and lossless on a ${size}x${size} RGBA 16-bit PNG"
    echo
    echo "Made by \`make bench-memory\` (Benchmarks/memory/bench.sh) on $(date -u +%Y-%m-%d),"
    echo "$(uname -srm), $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores,"
    echo "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) of memory (shared with other jobs, so times vary)."
    echo "The PNG (Benchmarks/memory/make_png.py: smooth gradients, Sub-filtered) is $(stat -c %s "$png") bytes;"
    echo "its decoded samples are $raw bytes ($((raw >> 20)) MiB, 2 bytes per sample in memory)."
    echo "Peak is the maximum resident set size from \`/usr/bin/time -v\`; \`before\` is the binary"
    echo "before this change (where measured), \`after\` this tree's."
    echo
    echo "| codec | binary | encode peak MB | encode s | decode peak MB | decode s | container bytes | exit (enc/dec) |"
    echo "|---|---|---:|---:|---:|---:|---:|---|"
    printf '%s\n' "${rows[@]}"
} > "$out"
cat "$out"
