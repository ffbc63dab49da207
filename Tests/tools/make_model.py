#!/usr/bin/env python3
"""Deterministic synthetic BitNet b1.58 GGUF test models (random weights, not trained).

    make_model.py -o m.gguf --arch bitnet-b1.58 --act relu2 --wtype i2_s --embtype f16 \
        --n-embd 256 --n-layer 2 --n-head 4 --n-head-kv 2 --n-ff 768 --n-vocab 512 --seed 1
    make_model.py -o big.gguf --preset 2b4t          # 2B4T shape, ~1.2 GB I2_S
    make_model.py -o l8.gguf --preset llama3-8b --separate-output   # Llama3-8B-1.58 shape
    make_model.py -o 3b.gguf --preset 3b --separate-output --fallback-wtype f16  # bitnet_b1_58-3B shape

Every tensor draws from its own NumPy generator seeded by (seed, crc32(tensor name)), so
the same seed gives the same weights whatever the storage types, arch name, or optional
extras (--separate-output, --scale-tensors): models that differ only in container hold
identical dequantized weights (embeddings too, except lossy q4_k/q6_k and bf16 storage).

Values:
  * linear weights W = T * beta: T ternary (p_zero zeros, +-1 equally likely otherwise),
    one beta per tensor ~ 1/sqrt(K) with an 8-bit mantissa, so f16, bf16, f32, the TQ
    block scales and the I2_S float32 scale all hold it exactly;
  * norm weights F32, normal(1, 0.1) clipped to [0.5, 1.5];
  * embeddings: per 32-element block, d = m * 2^e with a 4-bit mantissa m and int8
    q in [-127, 127] with max |q| = 127, value q*d; f16, f32 and q8_0 store them exactly;
  * optional `.scale` tensors (F32, one element near 1) multiply each projection's output.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gguf  # noqa: E402
from gguf import GGMLQuantizationType, GGUFWriter  # noqa: E402

import bpe_vocab  # noqa: E402
import kquants  # noqa: E402
import ternary_formats as tf  # noqa: E402

GENERATOR_VERSION = "1"

ARCHS = ("bitnet-b1.58", "bitnet-25", "bitnet", "llama", "qwen3")
# Architectures without BitNet's sub-norms; qwen3 adds per-head QK-norm.
NO_SUB_NORMS = ("llama", "qwen3")
FLOAT_WTYPES = ("f16", "f32", "bf16")
WTYPES = ("i2_s", "tq1_0", "tq2_0", "q2_0", "f16", "f32", "bf16")
EMBTYPES = ("f16", "f32", "bf16", "q8_0", "q4_0", "q4_k", "q5_k", "q6_k")

# general.file_type as llama.cpp / bitnet.cpp number them (I2_S = 40 in bitnet.cpp).
# Q2_0 (mainline ggml type 42) is written with file_type 1 (mostly F16) since its llama_ftype is not fixed here.
FILE_TYPE = {"f32": 0, "f16": 1, "bf16": 32, "tq1_0": 36, "tq2_0": 37, "i2_s": 40, "q2_0": 1}
TERNARY_TYPE_ID = {"i2_s": tf.GGML_TYPE_I2_S, "tq1_0": tf.GGML_TYPE_TQ1_0, "tq2_0": tf.GGML_TYPE_TQ2_0,
                   "q2_0": tf.GGML_TYPE_Q2_0}
K_MULTIPLE = {"i2_s": 128, "tq1_0": 256, "tq2_0": 256, "q2_0": 64, "f16": 1, "f32": 1, "bf16": 1,
              "q8_0": 32, "q4_0": 32, "q4_k": 256, "q5_k": 256, "q6_k": 256}


DEFAULTS = dict(arch="bitnet-b1.58", act="relu2", wtype="i2_s", embtype="f16", n_embd=256, n_layer=2,
                n_head=4, n_head_kv=2, n_ff=768, n_vocab=512, seed=1, rope_theta=500000.0, ctx=4096,
                eps=1e-5, p_zero=0.31)
PRESETS = {
    # Microsoft BitNet b1.58 2B4T: tied F16 embedding, I2_S linear weights.
    "2b4t": dict(arch="bitnet-b1.58", act="relu2", wtype="i2_s", embtype="f16", n_embd=2560, n_layer=30,
                 n_head=20, n_head_kv=5, n_ff=6912, n_vocab=128256),
    # Llama3-8B-1.58-100B-tokens as bitnet.cpp's converter writes it: arch llama, I2_S, untied head.
    "llama3-8b": dict(arch="llama", act="silu", wtype="i2_s", embtype="f16", n_embd=4096, n_layer=32,
                      n_head=32, n_head_kv=8, n_ff=14336, n_vocab=128256),
    # 1bitLLM bitnet_b1_58-3B: hidden 3200, FFN 8640 (no ternary block format divides 8640, so
    # ffn_down stays F16: use --fallback-wtype f16), untied head.
    "3b": dict(arch="bitnet", act="silu", wtype="i2_s", embtype="f16", n_embd=3200, n_layer=26,
               n_head=32, n_head_kv=32, n_ff=8640, n_vocab=32002),
}


@dataclass(frozen=True)
class Config:
    arch: str
    act: str
    wtype: str
    embtype: str
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    n_ff: int
    n_vocab: int
    seed: int
    rope_theta: float
    ctx: int
    eps: float
    p_zero: float
    separate_output: bool = False
    scale_tensors: bool = False
    # A float type for the matrices whose K the block type `wtype` cannot hold
    # (llama.cpp's converter: TQ2_0 where K % 256 == 0, F16 elsewhere).
    fallback_wtype: str | None = None
    # attention.key_length when n_head * head_dim != n_embd (Qwen3-4B); 0 = n_embd / n_head.
    key_length: int = 0

    @property
    def head_dim(self) -> int:
        return self.key_length or self.n_embd // self.n_head

    def linear_type(self, k: int) -> str:
        """The storage type of a linear weight with K input features."""
        if k % K_MULTIPLE[self.wtype] and self.fallback_wtype:
            return self.fallback_wtype
        return self.wtype

    def validate(self) -> None:
        if self.arch not in ARCHS or self.wtype not in WTYPES or self.embtype not in EMBTYPES:
            raise ValueError("unknown arch / wtype / embtype")
        if self.act not in ("relu2", "silu"):
            raise ValueError(f"unknown activation {self.act}")
        if self.arch in NO_SUB_NORMS and self.act != "silu":
            raise ValueError(f"arch {self.arch} uses a SiLU gate (--act silu)")
        if self.arch in ("bitnet-b1.58", "bitnet-25") and self.act != "relu2":
            raise ValueError(f"arch {self.arch} always uses relu2; SiLU needs --arch bitnet")
        if self.fallback_wtype is not None and self.fallback_wtype not in FLOAT_WTYPES:
            raise ValueError("--fallback-wtype must be a float type (f16, f32, bf16)")
        if self.key_length and (self.arch != "qwen3" or self.key_length % 2):
            raise ValueError("--key-length needs --arch qwen3 and an even value")
        for name in ("n_embd", "n_layer", "n_head", "n_head_kv", "n_ff", "ctx"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if (not self.key_length and self.n_embd % self.n_head) or self.head_dim % 2:
            raise ValueError("n_embd must be a multiple of n_head with an even head dimension")
        if self.n_head % self.n_head_kv:
            raise ValueError("n_head must be a multiple of n_head_kv")
        if not 0.0 <= self.p_zero < 1.0:
            raise ValueError("p_zero must be in [0, 1)")
        for k, what in ((self.n_embd, "n_embd"), (self.n_ff, "n_ff"), (self.n_head * self.head_dim, "n_head * head_dim")):
            if k % K_MULTIPLE[self.linear_type(k)]:
                raise ValueError(f"--wtype {self.wtype} needs {what} % {K_MULTIPLE[self.wtype]} == 0, got {k}")
        if self.n_embd % K_MULTIPLE[self.embtype]:
            raise ValueError(f"--embtype {self.embtype} needs n_embd % {K_MULTIPLE[self.embtype]} == 0")
        if self.n_vocab < 258:
            raise ValueError("n_vocab must be at least 258")

    def recipe(self) -> str:
        parts = ["make_model.py", "--arch", self.arch, "--act", self.act, "--wtype", self.wtype,
                 "--embtype", self.embtype]
        for flag in ("n_embd", "n_layer", "n_head", "n_head_kv", "n_ff", "n_vocab", "ctx",
                     "rope_theta", "eps", "seed", "p_zero"):
            parts += ["--" + flag.replace("_", "-"), str(getattr(self, flag))]
        if self.separate_output:
            parts.append("--separate-output")
        if self.scale_tensors:
            parts.append("--scale-tensors")
        if self.fallback_wtype:
            parts += ["--fallback-wtype", self.fallback_wtype]
        if self.key_length:
            parts += ["--key-length", str(self.key_length)]
        return shlex.join(parts)


# MARK: - random values


def tensor_rng(seed: int, name: str) -> np.random.Generator:
    """One independent stream per tensor, so adding or retyping tensors never shifts others."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(name.encode("utf-8"))]))


