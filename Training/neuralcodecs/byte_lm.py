"""A byte-level decoder-only transformer (the M1 of Lester et al. 2024).

Module names are the weight names the Swift runtime (Sources/Neural, Sources/TextLM) loads:
tok_emb, pos_emb, blocks.{i}.{ln1,attn.qkv,attn.proj,ln2,mlp.fc1,mlp.fc2}, ln_f, head.
Exact arithmetic, so Swift can reproduce it:
  x = tok_emb[t] + pos_emb[p]
  per block: x += proj(attn(ln1(x)));  x += fc2(gelu_tanh(fc1(ln2(x))))
  logits = head(ln_f(x))          (head untied, no bias)
  LayerNorm eps 1e-5 (biased variance); attention softmax(q k^T / sqrt(head_dim)) with a causal
  mask; qkv rows stacked q, k, v, heads contiguous within each (head h = rows h*hd..(h+1)*hd).
Input vocabulary 257: bytes 0-255 and BOS = 256, which starts every context; output 256 bytes.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ByteLMConfig:
    width: int = 256
    heads: int = 4
    layers: int = 3
    mlp: int = 1024
    context: int = 512
    vocab_in: int = 257
    vocab_out: int = 256
    bos: int = 256
    ln_eps: float = 1e-5

    def to_json(self) -> dict:
        return asdict(self)


class Attention(nn.Module):
    def __init__(self, c: ByteLMConfig):
        super().__init__()
        self.heads = c.heads
        self.qkv = nn.Linear(c.width, 3 * c.width)
        self.proj = nn.Linear(c.width, c.width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)
        shape = lambda z: z.view(b, t, self.heads, d // self.heads).transpose(1, 2)
        y = F.scaled_dot_product_attention(shape(q), shape(k), shape(v), is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(b, t, d))


class MLP(nn.Module):
    def __init__(self, c: ByteLMConfig):
        super().__init__()
        self.fc1 = nn.Linear(c.width, c.mlp)
        self.fc2 = nn.Linear(c.mlp, c.width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, c: ByteLMConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(c.width, eps=c.ln_eps)
        self.attn = Attention(c)
        self.ln2 = nn.LayerNorm(c.width, eps=c.ln_eps)
        self.mlp = MLP(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class ByteLM(nn.Module):
    def __init__(self, c: ByteLMConfig):
        super().__init__()
        self.config = c
        self.tok_emb = nn.Embedding(c.vocab_in, c.width)
        self.pos_emb = nn.Embedding(c.context, c.width)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.layers))
        self.ln_f = nn.LayerNorm(c.width, eps=c.ln_eps)
        self.head = nn.Linear(c.width, c.vocab_out, bias=False)
        self.apply(self._init)
        for name, p in self.named_parameters():  # GPT-2 style: residual projections scaled down
            if name.endswith("attn.proj.weight") or name.endswith("mlp.fc2.weight"):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * c.layers))

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens [B, T] (T <= context, BOS first) -> logits [B, T, 256] over the next byte."""
        t = tokens.shape[1]
        x = self.tok_emb(tokens) + self.pos_emb(torch.arange(t, device=tokens.device))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))

    def with_bos(self, data: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A batch of byte windows [B, L] -> (inputs BOS + bytes[:-1], targets bytes)."""
        bos = torch.full_like(data[:, :1], self.config.bos)
        return torch.cat([bos, data[:, :-1]], dim=1), data

    def bits_per_byte(self, data: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy in bits of each target position [L] over a batch of windows."""
        inputs, targets = self.with_bos(data)
        logits = self(inputs)
        nll = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")  # [B, L] nats
        return nll.mean(dim=0) / math.log(2)
