"""Export for pc-mnist, the hidden Chow-Liu tree of the `pc` codec. The circuit is learned in Swift
(`pc-tool train`, run by `make train-pc-mnist`); this script only installs a finished run, with a
model card generated from it, through the shared export path (no PyTorch needed):

  python3 Training/recipes/pc_mnist.py export --run Training/runs/pc-mnist [--export-id ID | --replace]

writes Training/exports/ID/pc-mnist/ (default ID: $EXPORT_ID, else local), or with --replace the
released Codecs/pc-mnist/: model.safetensors (stage 2's), codec.json, training-log.csv (both
stages' epochs) and MODEL_CARD.md.
"""
from __future__ import annotations

import argparse
import csv
import json
import shutil
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from neuralcodecs.export import add_export_args, dest_from_args, finish_files, model_card, weights_facts  # noqa: E402

MODEL_ID = "pc-mnist"
PRECISION = 24


def states_of(weights: Path) -> int:
    """M, from the shape of `prior` in the safetensors header."""
    with open(weights, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    return header["prior"]["shape"][0]


def read_log(path: Path) -> list[dict]:
    with open(path) as f:
        return list(csv.DictReader(f))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export")
    e.add_argument("--run", default="Training/runs/pc-mnist", help="the run folder (stage1/ and stage2/ inside)")
    add_export_args(e, MODEL_ID)
    e.add_argument("--stage1-args", default="", help="the pc-tool arguments stage 1 ran with (for the card)")
    e.add_argument("--stage2-args", default="", help="the pc-tool arguments stage 2 ran with (for the card)")
    e.add_argument("--results", help="markdown with measured results (kept only if it names the exported hash)")
    args = p.parse_args()

    run = Path(args.run)
    dest = dest_from_args(MODEL_ID, args)
    weights = run / "stage2" / "model.safetensors"
    if not weights.exists():
        sys.exit(f"{weights} does not exist: run make train-pc-mnist first")
    logs = [(i + 1, read_log(run / f"stage{i + 1}" / "training-log.csv")) for i in range(2)]
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(weights, dest / "model.safetensors")
    facts = weights_facts(dest / "model.safetensors")
    states = states_of(dest / "model.safetensors")
    export_id = None if args.replace else dest.parent.name
    # The released codec.json's four fields first (what PCCodec reads); the rest is for people.
    config = {"codec": "pc", "rows": 28, "columns": 28, "states": states, "precision": PRECISION,
              "model_id": MODEL_ID, **({"export_id": export_id} if export_id else {}),
              "weights": {**facts, "dtype": "float16"}}
    (dest / "codec.json").write_text(json.dumps(config) + "\n")
    counts = {1: "train 0-6999; validation 7000-7999", 2: "train 0-7499; validation 7500-7999"}
    for stage, a in ((1, args.stage1_args), (2, args.stage2_args)):
        words = a.split()
        if "--train-count" in words:
            n = int(words[words.index("--train-count") + 1])
            counts[stage] = f"train 0-{n - 1}; validation {n}-7999"
    with open(dest / "training-log.csv", "w") as f:
        f.write("stage,phase,epoch,train_bpd,validation_bpd,seconds\n")
        for stage, rows in logs:
            for r in rows:
                f.write(f"{stage} ({counts[stage]}),{r['phase']},{r['epoch']},{r['train_bpd']},"
                        f"{r['validation_bpd']},{r['seconds']}\n")
    seconds = sum(float(rows[-1]["seconds"]) for _, rows in logs if rows)
    epochs = sum(1 for _, rows in logs for r in rows if r["epoch"] != "0")
    best = {f"stage {s} best validation bits/dim": min(float(r["validation_bpd"]) for r in rows)
            for s, rows in logs if rows}
    table = ["| stage | phase | epoch | train bits/dim | validation bits/dim | seconds |", "|---|---|---|---|---|---|"]
    table += [f"| {s} | {r['phase']} | {r['epoch']} | {r['train_bpd']} | {r['validation_bpd']} | {r['seconds']} |"
              for s, rows in logs for r in rows]
    results = Path(args.results).read_text() if args.results else None
    card = model_card(
        f"{MODEL_ID}: hidden Chow-Liu tree for lossless MNIST coding",
        "A probabilistic circuit (hidden Chow-Liu tree) over the 784 pixels of a 28x28 8-bit grayscale "
        "image, used by the `pc` codec (Sources/PCCodec, docs/CIRCUITS.md). Learned by this project's "
        "Swift code (Sources/Circuits: Chow-Liu structure learning and EM).",
        weights={**facts, "dtype": "float16"},
        run={"model_id": MODEL_ID, "export_id": export_id, "checkpoint": f"stage 2 model ({run})",
             "data": "MNIST t10k as distributed, read in place from "
                     "`../shared/data/perception/mnist/t10k-images-idx3-ubyte.gz`; images 8000-9999 are the "
                     f"test split and never read by training. Stage 1: {counts[1]}; stage 2: {counts[2]}.",
             "recipe": [f"pc-tool train --run {run}/stage1 {args.stage1_args}".rstrip(),
                        f"pc-tool train --run {run}/stage2 --init {run}/stage1/model.safetensors "
                        f"{args.stage2_args}".rstrip()],
             "steps": epochs, "unit": "epochs", "train_seconds": seconds,
             "final_validation": best,
             "history": f"M = {states} latent states per pixel. Every epoch (training-log.csv; epoch 0 is "
                        "the starting model):\n\n" + "\n".join(table)},
        sections=[], results=results)
    # model_card counts `steps`; here they are EM epochs.
    card = card.replace(f"{epochs:,} steps", f"{epochs} EM epochs")
    (dest / "MODEL_CARD.md").write_text(card)
    finish_files(dest)
    print(json.dumps({"exported": str(dest), "states": states, "weights": facts}, indent=1))
    if not args.replace:
        print(f"use it from Swift with NEURALCODECS_MODELS={dest.parent} (the released Codecs/{MODEL_ID} is untouched)")


if __name__ == "__main__":
    main()