def round_to_mantissa(x: float, bits: int) -> float:
    """x rounded to `bits` significant bits: exactly representable in f16 (bits <= 11) and
    bf16 (bits <= 8) as long as it stays in their normal range."""
    m, e = np.frexp(x)
    return float(np.ldexp(np.round(m * (1 << bits)) / (1 << bits), e))


def ternary_weight(cfg: Config, name: str, rows: int, k: int) -> tuple[np.ndarray, float]:
    rng = tensor_rng(cfg.seed, name)
    beta = round_to_mantissa(rng.uniform(0.8, 1.5) / np.sqrt(k), 8)
    r = rng.integers(0, 1 << 16, size=(rows, k), dtype=np.uint16)
    threshold = np.uint16(round(cfg.p_zero * (1 << 16)))
    t = np.where(r & 1, np.int8(1), np.int8(-1))
    t[r < threshold] = 0
    return t, beta


def norm_weight(cfg: Config, name: str, n: int) -> np.ndarray:
    rng = tensor_rng(cfg.seed, name)
    return np.clip(rng.normal(1.0, 0.1, size=n), 0.5, 1.5).astype(np.float32)


def scale_value(cfg: Config, name: str) -> np.ndarray:
    rng = tensor_rng(cfg.seed, name)
    return np.array([round_to_mantissa(rng.uniform(0.75, 1.25), 8)], dtype=np.float32)


