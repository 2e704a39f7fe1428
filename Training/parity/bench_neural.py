"""`make bench-neural`: Swift Neural vs PyTorch CPU on the same model, input and thread count, in
one run. Writes Benchmarks/results/neural.md.

    python3 Training/parity/bench_neural.py --swift .build/release/NeuralBench --out Benchmarks/results/neural.md
"""
import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

import torch
from safetensors.torch import save_file

from reference import ConvStack, TransformerLM

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Benchmarks"))
import sidecar  # noqa: E402  (Benchmarks/sidecar.py: the rows Benchmarks/report.py reads)

ap = argparse.ArgumentParser()
ap.add_argument("--swift", required=True, help="path of the NeuralBench executable")
ap.add_argument("--out", required=True)
ap.add_argument("--threads", default="1,2")
ap.add_argument("--conv-runs", type=int, default=7)
ap.add_argument("--lm-steps", type=int, default=256)
ap.add_argument("--lm-runs", type=int, default=5)
args = ap.parse_args()
threads = [int(t) for t in args.threads.split(",")]
work = tempfile.mkdtemp(prefix="bench-neural-")
torch.manual_seed(1)
load_start = os.getloadavg()[0]


def cpu_seconds():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def best_time(fn, runs):
    """(fastest wall time, mean CPU time) of `runs` after a warm-up. On a shared machine other jobs
    only ever add wall time; CPU time (all threads) counts the work, not the wait for a core."""
    fn()
    times = []
    c0 = cpu_seconds()
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), (cpu_seconds() - c0) / runs


