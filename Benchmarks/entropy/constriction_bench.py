"""The constriction half of `make bench-entropy`, and the writer of Benchmarks/results/entropy.md.

Reads the messages and models EntropyBench wrote to OUTDIR (the very same symbols and integer
frequencies), times constriction's ANS (stack) and range (queue) coders on them through
whole-array calls (Categorical(p, perfect=False) with p = f / 2^precision), and writes the
results table with the Swift results beside them. Times are CPU time of this thread, best of 5
passes over all messages of 3 runs each, as in the Swift half.

Usage: python3 constriction_bench.py OUTDIR RESULTS.md
"""
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone

import numpy as np
import constriction

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import sidecar  # noqa: E402  (Benchmarks/sidecar.py: the rows Benchmarks/report.py reads)


def best_time(runs, body):
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.thread_time()
        result = body()
        best = min(best, time.thread_time() - start)
    return best, result


def constriction_rows(symbols, frequencies, precision):
    probabilities = frequencies.astype(np.float64) / float(1 << precision)
    model = constriction.stream.model.Categorical(probabilities, perfect=False)
    symbols32 = symbols.astype(np.int32)
    n = len(symbols32)
    rows = []

    def ans_encode():
        coder = constriction.stream.stack.AnsCoder()
        coder.encode_reverse(symbols32, model)
        return coder.get_compressed()

    def range_encode():
        encoder = constriction.stream.queue.RangeEncoder()
        encoder.encode(symbols32, model)
        return encoder.get_compressed()

    for name, encode, decode in [
        ("constriction ANS", ans_encode, lambda c: constriction.stream.stack.AnsCoder(c).decode(model, n)),
        ("constriction range", range_encode, lambda c: constriction.stream.queue.RangeDecoder(c).decode(model, n)),
    ]:
        encode_seconds, compressed = best_time(3, encode)
        decode_seconds, decoded = best_time(3, lambda: decode(compressed))
        assert np.array_equal(decoded, symbols32), f"{name} failed to round-trip"
        rows.append((name, compressed.size * 32, encode_seconds, decode_seconds))
    return rows


def main():
    outdir, results_path = sys.argv[1], sys.argv[2]
    swift = [json.loads(line) for line in open(os.path.join(outdir, "swift.jsonl")) if line.strip()]
    datasets = {}
    for row in swift:
        datasets.setdefault(row["index"], []).append(row)

    cpu = next((l.split(":", 1)[1].strip() for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
                if l.startswith("Model name")), platform.processor())
    lines = [
        "# Entropy coding benchmark",
        "",
        f"Machine: {cpu}, {os.cpu_count()} cores (shared with other jobs; times are CPU time of the one",
        f"benchmark thread, best of 5 passes over all messages of 3 runs each). Date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}.",
        f"constriction {getattr(constriction, '__version__', '0.5 (pip)')}, numpy {np.__version__}, Python {platform.python_version()}.",
        "Produced by `make bench-entropy` (Benchmarks/entropy/). Symbols are bytes, so MB/s = million symbols/s.",
        "",
        "Overhead is actual bits over the ideal code length of the message under the quantized model",
        "(Σ −log2(f/2^precision)), every byte of the stream included. constriction codes the same",
        "symbols with the same integer model (given as f/2^precision, which its 24-bit quantization",
        "represents exactly). Ratio = our speed / constriction's coder of the same kind (its ANS for",
        "rANS, range for range).",
        "",
    ]
    messages = {index: (np.fromfile(os.path.join(outdir, f"{index}.symbols"), dtype=np.uint8),
                        np.fromfile(os.path.join(outdir, f"{index}.frequencies"), dtype="<u4"),
                        datasets[index][0]["precision"]) for index in sorted(datasets)}
    best, speed_rows = {}, []
    for _ in range(5):  # passes: spreading the runs over time keeps a burst of load from setting a time
        for index, message in messages.items():
            for name, bits, encode_seconds, decode_seconds in constriction_rows(*message):
                previous = best.get((index, name), (name, bits, float("inf"), float("inf")))
                best[(index, name)] = (name, bits, min(previous[2], encode_seconds), min(previous[3], decode_seconds))
    for index in sorted(datasets):
        rows = datasets[index]
        first = rows[0]
        ideal = first["ideal_bits"]
        n = first["symbols"]
        theirs = [best[(index, "constriction ANS")], best[(index, "constriction range")]]
        lines += [
            f"## {first['dataset']} ({first['note']}, {n:,} symbols, {first['entropy']:.3f} bits/symbol, precision {first['precision']})",
            "",
            f"Ideal: {ideal:,.0f} bits.",
            "",
            "| coder | actual bits | overhead | encode MB/s | decode MB/s | encode ratio | decode ratio |",
            "|---|---|---|---|---|---|---|",
        ]
        by_kind = {"ANS": theirs[0], "range": theirs[1]}
        for row in rows:
            kind = "range" if row["coder"].startswith("range") else "ANS"
            reference = by_kind[kind]
            enc, dec = n / row["encode_seconds"] / 1e6, n / row["decode_seconds"] / 1e6
            lines.append(
                f"| {row['coder']} | {row['actual_bits']:,.0f} | {100 * (row['actual_bits'] / ideal - 1):.4f}% | {enc:.0f} | {dec:.0f} | "
                f"{reference[2] / row['encode_seconds']:.1f}x | {reference[3] / row['decode_seconds']:.1f}x |")
        # For the report: per kind and direction, our fastest coder of that kind against constriction's.
        for kind, reference in by_kind.items():
            ours = [r for r in rows if (kind == "range") == r["coder"].startswith("range")]
            for direction, column, ref_seconds in [("encode", "encode_seconds", reference[2]), ("decode", "decode_seconds", reference[3])]:
                fastest = min(ours, key=lambda r: r[column])
                speed_rows.append({"kind": "speed", "what": f"entropy {direction}, {first['dataset']}",
                                   "ours": fastest["coder"], "ours_value": round(n / fastest[column] / 1e6, 1),
                                   "peer": reference[0], "peer_value": round(n / ref_seconds / 1e6, 1), "unit": "MB/s"})
        for name, bits, enc_s, dec_s in theirs:
            lines.append(f"| {name} | {bits:,.0f} | {100 * (bits / ideal - 1):.4f}% | {n / enc_s / 1e6:.0f} | {n / dec_s / 1e6:.0f} | | |")
        lines.append("")
    with open(results_path, "w") as f:
        f.write("\n".join(lines))
    sidecar.write("entropy", speed_rows)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