def embedding_values(cfg: Config, name: str, rows: int, k: int) -> np.ndarray:
    """float32 [rows][k]: per 32-block d * q with d a 4-bit-mantissa power-of-two multiple."""
    rng = tensor_rng(cfg.seed, name)
    n_blocks = rows * k // 32
    target_amax = rng.uniform(0.25, 0.5, size=n_blocks)
    exponent = np.floor(np.log2(target_amax / 127.0))
    mantissa = np.clip(np.round(target_amax / 127.0 / np.exp2(exponent - 3)), 8, 15)  # 4 bits
    d = (mantissa * np.exp2(exponent - 3)).astype(np.float32)
    q = rng.integers(-126, 127, size=(n_blocks, 32), dtype=np.int8)  # int8 keeps 2B4T's 328M values small
    peak = rng.integers(0, 32, size=n_blocks)
    q[np.arange(n_blocks), peak] = np.where(rng.integers(0, 2, size=n_blocks) == 1, 127, -127)
    return np.multiply(q, d[:, None], dtype=np.float32).reshape(rows, k)


# MARK: - writing


def add_packed(writer: GGUFWriter, name: str, data: np.ndarray, rows: int, k: int, type_id: int) -> None:
    """Add pre-packed tensor bytes with an explicit ggml type id.

    Passed as int8 with raw_shape, GGUFWriter takes the element shape verbatim instead
    of deriving it from its block-size table, which has no entry for I2_S (36); the
    type id is written as given.
    """
    writer.add_tensor(name, np.ascontiguousarray(data).view(np.int8), raw_shape=(rows, k), raw_dtype=type_id)


