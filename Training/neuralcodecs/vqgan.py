"""The VQGAN extreme image codec in PyTorch (issue 21): a 16x-downsampling VQ autoencoder, its
clustered codebooks, and the index transformer that both codes and restores the indices.

After Mao et al., "Extreme Image Compression using Fine-tuned VQGANs" (DCC 2024) and Esser et al.,
"Taming Transformers" (2021), sized for a 2-core CPU. The Swift runtime runs the same computation
from the exported weights; the parameter names here are the names it reads, and every layer is one
Sources/Neural has: Conv2d (stride 1 and 2, zero padding), GroupNorm fused with SiLU, single-head
self-attention with a fused qkv projection (MultiHeadSelfAttention, heads 1, not causal), nearest
upsampling, pixel (un)shuffle, LayerNorm/Linear/Embedding and the pre-LN TransformerBlock.

  x [N, 3, H, W]  RGB in [-1, 1], H and W multiples of 16 (the codec pads and crops)
  z = E(x)        [N, D, H/16, W/16]: pixel unshuffle x2, then residual blocks with a stride-2
                  convolution between levels, attention at 1/16
  i = argmin_k |z - c_k|^2   one index per 16x16 patch, into a codebook of `codes` vectors
  x^ = G(c_i)     the mirror of E: nearest upsampling + convolution, pixel shuffle x2 at the end

One model, several rates: the full codebook (4,096 codes) is clustered by k-means into K = 1024,
256, 64, 16 codes and each clustered codebook is fine-tuned with E and G frozen
(`codebooks.k<K>`); log2(K)/256 bits per pixel before entropy coding.

The index transformer (`IndexTransformer`, one per K) is bidirectional: it sees a window of up to
16x16 indices, some of them replaced by a MASK token, and predicts every masked one. It serves as
the learned prior (indices are coded in PHASES over a coding unit: the positions of phase s are
coded under the logits the model gives when phases < s are known and the rest masked) and as the
restoration model (the indices of lost blocks are masked; their neighbours are known).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from .grvq import Codebook  # the EMA codebook with k-means start and dead-code reset, shared

DOWN = 16
RATE_CODES = (1024, 256, 64, 16)  # the clustered codebooks: the codec's `-p k=` values
WINDOW = 16  # the index transformer's window side (16x16 indices = 256x256 pixels)


@dataclass
class VQGANConfig:
    # Channels per level: 1/2 (after the pixel unshuffle), 1/4, 1/8, 1/16.
    channels: list[int] = field(default_factory=lambda: [32, 64, 96, 160])
    res_blocks: int = 1  # per level, besides the two around the attention at 1/16
    embed_dim: int = 32  # codebook vector size
    codes: int = 4096
    groups: int = 8  # GroupNorm groups everywhere
    rate_codes: list[int] = field(default_factory=lambda: list(RATE_CODES))

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class IndexConfig:
    codes: int  # K; the MASK token is K
    dim: int = 128
    heads: int = 4
    layers: int = 4
    mlp: int = 512
    window: int = WINDOW

    def to_json(self) -> dict:
        return asdict(self)


def norm(ch: int, groups: int) -> nn.GroupNorm:
    return nn.GroupNorm(groups, ch)  # eps 1e-5, the Swift default


class ResBlock(nn.Module):
    """x + conv2(SiLU(GN(conv1(SiLU(GN(x)))))), a 1x1 `skip` when the width changes (taming's block
    without dropout)."""

    def __init__(self, cin: int, cout: int, groups: int):
        super().__init__()
        self.norm1, self.conv1 = norm(cin, groups), nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2, self.conv2 = norm(cout, groups), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return h + (self.skip(x) if self.skip is not None else x)


class AttnBlock(nn.Module):
    """x + proj(attention(GN(x))) over the H*W positions, one head, qkv fused as [3C, C] rows q, k, v
    (the layout of Sources/Neural's MultiHeadSelfAttention)."""

    def __init__(self, ch: int, groups: int):
        super().__init__()
        self.norm = norm(ch, groups)
        self.qkv = nn.Linear(ch, 3 * ch)
        self.proj = nn.Linear(ch, ch)

    def forward(self, x):
        n, c, h, w = x.shape
        t = self.norm(x).flatten(2).transpose(1, 2)  # [N, HW, C]
        q, k, v = self.qkv(t).chunk(3, dim=-1)
        a = F.scaled_dot_product_attention(q, k, v)
        return x + self.proj(a).transpose(1, 2).reshape(n, c, h, w)


class Encoder(nn.Module):
    def __init__(self, cfg: VQGANConfig):
        super().__init__()
        ch, g = cfg.channels, cfg.groups
        self.conv_in = nn.Conv2d(12, ch[0], 3, padding=1)
        self.levels = nn.ModuleList()
        for i, c in enumerate(ch):
            prev = ch[i - 1] if i else ch[0]
            level = nn.Module()
            level.down = nn.Conv2d(prev, c, 3, stride=2, padding=1) if i else None
            level.blocks = nn.ModuleList([ResBlock(c, c, g) for _ in range(cfg.res_blocks)])
            self.levels.append(level)
        top = ch[-1]
        self.mid1, self.attn, self.mid2 = ResBlock(top, top, g), AttnBlock(top, g), ResBlock(top, top, g)
        self.norm_out = norm(top, g)
        self.conv_out = nn.Conv2d(top, cfg.embed_dim, 1)

    def forward(self, x):
        h = self.conv_in(F.pixel_unshuffle(x, 2))
        for level in self.levels:
            if level.down is not None:
                h = level.down(h)
            for b in level.blocks:
                h = b(h)
        h = self.mid2(self.attn(self.mid1(h)))
        return self.conv_out(F.silu(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, cfg: VQGANConfig):
        super().__init__()
        ch, g = list(reversed(cfg.channels)), cfg.groups
        top = ch[0]
        self.conv_in = nn.Conv2d(cfg.embed_dim, top, 3, padding=1)
        self.mid1, self.attn, self.mid2 = ResBlock(top, top, g), AttnBlock(top, g), ResBlock(top, top, g)
        self.levels = nn.ModuleList()
        for i, c in enumerate(ch):
            prev = ch[i - 1] if i else top
            level = nn.Module()
            level.up = nn.Conv2d(prev, c, 3, padding=1) if i else None  # after nearest x2 upsampling
            level.blocks = nn.ModuleList([ResBlock(c, c, g) for _ in range(cfg.res_blocks)])
            self.levels.append(level)
        self.norm_out = norm(ch[-1], g)
        self.conv_out = nn.Conv2d(ch[-1], 12, 3, padding=1)

    def forward(self, q):
        h = self.mid2(self.attn(self.mid1(self.conv_in(q))))
        for level in self.levels:
            if level.up is not None:
                h = level.up(F.interpolate(h, scale_factor=2, mode="nearest"))
            for b in level.blocks:
                h = b(h)
        return F.pixel_shuffle(self.conv_out(F.silu(self.norm_out(h))), 2)

    @property
    def last_layer(self) -> torch.Tensor:
        return self.conv_out.weight


def nearest(x: torch.Tensor, book: torch.Tensor) -> torch.Tensor:
    """Index of the nearest row of `book` [K, D] (squared L2; ties to the lower index) for each row
    of x [M, D]. The Swift encoder computes the same distances."""
    d = (x * x).sum(1, keepdim=True) - 2 * x @ book.t() + (book * book).sum(1)[None]
    return d.argmin(1)


def to_rows(z: torch.Tensor) -> torch.Tensor:
    """[N, D, h, w] -> [N*h*w, D]."""
    return z.permute(0, 2, 3, 1).reshape(-1, z.shape[1])


def from_rows(r: torch.Tensor, n: int, h: int, w: int) -> torch.Tensor:
    return r.reshape(n, h, w, -1).permute(0, 3, 1, 2)


class VQGAN(nn.Module):
    """Encoder, EMA codebook (`quantizer.embed`, the full codebook) and decoder; the clustered
    codebooks `codebooks.k<K>` are added by the fine-tuning stage (`add_rate_codebook`)."""

    def __init__(self, cfg: VQGANConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        # Dead codes restart after 200 steps unchosen: at 8 crops of 128x128 (512 vectors a step) a
        # code of 4,096 is chosen about 25 times in 200 steps when the codebook is evenly used.
        self.quantizer = Codebook(cfg.codes, cfg.embed_dim, decay=0.99, dead_after=200)
        self.decoder = Decoder(cfg)
        self.codebooks = nn.ParameterDict()

    def add_rate_codebook(self, k: int, centroids: torch.Tensor) -> None:
        self.codebooks[f"k{k}"] = nn.Parameter(centroids.clone().float())

    def book(self, k: int | None) -> torch.Tensor:
        return self.quantizer.embed if k is None or k == self.cfg.codes else self.codebooks[f"k{k}"]

    def forward(self, x: torch.Tensor):
        """Training forward at the full codebook: (x^, indices [N, h, w], commitment loss); the
        quantized latent passes the decoder's gradient straight through to the encoder."""
        z = self.encoder(x)
        n, _, h, w = z.shape
        q, idx = self.quantizer(to_rows(z))
        q = from_rows(q, n, h, w)
        commit = F.mse_loss(z, q.detach())
        return self.decoder(z + (q - z).detach()), idx.reshape(n, h, w), commit

    def forward_rate(self, x: torch.Tensor, k: int):
        """Fine-tuning forward at a clustered codebook (encoder and decoder frozen by the caller): the
        decoder sees the chosen codebook rows themselves, so its reconstruction loss moves them.
        Returns (x^, indices, codebook loss, encoder output)."""
        with torch.no_grad():
            z = self.encoder(x)
        n, _, h, w = z.shape
        book = self.book(k)
        idx = nearest(to_rows(z), book.detach())
        q = from_rows(book[idx], n, h, w)
        return self.decoder(q), idx.reshape(n, h, w), F.mse_loss(q, z), z

    @torch.no_grad()
    def encode(self, x: torch.Tensor, k: int | None = None) -> torch.Tensor:
        z = self.encoder(x)
        n, _, h, w = z.shape
        return nearest(to_rows(z), self.book(k)).reshape(n, h, w)

    @torch.no_grad()
    def decode(self, idx: torch.Tensor, k: int | None = None) -> torch.Tensor:
        n, h, w = idx.shape
        return self.decoder(from_rows(self.book(k)[idx.reshape(-1)], n, h, w))


class Discriminator(nn.Module):
    """PatchGAN (Isola et al.): stride-2 4x4 convolutions, LeakyReLU 0.2, GroupNorm instead of batch
    norm (batches of 8 are too small for batch statistics); returns the logits map and the features
    after every activation (for feature matching). Training only: never exported."""

    def __init__(self, ch: int = 32, layers: int = 3):
        super().__init__()
        convs, c = [nn.Conv2d(3, ch, 4, 2, 1)], ch
        for i in range(1, layers):
            convs.append(nn.Conv2d(c, 2 * c, 4, 2 if i < layers - 1 else 1, 1))
            c *= 2
        self.convs = nn.ModuleList(convs)
        self.norms = nn.ModuleList([nn.Identity()] + [nn.GroupNorm(8, cv.out_channels) for cv in convs[1:]])
        self.out = nn.Conv2d(c, 1, 4, 1, 1)

    def forward(self, x):
        feats = []
        for conv, nm in zip(self.convs, self.norms):
            x = F.leaky_relu(nm(conv(x)), 0.2)
            feats.append(x)
        return self.out(x), feats


# ---------------------------------------------------------------- index coding

def phase_map(h: int, w: int) -> torch.Tensor:
    """The coding phase of each position of an h x w unit [h, w] (long): 0 where row and column are
    multiples of 4, 1 at the other even-even positions, 2 at odd-odd ones, 3 where row + column is
    odd. Each phase is coded knowing the phases before it; the Swift coder uses the same map."""
    r = torch.arange(h)[:, None]
    c = torch.arange(w)[None, :]
    p = torch.full((h, w), 3, dtype=torch.long)
    p[(r % 2 == 1) & (c % 2 == 1)] = 2
    p[(r % 2 == 0) & (c % 2 == 0)] = 1
    p[(r % 4 == 0) & (c % 4 == 0)] = 0
    return p


PHASES = 4


class IndexTransformer(nn.Module):
    """Bidirectional transformer over a window of indices (row-major, at most window x window):
    token embedding (K codes + MASK), a learned embedding of the position row*window + col, pre-LN
    blocks (names as Sources/Neural's TransformerBlock: ln1, attn.qkv, attn.proj, ln2, mlp.fc1,
    mlp.fc2; GELU tanh), final LayerNorm, a head to K logits."""

    def __init__(self, cfg: IndexConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.dim
        self.tok_emb = nn.Embedding(cfg.codes + 1, d)
        self.pos_emb = nn.Embedding(cfg.window * cfg.window, d)
        self.blocks = nn.ModuleList([Block(d, cfg.heads, cfg.mlp) for _ in range(cfg.layers)])
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, cfg.codes)
        nn.init.normal_(self.tok_emb.weight, std=0.02)
        nn.init.normal_(self.pos_emb.weight, std=0.02)

    @property
    def mask_token(self) -> int:
        return self.cfg.codes

    def positions(self, h: int, w: int, device=None) -> torch.Tensor:
        r = torch.arange(h, device=device)[:, None]
        c = torch.arange(w, device=device)[None, :]
        return (r * self.cfg.window + c).reshape(-1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens [N, h, w] (codes, or mask_token where unknown) -> logits [N, h, w, K]."""
        n, h, w = tokens.shape
        if h > self.cfg.window or w > self.cfg.window:
            raise ValueError(f"window {h}x{w} is larger than {self.cfg.window}x{self.cfg.window}")
        x = self.tok_emb(tokens.reshape(n, -1)) + self.pos_emb(self.positions(h, w, tokens.device))[None]
        for b in self.blocks:
            x = b(x)
        return self.head(self.ln_f(x)).reshape(n, h, w, -1)


class Block(nn.Module):
    def __init__(self, d: int, heads: int, mlp: int):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.Module()
        self.attn.qkv, self.attn.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Module()
        self.mlp.fc1, self.mlp.fc2 = nn.Linear(d, mlp), nn.Linear(mlp, d)

    def forward(self, x):
        n, t, d = x.shape
        q, k, v = self.attn.qkv(self.ln1(x)).reshape(n, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(n, t, d)
        x = x + self.attn.proj(a)
        return x + self.mlp.fc2(F.gelu(self.mlp.fc1(self.ln2(x)), approximate="tanh"))


def coding_logits(model: IndexTransformer, idx: torch.Tensor) -> torch.Tensor:
    """The logits every position of a coding unit idx [h, w] is coded under: phase by phase, the
    phases before are known and the rest masked. [h, w, K]; what the encoder and decoder both compute."""
    h, w = idx.shape
    phase = phase_map(h, w).to(idx.device)
    out = torch.zeros(h, w, model.cfg.codes, device=idx.device)
    for s in range(PHASES):
        if not bool((phase == s).any()):
            continue
        tokens = torch.where(phase < s, idx, torch.full_like(idx, model.mask_token))
        out[phase == s] = model(tokens[None])[0][phase == s]
    return out


def ideal_bits(model: IndexTransformer, idx: torch.Tensor, unit: int) -> float:
    """Ideal code length (bits) of an index grid [h, w] coded in units of unit x unit indices."""
    h, w = idx.shape
    bits = 0.0
    for y in range(0, h, unit):
        for x in range(0, w, unit):
            u = idx[y:y + unit, x:x + unit]
            logp = F.log_softmax(coding_logits(model, u), -1)
            bits -= logp.gather(-1, u[..., None]).sum().item() / 0.6931471805599453
    return bits


# ---------------------------------------------------------------- losses

_MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _gauss(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    g = torch.exp(-((torch.arange(size) - size // 2).float() ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def ms_ssim(x: torch.Tensor, y: torch.Tensor, scales: int | None = None) -> torch.Tensor:
    """Differentiable MS-SSIM (Wang et al. 2003) of images in [0, 1], [N, 3, H, W] -> [N]: 11-tap
    Gaussian windows (sigma 1.5), as many of the five scales as the size allows (at least 11 pixels
    at the coarsest), the standard weights renormalised over the scales used. Negative contrast
    terms are clamped at 1e-6 so the product stays defined for a badly wrong output."""
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    if scales is None:
        scales = 1
        while scales < 5 and min(x.shape[-2:]) // (2 ** scales) >= 11:
            scales += 1
    w = torch.tensor(_MS_SSIM_WEIGHTS[:scales], device=x.device)
    w = w / w.sum()
    g = _gauss().to(x.device)
    ch = x.shape[1]
    kx = g.view(1, 1, 1, -1).repeat(ch, 1, 1, 1)
    ky = g.view(1, 1, -1, 1).repeat(ch, 1, 1, 1)

    def blur(t):
        return F.conv2d(F.conv2d(t, kx, groups=ch), ky, groups=ch)

    out = []
    for s in range(scales):
        mx, my = blur(x), blur(y)
        sxx, syy, sxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
        cs = ((2 * sxy + c2) / (sxx + syy + c2)).mean((1, 2, 3))
        if s == scales - 1:
            ssim = ((2 * mx * my + c1) / (mx * mx + my * my + c1)).mean((1, 2, 3)) * cs
            out.append(ssim.clamp_min(1e-6) ** w[s])
        else:
            out.append(cs.clamp_min(1e-6) ** w[s])
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    return torch.stack(out, 0).prod(0)
