#!/usr/bin/env python3
"""float64 NumPy reference forward pass for BitNet b1.58 and ternary llama / qwen3 GGUF models.

    reference.py MODEL.gguf --tokens-file T.txt --numerics paper -o OUT.f32
    reference.py MODEL.gguf --tokens "510 79 110" --numerics float -o OUT.f32

Writes raw little-endian float32 logits [n_tokens][n_vocab]; row t is the prediction after
tokens 0..t (causal, one batch). As a module: `forward(model_path, tokens, numerics)`.

Numerics (see Tests/Fixtures/golden/README.md):
  * float: BitLinear(v, W) = v @ W^T with the dequantized W.
  * paper: per token s = 127 / max(max|v|, 1e-5), q = clamp(round_half_even(v*s), -128, 127),
    BitLinear = (W @ q) / s, where W @ q is exact in float64 (= beta * T.q).
  * q8k: as paper, but with one scale per 256 consecutive values of a token (the last group
    may be shorter): how llama.cpp quantizes activations (Q8_K blocks) for its TQ1_0/TQ2_0
    dot products. The engine uses it for arch qwen3.
Architectures (conventions from llama.cpp's converters and graph builders, written here
independently of the engine):
  * bitnet-b1.58 / bitnet-25 / bitnet: sub-norms before attn_output and ffn_down, rotate-half RoPE;
  * llama: no sub-norms, SiLU gate, RoPE on adjacent pairs (2i, 2i+1) -- llama.cpp's "norm"
    type, which is what the converters' Q/K row permutation is for;
  * qwen3: no sub-norms, SiLU gate, per-head RMSNorm of q and k (attn_q_norm / attn_k_norm)
    before rotate-half RoPE, head_dim from attention.key_length.
The LM head is never activation-quantized. Every weight type is decoded here
(I2_S, TQ1_0, TQ2_0, F32/F16/BF16, Q8_0; Q4_K/Q6_K through gguf.quants.dequantize).
Weights are decoded on use and not cached, so 2B4T-sized models fit in memory.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gguf_io import RawGGUFReader, tensor_to_float64  # noqa: E402

NUMERICS = ("paper", "float", "q8k")


@dataclass(frozen=True)
class HParams:
    arch: str
    activation: str  # "relu2" or "silu"
    n_vocab: int
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    n_ff: int
    n_rot: int
    eps: float
    rope_theta: float
    head_dim: int
    sub_norms: bool
    qk_norm: bool
    rope_style: str  # "neox" (rotate half) or "interleaved" (adjacent pairs)


class Model:
    """A GGUF model opened for the reference: hyperparameters + on-demand float64 weights."""

    def __init__(self, path: str | Path):
        self.reader = RawGGUFReader(str(path))
        self.hp = self._read_hparams()

    def _read_hparams(self) -> HParams:
        r = self.reader
        arch = r.value("general.architecture")
        if arch in ("bitnet-b1.58", "bitnet-25"):
            activation = "relu2"
        elif arch == "bitnet":
            activation = "relu2" if r.value("bitnet.hidden_activation") == "relu2" else "silu"
        elif arch in ("llama", "qwen3"):
            activation = "silu"
        else:
            raise ValueError(f"unsupported architecture {arch!r}")

        def key(name: str, default=None):
            value = r.value(f"{arch}.{name}", default)
            if value is None:
                raise ValueError(f"missing metadata key {arch}.{name}")
            return value

        n_embd = int(key("embedding_length"))
        n_head = int(key("attention.head_count"))
        embd = r.raw_tensors.get("token_embd.weight")
        if embd is None:
            raise ValueError("missing tensor token_embd.weight")
        n_vocab = int(r.value(f"{arch}.vocab_size", embd.ne[1] if len(embd.ne) > 1 else 0))
        key_length = r.value(f"{arch}.attention.key_length")
        if n_head <= 0 or (key_length is None and n_embd % n_head):
            raise ValueError(f"n_embd {n_embd} is not a multiple of n_head {n_head}")
        head_dim = int(key_length) if key_length is not None else n_embd // n_head
        hp = HParams(
            arch=arch,
            activation=activation,
            n_vocab=n_vocab,
            n_embd=n_embd,
            n_layer=int(key("block_count")),
            n_head=n_head,
            n_head_kv=int(key("attention.head_count_kv", n_head)),
            n_ff=int(key("feed_forward_length")),
            n_rot=int(key("rope.dimension_count", head_dim)),
            eps=float(key("attention.layer_norm_rms_epsilon")),
            rope_theta=float(key("rope.freq_base", 10000.0)),
            head_dim=head_dim,
            sub_norms=arch not in ("llama", "qwen3"),
            qk_norm=arch == "qwen3",
            rope_style="interleaved" if arch == "llama" else "neox",
        )
        if hp.n_head_kv <= 0 or hp.n_head % hp.n_head_kv:
            raise ValueError(f"n_head {hp.n_head} is not a multiple of n_head_kv {hp.n_head_kv}")
        if hp.n_rot % 2 or hp.n_rot > hp.head_dim:
            raise ValueError(f"rope.dimension_count {hp.n_rot} must be even and <= head_dim {hp.head_dim}")
        if embd.ne != (n_embd, n_vocab):
            raise ValueError(f"token_embd.weight has shape {embd.ne}, expected ({n_embd}, {n_vocab})")
        return hp

    def has(self, name: str) -> bool:
        return name in self.reader.raw_tensors

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """float64 weight; `shape` in NumPy order ((rows, K) for matrices, ggml ne reversed)."""
        t = self.reader.raw_tensors.get(name)
        if t is None:
            raise ValueError(f"missing tensor {name}")
        if tuple(reversed(t.ne)) != shape:
            raise ValueError(f"tensor {name}: ggml shape {t.ne}, expected {tuple(reversed(shape))}")
        return tensor_to_float64(t)


# MARK: - building blocks


def rmsnorm(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def quantize_activations(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row int8 absmax quantization: returns (q as float64 integers, s per row)."""
    s = 127.0 / np.maximum(np.max(np.abs(x), axis=-1), 1e-5)
    q = np.clip(np.rint(x * s[:, None]), -128, 127)  # np.rint rounds half to even
    return q, s