def add_float(writer: GGUFWriter, name: str, values: np.ndarray, kind: str) -> None:
    rows, k = values.shape
    if kind == "f32":
        writer.add_tensor(name, values.astype(np.float32))
    elif kind == "f16":
        writer.add_tensor(name, values.astype(np.float16))
    elif kind == "bf16":
        packed = gguf.quants.quantize(values.astype(np.float32), GGMLQuantizationType.BF16)
        add_packed(writer, name, packed, rows, k, GGMLQuantizationType.BF16)
    elif kind == "q8_0":
        packed = gguf.quants.quantize(values.astype(np.float32), GGMLQuantizationType.Q8_0)
        add_packed(writer, name, packed, rows, k, GGMLQuantizationType.Q8_0)
    elif kind == "q4_0":
        packed = gguf.quants.quantize(values.astype(np.float32), GGMLQuantizationType.Q4_0)
        add_packed(writer, name, packed, rows, k, GGMLQuantizationType.Q4_0)
    elif kind == "q5_k":
        add_packed(writer, name, kquants.quantize_q5_k(values), rows, k, GGMLQuantizationType.Q5_K)
    elif kind == "q4_k":
        add_packed(writer, name, kquants.quantize_q4_k(values), rows, k, GGMLQuantizationType.Q4_K)
    elif kind == "q6_k":
        add_packed(writer, name, kquants.quantize_q6_k(values), rows, k, GGMLQuantizationType.Q6_K)
    else:
        raise ValueError(f"unknown storage type {kind}")


def add_linear(writer: GGUFWriter, cfg: Config, name: str, rows: int, k: int) -> None:
    t, beta = ternary_weight(cfg, name, rows, k)
    wtype = cfg.linear_type(k)
    if wtype in TERNARY_TYPE_ID:
        type_id = TERNARY_TYPE_ID[wtype]
        add_packed(writer, name, tf.pack_ternary(type_id, t, beta), rows, k, type_id)
    else:
        add_float(writer, name, t.astype(np.float32) * np.float32(beta), wtype)


def add_metadata(writer: GGUFWriter, cfg: Config) -> None:
    a = cfg.arch
    quantized = cfg.wtype in TERNARY_TYPE_ID or cfg.embtype in ("q8_0", "q4_0", "q4_k", "q5_k", "q6_k")
    writer.add_name(f"make_model synthetic {a} {cfg.act} {cfg.wtype} seed {cfg.seed}")
    writer.add_description("SYNTHETIC random-weight BitNet b1.58 test model generated by make_model.py; not a trained model")
    writer.add_uint32("general.file_type", FILE_TYPE[cfg.wtype])
    if quantized:
        writer.add_uint32("general.quantization_version", 2)
    writer.add_string("mkmodel.version", GENERATOR_VERSION)
    writer.add_string("mkmodel.recipe", cfg.recipe())
    writer.add_uint32("mkmodel.seed", cfg.seed)
    writer.add_uint32(f"{a}.vocab_size", cfg.n_vocab)
    writer.add_uint32(f"{a}.context_length", cfg.ctx)
    writer.add_uint32(f"{a}.embedding_length", cfg.n_embd)
    writer.add_uint32(f"{a}.block_count", cfg.n_layer)
    writer.add_uint32(f"{a}.feed_forward_length", cfg.n_ff)
    writer.add_uint32(f"{a}.rope.dimension_count", cfg.head_dim)
    writer.add_uint32(f"{a}.attention.head_count", cfg.n_head)
    writer.add_uint32(f"{a}.attention.head_count_kv", cfg.n_head_kv)
    writer.add_float32(f"{a}.attention.layer_norm_rms_epsilon", cfg.eps)
    writer.add_float32(f"{a}.rope.freq_base", cfg.rope_theta)
    if cfg.key_length:
        writer.add_uint32(f"{a}.attention.key_length", cfg.key_length)
        writer.add_uint32(f"{a}.attention.value_length", cfg.key_length)
    if a == "bitnet" and cfg.act == "relu2":
        writer.add_string("bitnet.hidden_activation", "relu2")
    vocab = bpe_vocab.build_vocab(cfg.n_vocab)
    writer.add_string("tokenizer.ggml.model", "gpt2")
    writer.add_string("tokenizer.ggml.pre", "default")
    writer.add_array("tokenizer.ggml.tokens", vocab.tokens)
    writer.add_array("tokenizer.ggml.token_type", vocab.token_types)
    writer.add_array("tokenizer.ggml.merges", vocab.merges)
    writer.add_uint32("tokenizer.ggml.bos_token_id", vocab.bos_id)
    writer.add_uint32("tokenizer.ggml.eos_token_id", vocab.eos_id)
    writer.add_bool("tokenizer.ggml.add_bos_token", True)
    writer.add_bool("tokenizer.ggml.add_eos_token", False)


