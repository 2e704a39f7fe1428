"""Export a trained model to Codecs/<model-id>/.

Writes model.safetensors (float16 weights), codec.json (hyper-parameters, ids, hash),
MODEL_CARD.md (the recipe supplies its text) and golden.safetensors: a fixed input and the
model's float32 output computed from the float16-rounded weights, exactly what the Swift runtime
loads, so the Swift tests compare against the released weights.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from safetensors.torch import save_file


def fnv1a64(data: bytes) -> int:
    """The weights hash CodecKit.ModelStore writes into every container (FNV-1a 64)."""
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def float16_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to(torch.float16).contiguous().cpu() for k, v in model.state_dict().items()}


def export_model(model: torch.nn.Module, dest: Path, config: dict, card: str,
                 golden: dict[str, torch.Tensor] | None = None) -> dict:
    """Writes the model folder; returns codec.json's content. `model` is left with the
    float16-rounded weights (as float32), which is what golden outputs must be computed from."""
    dest.mkdir(parents=True, exist_ok=True)
    weights = float16_state(model)
    save_file(weights, str(dest / "model.safetensors"), metadata={"format": "pt"})
    model.load_state_dict({k: v.float() for k, v in weights.items()})
    blob = (dest / "model.safetensors").read_bytes()
    config = {**config,
              "weights": {"file": "model.safetensors", "dtype": "float16", "bytes": len(blob),
                          "fnv1a64": f"{fnv1a64(blob):016x}", "sha256": hashlib.sha256(blob).hexdigest(),
                          "parameters": sum(v.numel() for v in weights.values())}}
    if golden is not None:
        save_file({k: v.contiguous().cpu() for k, v in golden.items()}, str(dest / "golden.safetensors"))
        config["golden"] = {"file": "golden.safetensors", "tensors": {k: list(v.shape) for k, v in golden.items()}}
    (dest / "codec.json").write_text(json.dumps(config, indent=2) + "\n")
    (dest / "MODEL_CARD.md").write_text(card)
    return config
