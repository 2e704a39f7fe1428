"""Golden vectors for the Swift Neural layers (Tests/NeuralTests/Golden/*.safetensors).

Each file holds one case: `input` (and `tokens` for token inputs), the module's weights under its
PyTorch state_dict names, `output`, and `__metadata__["config"]`, a JSON object with the layer's
hyper-parameters. Weights are random (fixed seed): these files test arithmetic, they are no codec.

    python3 Training/parity/make_golden.py [outdir]
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

from reference import Attention, Block, ResBlock, TransformerLM

torch.manual_seed(20261124)
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../Tests/NeuralTests/Golden")
os.makedirs(OUT, exist_ok=True)


def randomize(module, scale=0.3):
    """Give every parameter (norm weights included) non-trivial random values."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("alpha"):
                p.copy_(0.5 + torch.rand_like(p))
            elif p.dim() == 1 and ("ln" in name or "norm" in name) and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(scale * torch.randn_like(p))
    return module


def save(name, config, tensors):
    tensors = {k: v.detach().contiguous().float() for k, v in tensors.items()}
    save_file(tensors, os.path.join(OUT, name + ".safetensors"), metadata={"config": json.dumps(config)})


def module_case(name, config, module, x, *extra):
    module = randomize(module)
    with torch.no_grad():
        y = module(x, *extra)
    tensors = {"input": x, "output": y}
    tensors.update({"m." + k: v for k, v in module.state_dict().items()})
    save(name, config, tensors)


# --- linear, embedding -------------------------------------------------------------------------
module_case("linear", {"in": 24, "out": 40}, nn.Linear(24, 40), torch.randn(3, 5, 24))
emb = randomize(nn.Embedding(50, 12))
tokens = torch.tensor([0, 7, 49, 3, 3, 21])
save("embedding", {}, {"tokens": tokens.float(), "m.weight": emb.weight, "output": emb(tokens)})

# --- convolutions ------------------------------------------------------------------------------
conv1d = [
    dict(cin=6, cout=8, k=5, stride=2, padding=2, dilation=1, groups=2, mode="zeros", bias=True),
    dict(cin=6, cout=4, k=3, stride=1, padding=2, dilation=2, groups=1, mode="reflect", bias=False),
    dict(cin=4, cout=4, k=7, stride=1, padding=3, dilation=1, groups=4, mode="circular", bias=True),
]
for i, c in enumerate(conv1d):
    m = nn.Conv1d(c["cin"], c["cout"], c["k"], stride=c["stride"], padding=c["padding"], dilation=c["dilation"],
                  groups=c["groups"], bias=c["bias"], padding_mode=c["mode"])
    module_case(f"conv1d_{i}", c, m, torch.randn(2, c["cin"], 37))

conv2d = [
    dict(cin=8, cout=6, k=3, stride=1, padding=1, dilation=1, groups=1, mode="zeros", bias=True),
    dict(cin=8, cout=4, k=4, stride=2, padding=1, dilation=1, groups=2, mode="reflect", bias=True),
    dict(cin=4, cout=6, k=3, stride=1, padding=2, dilation=2, groups=2, mode="circular", bias=False),
    dict(cin=6, cout=6, k=5, stride=2, padding=2, dilation=1, groups=6, mode="zeros", bias=True),
]
for i, c in enumerate(conv2d):
    m = nn.Conv2d(c["cin"], c["cout"], c["k"], stride=c["stride"], padding=c["padding"], dilation=c["dilation"],
                  groups=c["groups"], bias=c["bias"], padding_mode=c["mode"])
    module_case(f"conv2d_{i}", c, m, torch.randn(2, c["cin"], 13, 11))

tconv1d = [
    dict(cin=6, cout=4, k=4, stride=2, padding=1, output_padding=0, dilation=1, groups=1, bias=True),
    dict(cin=6, cout=4, k=7, stride=3, padding=2, output_padding=1, dilation=2, groups=2, bias=True),
]
for i, c in enumerate(tconv1d):
    m = nn.ConvTranspose1d(c["cin"], c["cout"], c["k"], stride=c["stride"], padding=c["padding"],
                           output_padding=c["output_padding"], dilation=c["dilation"], groups=c["groups"], bias=c["bias"])
    module_case(f"convtranspose1d_{i}", c, m, torch.randn(2, c["cin"], 19))

tconv2d = [
    dict(cin=6, cout=4, k=4, stride=2, padding=1, output_padding=0, dilation=1, groups=1, bias=True),
    dict(cin=4, cout=6, k=3, stride=2, padding=1, output_padding=1, dilation=1, groups=2, bias=False),
]
for i, c in enumerate(tconv2d):
    m = nn.ConvTranspose2d(c["cin"], c["cout"], c["k"], stride=c["stride"], padding=c["padding"],
                           output_padding=c["output_padding"], dilation=c["dilation"], groups=c["groups"], bias=c["bias"])
    module_case(f"convtranspose2d_{i}", c, m, torch.randn(2, c["cin"], 9, 7))