def write_model(cfg: Config, path: str | Path) -> None:
    cfg.validate()
    writer = GGUFWriter(str(path), cfg.arch)
    add_metadata(writer, cfg)
    e, ff, kv, nq = cfg.n_embd, cfg.n_ff, cfg.n_head_kv * cfg.head_dim, cfg.n_head * cfg.head_dim
    add_float(writer, "token_embd.weight", embedding_values(cfg, "token_embd.weight", cfg.n_vocab, e), cfg.embtype)
    # (name, rows = output features, K = input features)
    shapes = {"attn_q": (nq, e), "attn_k": (kv, e), "attn_v": (kv, e), "attn_output": (e, nq),
              "ffn_gate": (ff, e), "ffn_up": (ff, e), "ffn_down": (e, ff)}
    norms = {"attn_norm": e, "attn_sub_norm": nq, "ffn_norm": e, "ffn_sub_norm": ff,
             "attn_q_norm": cfg.head_dim, "attn_k_norm": cfg.head_dim}
    if cfg.arch == "qwen3":
        order = ("attn_norm", "attn_q", "attn_q_norm", "attn_k", "attn_k_norm", "attn_v", "attn_output",
                 "ffn_norm", "ffn_gate", "ffn_up", "ffn_down")
    elif cfg.arch in NO_SUB_NORMS:
        order = ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down")
    else:
        order = ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "attn_sub_norm",
                 "ffn_norm", "ffn_gate", "ffn_up", "ffn_down", "ffn_sub_norm")
    for layer in range(cfg.n_layer):
        for part in order:
            name = f"blk.{layer}.{part}.weight"
            if part in norms:
                writer.add_tensor(name, norm_weight(cfg, name, norms[part]))
                continue
            add_linear(writer, cfg, name, *shapes[part])
            if cfg.scale_tensors:
                scale_name = f"blk.{layer}.{part}.scale"
                writer.add_tensor(scale_name, scale_value(cfg, scale_name))
    writer.add_tensor("output_norm.weight", norm_weight(cfg, "output_norm.weight", e))
    if cfg.separate_output:
        add_float(writer, "output.weight", embedding_values(cfg, "output.weight", cfg.n_vocab, e), cfg.embtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


# MARK: - CLI


def parse_args(argv: list[str] | None = None) -> tuple[Config, str]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--preset", choices=sorted(PRESETS), help="start from a model shape; other flags override it")
    p.add_argument("--arch", choices=ARCHS)
    p.add_argument("--act", choices=("relu2", "silu"))
    p.add_argument("--wtype", choices=WTYPES)
    p.add_argument("--embtype", choices=EMBTYPES)
    for flag in ("n-embd", "n-layer", "n-head", "n-head-kv", "n-ff", "n-vocab", "seed"):
        p.add_argument("--" + flag, type=int)
    p.add_argument("--ctx", type=int, help="context_length key (default 4096)")
    p.add_argument("--rope-theta", type=float)
    p.add_argument("--eps", type=float, help="RMSNorm epsilon (default 1e-5)")
    p.add_argument("--p-zero", type=float, help="fraction of zero weights (default 0.31)")
    p.add_argument("--separate-output", action="store_true", help="untied LM head: add output.weight")
    p.add_argument("--scale-tensors", action="store_true", help="add per-projection .scale tensors")
    p.add_argument("--fallback-wtype", choices=FLOAT_WTYPES,
                   help="float type for matrices whose K the --wtype block cannot hold (mixed-type files)")
    p.add_argument("--key-length", type=int, default=0, help="qwen3: head_dim when n_head * head_dim != n_embd")
    args = p.parse_args(argv)
    values = dict(DEFAULTS)
    if args.preset:
        values.update(PRESETS[args.preset])
    for key in DEFAULTS:
        given = getattr(args, key)
        if given is not None:
            values[key] = given
    cfg = Config(**values, separate_output=args.separate_output, scale_tensors=args.scale_tensors,
                 fallback_wtype=args.fallback_wtype, key_length=args.key_length)
    return cfg, args.output


def main(argv: list[str] | None = None) -> int:
    try:
        cfg, out = parse_args(argv)
        write_model(cfg, out)
    except ValueError as err:
        print(f"make_model.py: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