def swift(*a):
    out = subprocess.run([args.swift, *map(str, a)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


# --- conv stack: 8 residual blocks of two 3x3 convs, 128 channels, 64x64, batch 1 -----------------
BLOCKS, C, H = 8, 128, 64
conv = ConvStack(C, BLOCKS).eval()
x = torch.randn(1, C, H, H)
with torch.inference_mode():
    y = conv(x)
save_file({**conv.state_dict(), "input": x, "output": y}, os.path.join(work, "conv.safetensors"))
flops = BLOCKS * 2 * 2 * C * C * 9 * H * H

rows = []
for t in threads:
    torch.set_num_threads(t)
    with torch.inference_mode():
        pt = dict(zip(("seconds", "cpu"), best_time(lambda: conv(x), args.conv_runs)))
    fast = swift("conv", work, BLOCKS, t, "fast", args.conv_runs)
    det = swift("conv", work, BLOCKS, t, "deterministic", max(3, args.conv_runs // 2))
    rows.append(("conv", t, pt, fast, det))

# --- LM: 3 layers, width 256, 4 heads, MLP 1024, one byte at a time with a KV cache ---------------
cfg = {"vocab_size": 256, "d_model": 256, "n_heads": 4, "n_layers": 3, "d_mlp": 1024, "context": 512,
       "activation": "gelu_tanh", "norm_eps": 1e-5}
lm = TransformerLM(256, 256, 4, 3, 1024, 512, approximate="tanh").eval()  # the EIW model's shape
tokens = torch.randint(0, 256, (args.lm_steps,))
with torch.inference_mode():
    full = lm(tokens)

    def decode():
        caches = lm.make_cache()
        return torch.cat([lm.step(int(tok), caches) for tok in tokens])

    stepped = decode()
    assert torch.allclose(stepped, full, rtol=1e-4, atol=1e-4), "PyTorch step-by-step disagrees with its full forward"
save_file(dict(lm.state_dict()), os.path.join(work, "lm.safetensors"))
save_file({"tokens": tokens.float(), "logits": full}, os.path.join(work, "lm_io.safetensors"))
with open(os.path.join(work, "lm.json"), "w") as f:
    json.dump(cfg, f)

for t in threads:
    torch.set_num_threads(t)
    with torch.inference_mode():
        wall, cpu = best_time(decode, args.lm_runs)
        pt = {"seconds": wall / len(tokens), "cpu": cpu / len(tokens)}
    fast = swift("lm", work, t, "fast", len(tokens), args.lm_runs)
    det = swift("lm", work, t, "deterministic", len(tokens), args.lm_runs)
    rows.append(("lm", t, pt, fast, det))

# --- report --------------------------------------------------------------------------------------
cpu = next((l.split(":", 1)[1].strip() for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
            if l.startswith("Model name")), platform.processor())
lines = [
    "# Neural runtime vs PyTorch CPU",
    "",
    f"Measured {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} on {cpu} "
    f"({os.cpu_count()} cores), PyTorch {torch.__version__}, OpenBLAS via `cblas_sgemm`, `make bench-neural`. "
    "Same weights, input and thread count for both sides, in the same run. The machine is shared with other "
    f"jobs (load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end of the run on 2 cores), "
    "so two measures are given: wall time, the fastest of "
    f"{args.conv_runs} conv runs / {args.lm_runs} decodes of {len(tokens)} bytes after a warm-up (other jobs only "
    "add to it), and CPU time (user + system, all threads, mean per run), which counts the work done rather than "
    "the wait for a core; spin-waiting threads count as work. Ratios: Swift / PyTorch for the conv stack, "
    "PyTorch / Swift (speed-up) for the LM. Error: largest |swift − torch| / max(|torch|, RMS(torch)) over the "
    "whole output.",
    "",
    "## Conv stack: 8 residual blocks (3x3 conv, ReLU, 3x3 conv, + skip), 128 channels, 64x64, batch 1",
    "",
    "Target: Swift fast within 1.25x of PyTorch's time. GFLOP/s are effective rates: the direct convolution's "
    "2·C²·9·H·W operations per conv over the time (Swift's fast path runs Winograd F(2x2,3x3), 2.25x fewer "
    "multiplies; PyTorch runs oneDNN).",
    "",
    "| threads | PyTorch wall | Swift fast wall | ratio | PyTorch CPU | Swift fast CPU | CPU ratio | Swift deterministic wall | det. ratio | error (fast, det.) |",
    "|---|---|---|---|---|---|---|---|---|---|",
]
for kind, t, pt, fast, det in rows:
    if kind != "conv":
        continue
    lines.append(f"| {t} | {pt['seconds'] * 1e3:.0f} ms ({flops / pt['seconds'] / 1e9:.0f} GFLOP/s) | "
                 f"{fast['seconds'] * 1e3:.0f} ms ({flops / fast['seconds'] / 1e9:.0f} GFLOP/s) | "
                 f"**{fast['seconds'] / pt['seconds']:.2f}x** | {pt['cpu'] * 1e3:.0f} ms | {fast['cpu'] * 1e3:.0f} ms | "
                 f"{fast['cpu'] / pt['cpu']:.2f}x | {det['seconds'] * 1e3:.0f} ms | {det['seconds'] / pt['seconds']:.2f}x | "
                 f"{fast['error']:.1e}, {det['error']:.1e} |")
lines += [
    "",
    "## Language model step: 3 layers, width 256, 4 heads, MLP 1024, tanh GELU, KV cache, one byte at a time",
    "",
    "Target: Swift at least 2x faster than PyTorch eager. Time per byte over a decode of the whole sequence from "
    "an empty cache; PyTorch eager under `inference_mode` with a preallocated KV cache (`reference.py`, "
    "`TransformerLM.step`) vs Swift `TransformerLM.step` (deterministic path, and the fast path for comparison).",
    "",
    "| threads | PyTorch wall | Swift det. wall | speed-up | PyTorch CPU | Swift det. CPU | CPU speed-up | Swift fast wall | speed-up | error (det., fast) |",
    "|---|---|---|---|---|---|---|---|---|---|",
]
for kind, t, pt, fast, det in rows:
    if kind != "lm":
        continue
    lines.append(f"| {t} | {pt['seconds'] * 1e6:.0f} µs | {det['seconds'] * 1e6:.0f} µs | **{pt['seconds'] / det['seconds']:.2f}x** | "
                 f"{pt['cpu'] * 1e6:.0f} µs | {det['cpu'] * 1e6:.0f} µs | {pt['cpu'] / det['cpu']:.2f}x | "
                 f"{fast['seconds'] * 1e6:.0f} µs | {pt['seconds'] / fast['seconds']:.2f}x | {det['error']:.1e}, {fast['error']:.1e} |")
os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
with open(args.out, "w") as f:
    f.write("\n".join(lines) + "\n")
# For the report: wall time of Swift's fast conv path and deterministic LM step against PyTorch's.
speed_rows = []
for kind, t, pt, fast, det in rows:
    ours, scale, unit, what = (fast, 1e3, "ms", "conv stack 128ch 64x64") if kind == "conv" else (det, 1e6, "µs/byte", "LM step")
    speed_rows.append({"kind": "speed", "what": f"neural {what}, {t} thread{'s' if t > 1 else ''}",
                       "ours": "Swift Neural " + ("fast" if kind == "conv" else "deterministic"),
                       "ours_value": round(ours["seconds"] * scale, 1), "peer": f"PyTorch {torch.__version__} eager",
                       "peer_value": round(pt["seconds"] * scale, 1), "unit": unit, "lower_is_better": True})
sidecar.write("neural", speed_rows)
print("\n".join(lines))