# --- normalisation -----------------------------------------------------------------------------
module_case("layernorm", {"dim": 20, "eps": 1e-5}, nn.LayerNorm(20), 2 + 3 * torch.randn(4, 3, 20))
module_case("groupnorm", {"groups": 3, "channels": 12, "eps": 1e-5}, nn.GroupNorm(3, 12), 1 + 2 * torch.randn(2, 12, 5, 6))
module_case("rmsnorm", {"dim": 20, "eps": 1e-6}, nn.RMSNorm(20, eps=1e-6), 3 * torch.randn(4, 3, 20))


# --- activations -------------------------------------------------------------------------------
class Snake(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(channels))

    def forward(self, x):
        a = self.alpha.view(1, -1, *([1] * (x.dim() - 2)))
        return x + (1.0 / (a + 1e-9)) * torch.sin(a * x) ** 2


act_input = torch.cat([torch.linspace(-12, 12, 241), 3 * torch.randn(255), torch.tensor([0.0, 1e-6, -1e-6, 0.1, -0.1])])
activations = {
    "relu": F.relu(act_input),
    "leaky_relu": F.leaky_relu(act_input, 0.2),
    "silu": F.silu(act_input),
    "gelu": F.gelu(act_input),
    "gelu_tanh": F.gelu(act_input, approximate="tanh"),
    "tanh": torch.tanh(act_input),
    "sigmoid": torch.sigmoid(act_input),
    "exp": torch.exp(act_input.clamp(max=80)),
    "log": torch.log(act_input.abs() + 1e-30),
}
save("activations", {}, {"input": act_input, **{"output." + k: v for k, v in activations.items()}})
module_case("snake", {"channels": 6}, Snake(6), 2 * torch.randn(2, 6, 25))

# --- resampling --------------------------------------------------------------------------------
x1 = torch.randn(2, 3, 9)
x2 = torch.randn(2, 3, 5, 7)
x3 = torch.randn(2, 12, 3, 4)
save("upsample", {}, {
    "input1d": x1, "input2d": x2, "pixelshuffle_input": x3,
    "nearest1d": F.interpolate(x1, scale_factor=3, mode="nearest"),
    "linear1d": F.interpolate(x1, scale_factor=2, mode="linear", align_corners=False),
    "nearest2d": F.interpolate(x2, scale_factor=2, mode="nearest"),
    "bilinear2d": F.interpolate(x2, scale_factor=2, mode="bilinear", align_corners=False),
    "pixelshuffle": F.pixel_shuffle(x3, 2),
})


# --- attention and transformer -----------------------------------------------------------------
x = torch.randn(11, 32)
module_case("attention_causal", {"dim": 32, "heads": 4, "causal": True}, Attention(32, 4), x)
module_case("attention_full", {"dim": 32, "heads": 4, "causal": False}, Attention(32, 4), x, False)
module_case("transformer_block", {"dim": 32, "heads": 4, "mlp": 96, "activation": "gelu"}, Block(32, 4, 96), torch.randn(9, 32))

lm_config = {"vocab_size": 256, "d_model": 32, "n_heads": 4, "n_layers": 2, "d_mlp": 128, "context": 24,
             "activation": "gelu_tanh", "norm_eps": 1e-5}
lm = randomize(TransformerLM(256, 32, 4, 2, 128, 24, approximate="tanh"), scale=0.2)
tokens = torch.tensor(list(b"Equal-Info Windows\x00\xff!"))
with torch.no_grad():
    logits = lm(tokens)
save("transformer_lm", lm_config, {"tokens": tokens.float(), "output": logits, **lm.state_dict()})

# The EIW layout (Training/neuralcodecs/byte_lm.py): 257 input tokens (bytes + BOS = 256), 256
# outputs, codec.json keys in an "architecture" object, tanh GELU by default.
bos_config = {"architecture": {"width": 32, "heads": 2, "layers": 1, "mlp": 64, "context": 16, "vocab_in": 257,
                               "vocab_out": 256, "bos": 256, "ln_eps": 1e-5}}
lm = randomize(TransformerLM(257, 32, 2, 1, 64, 16, approximate="tanh", vocab_out=256), scale=0.2)
tokens = torch.tensor([256] + list(b"BOS first"))
with torch.no_grad():
    logits = lm(tokens)
save("transformer_lm_bos", bos_config, {"tokens": tokens.float(), "output": logits, **lm.state_dict()})


# --- residual conv block -----------------------------------------------------------------------
module_case("resblock2d", {"channels": 8}, ResBlock(8), torch.randn(1, 8, 10, 12))

# --- dtype conversion --------------------------------------------------------------------------
v = torch.cat([torch.randn(64) * 10, torch.tensor([0.0, -0.0, 65504.0, 6e-8, -3e-5, 1e-3])])
save_file({"f32_of_f16": v.half().float(), "f16": v.half(), "f32_of_bf16": v.bfloat16().float(), "bf16": v.bfloat16()},
          os.path.join(OUT, "dtypes.safetensors"))

total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
print(f"wrote {len(os.listdir(OUT))} files, {total / 1024:.0f} KiB, to {OUT}")
