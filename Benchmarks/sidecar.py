"""The machine-readable half of every benchmark: Benchmarks/results/<name>.json beside its .md.

Each bench writes one sidecar per run with `write(name, rows)`; Benchmarks/report.py (run by
`make bench`) reads them all and builds Benchmarks/results/README.md from the rows alone, never
from the Markdown. A sidecar records when and where it was measured (UTC time, CPU, cores, load
average, BENCH_QUICK), so the report can tell rows of this run from stale ones. Each row has a
"kind", one per question of the report, and the keys that kind needs:

  fidelity  data, codec, setting, rate, rate_unit; psnr and msssim (lossy), or exact: true (lossless)
  machine   data, task, metric, codec, setting, rate, rate_unit, error (a rate, 0..1), error_vs_original
  speed     what, ours, ours_value, peer, peer_value, unit; lower_is_better when unit is a time
            (peer and peer_value may be None where the bench has no peer)

A benchmark's Markdown page is `page(name)`: Benchmarks/results/<name>.md, except under
BENCH_QUICK=1, where it is .build/bench-quick/<name>.md, so a quick run (fewer files) never
replaces a committed full-run page; the sidecar names the page it wrote (`page=`), and the report
links that one. (Older benchmarks still rewrite their committed page in quick mode, marked as such.)

Run as a script (`python3 Benchmarks/sidecar.py NAME < rows.jsonl`) it writes the sidecar from
JSON rows on stdin, one per line: the form the Swift benches' --json output takes through make.
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
QUICK_PAGES = Path(__file__).resolve().parents[1] / ".build" / "bench-quick"


def quick() -> bool:
    return os.environ.get("BENCH_QUICK") == "1"


def page(name: str) -> Path:
    """Where benchmark `name` writes its Markdown page in this run (see the module comment)."""
    return (QUICK_PAGES if quick() else RESULTS) / f"{name}.md"


def write_page(path: Path, text: str) -> None:
    """Writes a page whole or not at all (a benchmark that fails half-way leaves the old page)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def machine() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown CPU"
    return f"{cpu}, {os.cpu_count()} cores"


def write(name: str, rows: list[dict], page: Path | None = None, **notes) -> Path:
    """Writes Benchmarks/results/<name>.json; `page`: the Markdown page this run wrote, stored
    relative to Benchmarks/results/ (where the report's links start)."""
    now = time.time()
    if page is not None:
        notes["page"] = os.path.relpath(Path(page).resolve(), RESULTS)
    doc = {"bench": name, "time": now,
           "date": datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": machine(), "load": [round(x, 2) for x in os.getloadavg()],
           "quick": quick(), **notes, "rows": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    tmp.replace(path)
    return path


if __name__ == "__main__":
    rows = [json.loads(line) for line in sys.stdin if line.strip()]
    if not rows:
        sys.exit(f"sidecar {sys.argv[1]}: no rows on stdin")
    print(f"wrote {write(sys.argv[1], rows)}")
