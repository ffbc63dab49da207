"""The bitnet-b1.58 architecture in PyTorch, with BitNet b1.58 quantization-aware training.

Numerics follow the engine (docs/ARCHITECTURE.md §4 "Numerics") exactly, so that
the exported GGUF computes the same function:
  * BitLinear: weights ternarized with one absmean scale per tensor, beta = mean|W|,
    T = clamp(round(W / beta), -1, 1); activations quantized per token,
    s = 127 / max(max|x|, 1e-5), q = clamp(round_half_even(x * s), -128, 127);
    y = (T . q) * beta / s. Training passes gradients straight through both roundings (STE).
  * RMSNorm with weights, eps 1e-5; RoPE NeoX (rotate half); causal GQA (query head h
    reads KV head h // (n_head / n_head_kv)); attn_sub_norm before attn_output;
    relu(gate)^2 * up; ffn_sub_norm before ffn_down; output_norm; LM head tied to the
    token embedding and not quantized.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class ModelConfig:
    n_vocab: int = 4096
    n_embd: int = 256
    n_layer: int = 6
    n_head: int = 4
    n_head_kv: int = 2
    n_ff: int = 768
    n_ctx: int = 256
    rope_theta: float = 10000.0
    eps: float = 1e-5

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    def to_dict(self) -> dict:
        return asdict(self)


def ternarize(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(T, beta): T in {-1, 0, 1} (same dtype as w), beta = mean|W| as a 0-d tensor."""
    beta = w.abs().mean().clamp(min=1e-5)
    return (w / beta).round().clamp(-1, 1), beta


def quantize_activations(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(q, s) per token (last axis): q integer-valued in [-128, 127], x ~ q / s."""
    s = 127.0 / x.abs().amax(dim=-1, keepdim=True).clamp(min=1e-5)
    return (x * s).round().clamp(-128, 127), s  # torch.round rounds half to even


class BitLinear(nn.Linear):
    def __init__(self, k: int, rows: int):
        super().__init__(k, rows, bias=False)
        nn.init.normal_(self.weight, std=0.02)
        # (T, beta) as exported; when set, eval uses them instead of re-ternarizing
        # (mean|T * beta| is not beta, so the exported weights cannot go back into .weight).
        self.frozen: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t, beta = self.frozen if self.frozen is not None and not self.training else ternarize(self.weight)
        q, s = quantize_activations(x)
        if self.training:
            # Straight-through estimator: quantized values forward, identity gradient back.
            w = self.weight + (t * beta - self.weight).detach()
            xq = x + (q / s - x).detach()
            return F.linear(xq, w)
        # Eval: the engine's order of operations, integer dot first, then beta / s.
        return F.linear(q, t) * (beta / s)


class RMSNorm(nn.Module):
    def __init__(self, n: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps) * self.weight


def rope_tables(cfg: ModelConfig, n: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    half = cfg.head_dim // 2
    inv_freq = cfg.rope_theta ** (-2.0 * torch.arange(half, dtype=torch.float64) / cfg.head_dim)
    angle = torch.arange(n, dtype=torch.float64)[:, None] * inv_freq[None, :]
    return angle.cos().to(dtype), angle.sin().to(dtype)


def rope_neox(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x [B][H][T][hd]: rotate pairs (i, i + hd/2) by angle pos * theta^(-2i/hd)."""
    half = x.shape[-1] // 2
    a, b = x[..., :half], x[..., half:]
    return torch.cat((a * cos - b * sin, b * cos + a * sin), dim=-1)


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        e, kv = cfg.n_embd, cfg.n_head_kv * cfg.head_dim
        self.cfg = cfg
        self.attn_norm = RMSNorm(e, cfg.eps)
        self.attn_q = BitLinear(e, e)
        self.attn_k = BitLinear(e, kv)
        self.attn_v = BitLinear(e, kv)
        self.attn_output = BitLinear(e, e)
        self.attn_sub_norm = RMSNorm(e, cfg.eps)
        self.ffn_norm = RMSNorm(e, cfg.eps)
        self.ffn_gate = BitLinear(e, cfg.n_ff)
        self.ffn_up = BitLinear(e, cfg.n_ff)
        self.ffn_down = BitLinear(cfg.n_ff, e)
        self.ffn_sub_norm = RMSNorm(cfg.n_ff, cfg.eps)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        b, t, _ = x.shape
        n = self.attn_norm(x)
        q = self.attn_q(n).view(b, t, cfg.n_head, cfg.head_dim).transpose(1, 2)
        k = self.attn_k(n).view(b, t, cfg.n_head_kv, cfg.head_dim).transpose(1, 2)
        v = self.attn_v(n).view(b, t, cfg.n_head_kv, cfg.head_dim).transpose(1, 2)
        q, k = rope_neox(q, cos, sin), rope_neox(k, cos, sin)
        group = cfg.n_head // cfg.n_head_kv
        k = k.repeat_interleave(group, dim=1)  # query head h reads KV head h // group
        v = v.repeat_interleave(group, dim=1)
        att = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=1.0 / math.sqrt(cfg.head_dim))
        att = att.transpose(1, 2).reshape(b, t, cfg.n_embd)
        x = x + self.attn_output(self.attn_sub_norm(att))
        m = self.ffn_norm(x)
        f = F.relu(self.ffn_gate(m)).pow(2) * self.ffn_up(m)
        return x + self.ffn_down(self.ffn_sub_norm(f))


class BitNetModel(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.token_embd = nn.Embedding(cfg.n_vocab, cfg.n_embd)
        nn.init.normal_(self.token_embd.weight, std=0.02)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.output_norm = RMSNorm(cfg.n_embd, cfg.eps)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens [B][T] -> logits [B][T][n_vocab]."""
        x = self.token_embd(tokens)
        cos, sin = rope_tables(self.cfg, tokens.shape[1], x.dtype)
        for block in self.blocks:
            x = block(x, cos, sin)
        return self.output_norm(x) @ self.token_embd.weight.t()
