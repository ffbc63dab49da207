"""Any width (issue 17, part 1): models whose widths are not a multiple of the
kernels' 128-column block, and files that mix ternary block types with float
fallbacks per tensor (llama.cpp's converter writes TQ2_0 only where K % 256 == 0).

The engine (C API) against the float64 NumPy reference with paper numerics.
Tolerances are the ones test_engine_reference.py uses for 2-layer random
models: the engine's activations are int8 like the reference's, so the only
differences are f32 rounding in norms, attention and the logits (max |Δ| 0.5,
mean 0.07, cos 0.999)."""
from __future__ import annotations

import numpy as np
import pytest

from capi import Engine
from family_support import check_against_reference, tokens_for

N_VOCAB = 320

CASES = {
    # "3B-shaped" tiny: n_embd 320 (3200 / 10), FFN 864 (8640 / 10): no ternary block
    # format holds either width, so the weights are float ternary values.
    "3b-shape-f16": dict(arch="bitnet", act="silu", wtype="f16", n_embd=320, n_head=5, n_head_kv=5, n_ff=864),
    "3b-shape-f32-relu2": dict(arch="bitnet", act="relu2", wtype="f32", n_embd=320, n_head=5, n_head_kv=1, n_ff=864),
    "3b-shape-bf16": dict(arch="bitnet", act="silu", wtype="bf16", n_embd=320, n_head=5, n_head_kv=5, n_ff=864),
    # K = 96 (smaller than one block) and 1000 (not a multiple of 32: the LM head keeps F16).
    "k96": dict(arch="bitnet", act="silu", wtype="f16", n_embd=96, n_head=2, n_head_kv=1, n_ff=1000),
    "k1000": dict(arch="bitnet", act="silu", wtype="f16", n_embd=1000, n_head=10, n_head_kv=5, n_ff=320),
    # Mixed types in one file: TQ2_0 where K % 256 == 0 (q/k/v/o/gate/up, K = 512), F16 for
    # ffn_down (K = 864).
    "mixed-tq2_0-f16": dict(arch="bitnet", act="silu", wtype="tq2_0", fallback_wtype="f16",
                            n_embd=512, n_head=8, n_head_kv=4, n_ff=864),
    "mixed-tq1_0-f32": dict(arch="bitnet", act="silu", wtype="tq1_0", fallback_wtype="f32",
                            n_embd=256, n_head=4, n_head_kv=2, n_ff=864),
    # bitnet.cpp's converter for 3B: I2_S where K % 128 == 0 (n_embd 384), F16 for ffn_down.
    "mixed-i2_s-f16": dict(arch="bitnet-b1.58", act="relu2", wtype="i2_s", fallback_wtype="f16",
                           n_embd=384, n_head=6, n_head_kv=2, n_ff=864),
}


@pytest.fixture(scope="module")
def models(tmp_path_factory, make_model):
    folder = tmp_path_factory.mktemp("width-models")
    return {name: make_model(folder / f"{name}.gguf", seed=40 + i, n_layer=2, n_vocab=N_VOCAB, **extra)
            for i, (name, extra) in enumerate(CASES.items())}


@pytest.mark.parametrize("name", list(CASES))
def test_any_width_matches_reference(lib, models, name):
    check_against_reference(lib, models[name], tokens_for(len(name), N_VOCAB), N_VOCAB)


def test_mixed_file_really_mixes_types(models):
    """The mixed fixture is what it claims: two linear types in one file."""
    from gguf_io import RawGGUFReader

    reader = RawGGUFReader(str(models["mixed-tq2_0-f16"]))
    types = {name: t.ggml_type for name, t in reader.raw_tensors.items() if name.startswith("blk.0.") and "norm" not in name}
    assert types["blk.0.attn_q.weight"] == 35 and types["blk.0.ffn_gate.weight"] == 35
    assert types["blk.0.ffn_down.weight"] == 1


def test_batch_equals_token_by_token_on_padded_widths(lib, models):
    path = models["3b-shape-f16"]
    tokens = tokens_for(5, N_VOCAB, 12)
    with Engine(lib, path) as engine:
        batch = engine.eval(tokens, N_VOCAB)
    with Engine(lib, path, logits_all=False) as engine:
        single = np.array([engine.eval([t], N_VOCAB)[0] for t in tokens])
    assert np.max(np.abs(batch - single)) <= 1e-4
