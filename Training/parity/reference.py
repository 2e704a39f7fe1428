"""PyTorch reference modules shared by the golden vectors and the speed benchmark.

Module and parameter names are the ones the Swift loader reads (docs/NEURAL.md).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)

    def forward(self, x, causal=True):  # x: [T, d]
        t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=-1)
        q, k, v = (z.view(t, self.heads, d // self.heads).transpose(0, 1) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        return self.proj(y.transpose(0, 1).reshape(t, d))

    def step(self, x, cache):
        """One position x [1, d]; cache = [keys [ctx, d], values [ctx, d], length]."""
        d, h = x.shape[1], self.heads
        q, k, v = self.qkv(x).split(d, dim=-1)
        keys, values, t = cache
        keys[t], values[t] = k[0], v[0]
        cache[2] = t + 1
        kk = keys[: t + 1].view(t + 1, h, d // h).transpose(0, 1)
        vv = values[: t + 1].view(t + 1, h, d // h).transpose(0, 1)
        y = F.scaled_dot_product_attention(q.view(1, h, d // h).transpose(0, 1), kk, vv)
        return self.proj(y.transpose(0, 1).reshape(1, d))


class MLP(nn.Module):
    def __init__(self, d, hidden, approximate):
        super().__init__()
        self.fc1, self.fc2, self.approximate = nn.Linear(d, hidden), nn.Linear(hidden, d), approximate

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x), approximate=self.approximate))


class Block(nn.Module):
    def __init__(self, d, heads, hidden, approximate="none"):
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(d), Attention(d, heads)
        self.ln2, self.mlp = nn.LayerNorm(d), MLP(d, hidden, approximate)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))

    def step(self, x, cache):
        x = x + self.attn.step(self.ln1(x), cache)
        return x + self.mlp(self.ln2(x))


class TransformerLM(nn.Module):
    def __init__(self, vocab, d, heads, layers, hidden, context, approximate="none", vocab_out=None):
        super().__init__()
        self.tok_emb, self.pos_emb = nn.Embedding(vocab, d), nn.Embedding(context, d)
        self.blocks = nn.ModuleList(Block(d, heads, hidden, approximate) for _ in range(layers))
        self.ln_f, self.head = nn.LayerNorm(d), nn.Linear(d, vocab_out or vocab, bias=False)

    def forward(self, tokens):
        x = self.tok_emb(tokens) + self.pos_emb(torch.arange(len(tokens)))
        for b in self.blocks:
            x = b(x)
        return self.head(self.ln_f(x))

    def make_cache(self):
        d, ctx = self.tok_emb.weight.shape[1], self.pos_emb.weight.shape[0]
        return [[torch.zeros(ctx, d), torch.zeros(ctx, d), 0] for _ in self.blocks]

    def step(self, token, caches):
        """Logits [1, vocab] after feeding one token at position caches[0][2] (eager, KV cache)."""
        t = caches[0][2]
        x = self.tok_emb.weight[token : token + 1] + self.pos_emb.weight[t : t + 1]
        for b, cache in zip(self.blocks, caches):
            x = b.step(x, cache)
        return self.head(self.ln_f(x))


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(c, c, 3, padding=1), nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x)))




class ConvStack(nn.Module):
    """The decoder-sized benchmark model: residual 3x3 conv blocks at constant width."""

    def __init__(self, c, blocks):
        super().__init__()
        self.blocks = nn.ModuleList(ResBlock(c) for _ in range(blocks))

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return x
