"""Arch `llama` with ternary weights (issue 17, part 2) and arch `qwen3` (part 3):
the engine (C API) against the float64 NumPy reference.

llama: paper numerics (per-token absmax int8 activations on every decoder linear,
the weights' own ternary scale), SiLU gate, no sub-norms, RoPE on adjacent pairs.
qwen3: QK-norm, SwiGLU, rotate-half RoPE, head_dim from attention.key_length.
Same tolerances as test_engine_reference.py (both sides quantize activations
per token to int8; only f32 rounding differs)."""
from __future__ import annotations

import numpy as np
import pytest

import compare
import reference
from capi import KV_F32, Engine
from family_support import check_against_reference, tokens_for

N_VOCAB = 320
BASE = dict(n_layer=2, n_vocab=N_VOCAB, act="silu", rope_theta=10000.0)

CASES = {
    "llama-f16-tied": dict(arch="llama", wtype="f16", n_embd=256, n_head=4, n_head_kv=2, n_ff=512),
    "llama-bf16-separate": dict(arch="llama", wtype="bf16", n_embd=256, n_head=4, n_head_kv=1, n_ff=640,
                                separate_output=True),
    "llama-i2_s-scales": dict(arch="llama", wtype="i2_s", n_embd=256, n_head=2, n_head_kv=1, n_ff=768,
                              scale_tensors=True),
    "llama-tq2_0-f16-mixed": dict(arch="llama", wtype="tq2_0", fallback_wtype="f16", n_embd=256, n_head=4,
                                  n_head_kv=2, n_ff=864),
    "llama-f32-k320": dict(arch="llama", wtype="f32", n_embd=320, n_head=5, n_head_kv=5, n_ff=864),
    "qwen3-tq2_0": dict(arch="qwen3", wtype="tq2_0", n_embd=256, n_head=4, n_head_kv=2, n_ff=512,
                        rope_theta=1000000.0),
    "qwen3-tq1_0-keylength": dict(arch="qwen3", wtype="tq1_0", fallback_wtype="f16", n_embd=256, n_head=4,
                                  n_head_kv=2, n_ff=768, key_length=128, rope_theta=1000000.0),
    # Mainline ggml's Q2_0 (type 42, 64 per block): K = 320 and 832 are not multiples of 256.
    "llama-q2_0-k320": dict(arch="llama", wtype="q2_0", n_embd=320, n_head=5, n_head_kv=5, n_ff=832),
    "qwen3-q2_0": dict(arch="qwen3", wtype="q2_0", n_embd=256, n_head=4, n_head_kv=2, n_ff=512,
                       rope_theta=1000000.0),
}


@pytest.fixture(scope="module")
def models(tmp_path_factory, make_model):
    folder = tmp_path_factory.mktemp("llama-models")
    return {name: make_model(folder / f"{name}.gguf", seed=60 + i, **{**BASE, **extra})
            for i, (name, extra) in enumerate(CASES.items())}


@pytest.mark.parametrize("name", list(CASES))
def test_family_matches_reference(lib, models, name):
    # Each family's own numerics: per-token int8 (paper) for llama, per-256 int8 for qwen3.
    numerics = "q8k" if name.startswith("qwen3") else "paper"
    check_against_reference(lib, models[name], tokens_for(len(name), N_VOCAB), N_VOCAB, numerics)


def test_llama_rope_convention_matters(models):
    """The reference's llama RoPE (adjacent pairs) differs from rotate-half on the same
    file, so the test above could not pass with the wrong convention."""
    path = models["llama-f16-tied"]
    model = reference.Model(path)
    tokens = tokens_for(3, N_VOCAB, 16)
    interleaved = reference.forward_model(model, tokens, "paper")
    object.__setattr__(model.hp, "rope_style", "neox")
    rotate_half = reference.forward_model(model, tokens, "paper")
    assert np.max(np.abs(interleaved - rotate_half)) > 0.5


@pytest.mark.parametrize("name", ["qwen3-tq2_0", "qwen3-tq1_0-keylength"])
def test_qwen3_uses_llama_cpp_activation_blocks(lib, models, name):
    """qwen3 quantizes activations per 256 values (llama.cpp's Q8_K for TQ types): the
    engine matches the reference with those numerics tightly, and the difference to a
    float-activation reference is measured (random 2-layer models; printed with -s)."""
    path = models[name]
    tokens = tokens_for(7, N_VOCAB)
    with Engine(lib, path, kv=KV_F32) as engine:
        ours = engine.eval(tokens, N_VOCAB).astype(np.float32)
    blocks = reference.forward(str(path), tokens, "q8k").astype(np.float32)
    per_token = reference.forward(str(path), tokens, "paper").astype(np.float32)
    floats = reference.forward(str(path), tokens, "float").astype(np.float32)
    m = compare.compare(ours, blocks, N_VOCAB, 0.25)
    # Same tolerance as the paper-numerics tests: int8 rounding ties may flip between f32 and f64.
    assert m["max_abs"] <= 0.5 and m["mean_abs"] <= 0.07 and m["min_cos"] >= 0.999, m
    # The engine computes the per-256 numerics, not the per-token ones.
    assert m["mean_abs"] < np.mean(np.abs(ours - per_token)), m
    vs_float = compare.compare(ours, floats, N_VOCAB, 0.25)
    print(name, "engine vs q8k reference", m, "engine vs float reference", vs_float)
    assert vs_float["min_cos"] >= 0.99, vs_float