def bitlinear(x: np.ndarray, w: np.ndarray, numerics: str) -> np.ndarray:
    """x [n_tokens][K], w [N][K] -> [n_tokens][N]."""
    if numerics == "float":
        return x @ w.T
    if numerics == "q8k":
        out = np.zeros((x.shape[0], w.shape[0]))
        for start in range(0, x.shape[1], 256):
            q, s = quantize_activations(x[:, start:start + 256])
            out += (q @ w[:, start:start + 256].T) / s[:, None]
        return out
    q, s = quantize_activations(x)
    return (q @ w.T) / s[:, None]


def rope_neox(x: np.ndarray, n_rot: int, theta: float) -> np.ndarray:
    """x [n_tokens][n_heads][head_dim]; rotate pairs (i, i + n_rot/2), angle pos * theta^(-2i/n_rot)."""
    n_tokens = x.shape[0]
    half = n_rot // 2
    inv_freq = theta ** (-2.0 * np.arange(half, dtype=np.float64) / n_rot)
    angle = np.arange(n_tokens, dtype=np.float64)[:, None] * inv_freq[None, :]  # [t][i]
    cos, sin = np.cos(angle)[:, None, :], np.sin(angle)[:, None, :]
    a, b = x[..., :half], x[..., half:n_rot]
    out = x.copy()
    out[..., :half] = a * cos - b * sin
    out[..., half:n_rot] = b * cos + a * sin
    return out


def rope_interleaved(x: np.ndarray, n_rot: int, theta: float) -> np.ndarray:
    """x [n_tokens][n_heads][head_dim]; rotate adjacent pairs (2i, 2i + 1), angle pos * theta^(-2i/n_rot)."""
    n_tokens = x.shape[0]
    half = n_rot // 2
    inv_freq = theta ** (-2.0 * np.arange(half, dtype=np.float64) / n_rot)
    angle = np.arange(n_tokens, dtype=np.float64)[:, None] * inv_freq[None, :]
    cos, sin = np.cos(angle)[:, None, :], np.sin(angle)[:, None, :]
    a, b = x[..., 0:n_rot:2], x[..., 1:n_rot:2]
    out = x.copy()
    out[..., 0:n_rot:2] = a * cos - b * sin
    out[..., 1:n_rot:2] = b * cos + a * sin
    return out


def attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, n_head_kv: int) -> np.ndarray:
    """Causal GQA. q [t][n_head][hd], k/v [t][n_head_kv][hd] -> [t][n_head*hd].
    Query head h reads KV head h // (n_head / n_head_kv)."""
    n_tokens, n_head, hd = q.shape
    group = n_head // n_head_kv
    kh = np.repeat(k, group, axis=1)  # [t][n_head][hd], kv head g repeated for its query heads
    vh = np.repeat(v, group, axis=1)
    scores = np.einsum("thd,shd->hts", q, kh) / np.sqrt(hd)
    future = np.triu(np.ones((n_tokens, n_tokens), dtype=bool), k=1)
    scores[:, future] = -np.inf
    scores -= scores.max(axis=-1, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(axis=-1, keepdims=True)
    out = np.einsum("hts,shd->thd", p, vh)
    return out.reshape(n_tokens, n_head * hd)


def activation(z: np.ndarray, kind: str) -> np.ndarray:
    if kind == "relu2":
        return np.square(np.maximum(z, 0.0))
    return z / (1.0 + np.exp(-z))  # SiLU


# MARK: - forward


def _projection(model: Model, layer: int, name: str, x: np.ndarray, rows: int, k: int, numerics: str) -> np.ndarray:
    w = model.tensor(f"blk.{layer}.{name}.weight", (rows, k))
    y = bitlinear(x, w, numerics)
    scale_name = f"blk.{layer}.{name}.scale"
    if model.has(scale_name):
        y = y * model.tensor(scale_name, (1,))[0]
    return y


def forward_model(model: Model, tokens: list[int] | np.ndarray, numerics: str) -> np.ndarray:
    """float64 logits [n_tokens][n_vocab]."""
    if numerics not in NUMERICS:
        raise ValueError(f"numerics must be one of {NUMERICS}, got {numerics!r}")
    hp = model.hp
    tok = np.asarray(tokens, dtype=np.int64).reshape(-1)
    if tok.size == 0:
        raise ValueError("no tokens")
    if tok.min() < 0 or tok.max() >= hp.n_vocab:
        raise ValueError(f"token ids must be in [0, {hp.n_vocab})")
    e, hd, n_kv, n_q = hp.n_embd, hp.head_dim, hp.n_head_kv * hp.head_dim, hp.n_head * hp.head_dim
    rope = rope_interleaved if hp.rope_style == "interleaved" else rope_neox
    n_tokens = tok.size
    embd = model.tensor("token_embd.weight", (hp.n_vocab, e))
    x = embd[tok]  # [t][n_embd]
    for layer in range(hp.n_layer):
        blk = f"blk.{layer}."
        n = rmsnorm(x, model.tensor(blk + "attn_norm.weight", (e,)), hp.eps)
        q = _projection(model, layer, "attn_q", n, n_q, e, numerics).reshape(n_tokens, hp.n_head, hd)
        k = _projection(model, layer, "attn_k", n, n_kv, e, numerics).reshape(n_tokens, hp.n_head_kv, hd)
        v = _projection(model, layer, "attn_v", n, n_kv, e, numerics)
        if hp.qk_norm:
            q = rmsnorm(q, model.tensor(blk + "attn_q_norm.weight", (hd,)), hp.eps)
            k = rmsnorm(k, model.tensor(blk + "attn_k_norm.weight", (hd,)), hp.eps)
        q = rope(q, hp.n_rot, hp.rope_theta)
        k = rope(k, hp.n_rot, hp.rope_theta)
        o = attention(q, k, v.reshape(n_tokens, hp.n_head_kv, hd), hp.n_head_kv)
        if hp.sub_norms:
            o = rmsnorm(o, model.tensor(blk + "attn_sub_norm.weight", (n_q,)), hp.eps)
        x = x + _projection(model, layer, "attn_output", o, e, n_q, numerics)

        m = rmsnorm(x, model.tensor(blk + "ffn_norm.weight", (e,)), hp.eps)
        gate = _projection(model, layer, "ffn_gate", m, hp.n_ff, e, numerics)
        up = _projection(model, layer, "ffn_up", m, hp.n_ff, e, numerics)
        f = activation(gate, hp.activation) * up
        if hp.sub_norms:
            f = rmsnorm(f, model.tensor(blk + "ffn_sub_norm.weight", (hp.n_ff,)), hp.eps)
        x = x + _projection(model, layer, "ffn_down", f, e, hp.n_ff, numerics)
    x = rmsnorm(x, model.tensor("output_norm.weight", (e,)), hp.eps)
    head = model.tensor("output.weight", (hp.n_vocab, e)) if model.has("output.weight") else embd
    return x @ head.T


def forward(model_path: str | Path, tokens: list[int] | np.ndarray, numerics: str = "paper") -> np.ndarray:
    """Logits [n_tokens][n_vocab] as float64 (the CLI stores them rounded to float32)."""
    return forward_model(Model(model_path), tokens, numerics)


def read_tokens(text: str) -> list[int]:
    try:
        return [int(t) for t in text.split()]
    except ValueError as err:
        raise ValueError(f"token list must be whitespace-separated integers: {err}") from None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="float64 reference forward pass; writes float32 logits")
    p.add_argument("model")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--tokens-file", help="file of whitespace-separated token ids")
    src.add_argument("--tokens", help='token ids, e.g. "510 79 110"')
    p.add_argument("--numerics", choices=NUMERICS, default="paper")
    p.add_argument("-o", "--output", required=True, help="raw float32 [n_tokens][n_vocab]")
    args = p.parse_args(argv)
    try:
        text = Path(args.tokens_file).read_text() if args.tokens_file else args.tokens
        logits = forward(args.model, read_tokens(text), args.numerics)
    except (ValueError, OSError) as err:
        print(f"reference.py: {err}", file=sys.stderr)
        return 2
    logits.astype("<f4").tofile(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
