"""Export a trained model, and the model card that describes it.

An export is a model folder: model.safetensors (float16 weights), codec.json (hyper-parameters,
ids, hash), MODEL_CARD.md (generated from the run it describes) and, when the recipe gives one,
golden.safetensors: a fixed input and the model's float32 output computed from the float16-rounded
weights, exactly what the Swift runtime loads, so the Swift tests compare against these weights.
Every file gets mode 644.

Where it goes (`export_dest`): by default `Training/exports/<export-id>/<model-id>/`, a models
folder of its own beside the released ones, which the Swift side uses with
`NEURALCODECS_MODELS=Training/exports/<export-id>`. A released model (`Codecs/<model-id>/`,
tracked by git) is replaced only with `replace=True` (`--replace`, Makefile `REPLACE=1`): files
already encoded with its weights stop decoding (the container records the weights hash).

The card (`model_card`) is built from run facts only: data, steps, wall time, final validation
figures and the exported weights' own hash. Measured codec results come from the benchmark, which
marks them with the weights hash they were measured with (`results_for` keeps them only when that
hash is the exported one).

torch and safetensors are imported only by `export_model`, so `export_dest`, `model_card` and
`finish_files` also serve recipes learned outside PyTorch (pc-mnist).
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
from pathlib import Path

from .paths import CODECS, EXPORTS

DEFAULT_EXPORT_ID = "local"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class ExportRefused(Exception):
    """The destination is a released model and replacing it was not asked for."""


def fnv1a64(data: bytes) -> int:
    """The weights hash CodecKit.ModelStore writes into every container (FNV-1a 64)."""
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def frequency_table(p, precision: int = 16):
    """Probabilities (a numpy vector) -> integer frequencies >= 1 summing to 2^precision, by
    largest remainders: the tables every recipe stores for the Swift range/rANS coders."""
    import numpy as np
    spare = (1 << precision) - len(p)
    scaled = p / p.sum() * spare
    f = np.floor(scaled).astype(np.int64)
    order = np.argsort(-(scaled - f), kind="stable")
    f[order[:spare - int(f.sum())]] += 1
    return f + 1


def weights_facts(path: Path) -> dict:
    """bytes, fnv1a64 and sha256 of a weights file."""
    blob = Path(path).read_bytes()
    return {"file": Path(path).name, "bytes": len(blob), "fnv1a64": f"{fnv1a64(blob):016x}",
            "sha256": hashlib.sha256(blob).hexdigest()}


def export_dest(model_id: str, export_id: str | None = None, replace: bool = False,
                dest: str | Path | None = None, codecs: Path = CODECS, exports: Path = EXPORTS) -> Path:
    """The folder an export of `model_id` writes.

    - replace=True: the released folder `codecs/<model_id>` (the only way to write there);
    - dest: that folder, refused when it is inside `codecs/` without replace;
    - otherwise `exports/<export_id or EXPORT_ID or "local">/<model_id>`: the folder is named after
      the model id so that the Swift codecs, which look models up by id, find it through
      NEURALCODECS_MODELS=<exports>/<export_id>.
    """
    if not _ID.match(model_id):
        raise ValueError(f"bad model id {model_id!r}")
    released = (Path(codecs) / model_id).resolve()
    if replace:
        if dest is not None and Path(dest).resolve() != released:
            raise ValueError("--replace writes the released folder; do not give a destination as well")
        return released
    if dest is not None:
        d = Path(dest).resolve()
        if d == Path(codecs).resolve() or Path(codecs).resolve() in d.parents:
            raise ExportRefused(f"{d} is inside {codecs}, where released models live; export elsewhere "
                                f"or pass --replace (Makefile REPLACE=1) to replace {model_id} on purpose")
        return d
    export_id = export_id or os.environ.get("EXPORT_ID") or DEFAULT_EXPORT_ID
    if not _ID.match(export_id):
        raise ValueError(f"bad export id {export_id!r}: letters, digits, '.', '_' and '-' only")
    return (Path(exports) / export_id / model_id).resolve()


def add_export_args(parser, model_id: str) -> None:
    """The export flags every recipe takes: --export-id, --dest, --replace (see `export_dest`)."""
    parser.add_argument("--export-id", help=f"export to Training/exports/ID/{model_id}/ "
                                            "(default: $EXPORT_ID, else 'local')")
    parser.add_argument("--dest", help="export to this folder instead (never inside Codecs/ without --replace)")
    parser.add_argument("--replace", action="store_true",
                        help=f"replace the released Codecs/{model_id}/ (files encoded with the released "
                             "weights stop decoding)")


def dest_from_args(model_id: str, args) -> Path:
    """`export_dest` from the flags of `add_export_args`; exits with the reason when refused."""
    try:
        return export_dest(model_id, args.export_id, args.replace, args.dest)
    except (ExportRefused, ValueError) as e:
        raise SystemExit(f"export refused: {e}")


def finish_files(dest: Path) -> list[Path]:
    """Gives every file of an export mode 644 (and the folder 755), like the committed models."""
    dest = Path(dest)
    os.chmod(dest, 0o755)
    files = sorted(p for p in dest.iterdir() if p.is_file())
    for p in files:
        os.chmod(p, 0o644)
    return files


def float16_state(model) -> dict:
    import torch
    return {k: v.detach().to(torch.float16).contiguous().cpu() for k, v in model.state_dict().items()}


def export_model(model, dest: Path, config: dict, card: str | None = None, golden: dict | None = None) -> dict:
    """Writes model.safetensors, codec.json (with a `weights` entry: bytes, FNV-1a 64, SHA-256,
    parameters), golden.safetensors when given and MODEL_CARD.md when `card` is given (callers that
    need the weights hash in their card pass None and write it afterwards with `write_card`);
    returns codec.json's content. `model` is left with the float16-rounded weights (as float32),
    which is what golden outputs must be computed from. `dest` comes from `export_dest`."""
    from safetensors.torch import save_file

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    weights = float16_state(model)
    save_file(weights, str(dest / "model.safetensors"), metadata={"format": "pt"})
    model.load_state_dict({k: v.float() for k, v in weights.items()})
    config = {**config,
              "weights": {**weights_facts(dest / "model.safetensors"), "dtype": "float16",
                          "parameters": sum(v.numel() for v in weights.values())}}
    if golden is not None:
        save_file({k: v.contiguous().cpu() for k, v in golden.items()}, str(dest / "golden.safetensors"))
        config["golden"] = {"file": "golden.safetensors", "tensors": {k: list(v.shape) for k, v in golden.items()}}
    (dest / "codec.json").write_text(json.dumps(config, indent=2) + "\n")
    if card is not None:
        (dest / "MODEL_CARD.md").write_text(card)
    finish_files(dest)
    return config


def write_card(dest: Path, card: str) -> None:
    (Path(dest) / "MODEL_CARD.md").write_text(card)
    finish_files(dest)


def results_for(weights_hash: str, results: str | None) -> str:
    """Benchmark results for the card, only when they name `weights_hash` (the benchmark writes the
    hash it measured beside its figures); otherwise a line saying how to measure them."""
    if results and weights_hash in results:
        return results if results.endswith("\n") else results + "\n"
    note = "Not yet measured with the Swift codecs"
    if results:
        note += " (the benchmark results at hand were measured with other weights)"
    return note + ".\n"


def model_card(title: str, summary: str, *, weights: dict, run: dict, sections: list[tuple[str, str]] = (),
               results: str | None = None) -> str:
    """A MODEL_CARD.md from run facts.

    weights: `weights_facts` plus optionally parameters/dtype. run: facts of the training run —
    model_id, export_id, data (text), steps, units_seen with unit, train_seconds, final_validation
    (dict of figures), checkpoint, recipe (command lines), history (markdown table, optional),
    exported (UTC time, filled in when absent). sections: further (heading, text) pairs
    (architecture, notes) placed before Training. results: the benchmark's text, kept only when it
    names this weights hash."""
    exported = run.get("exported") or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    size = f"{weights['bytes']:,} bytes"
    if "parameters" in weights:
        size = f"{weights['parameters']:,} parameters, {weights.get('dtype', '')} {size}".replace("  ", " ")
    lines = [f"# {title}", "", summary.strip(), "",
             "## This export", "",
             "| | |", "|---|---|",
             f"| model id | `{run.get('model_id', '')}` |",
             f"| export id | `{run.get('export_id') or 'released'}` |",
             f"| weights | `{weights['file']}`, {size} |",
             f"| weights hash | FNV-1a 64 `{weights['fnv1a64']}` (what containers record), SHA-256 `{weights['sha256']}` |",
             f"| checkpoint | {run.get('checkpoint', '-')} |",
             f"| exported | {exported} |", ""]
    lines += ["## Data", "", run.get("data", "-").strip(), ""]
    for heading, text in sections:
        lines += [f"## {heading}", "", text.strip(), ""]
    steps = run.get("steps")
    seconds = run.get("train_seconds")
    unit = run.get("unit", "units")
    facts = []
    if steps is not None:
        facts.append(f"{steps:,} steps")
    if run.get("units_seen") is not None:
        facts.append(f"{run['units_seen']:,} {unit} seen")
    if seconds is not None:
        facts.append(f"{seconds:,.0f} s ({seconds / 3600:.2f} h) of training wall clock")
    lines += ["## Training", ""]
    if run.get("recipe"):
        lines += ["Recipe as run:", "", *("    " + c for c in run["recipe"]), ""]
    if facts:
        lines += ["; ".join(facts) + ".", ""]
    final = run.get("final_validation") or {}
    if final:
        lines += ["Final validation: " + ", ".join(f"{k} {v}" for k, v in final.items()) + ".", ""]
    if run.get("history"):
        lines += [run["history"].strip(), ""]
    lines += ["## Measured results", "", results_for(weights["fnv1a64"], results).strip(), ""]
    return "\n".join(lines)
