"""The engine (through the C API) against the float64 NumPy reference with paper
numerics, on generated models of every architecture, weight type and
embedding type. Tolerances are the golden README's for 2-layer random models."""
from __future__ import annotations

import ctypes

import numpy as np
import pytest

import compare
import reference
from capi import KV_F16, KV_F32, Engine

N_VOCAB = 320
BASE = dict(n_embd=256, n_layer=2, n_head=4, n_head_kv=2, n_ff=512, n_vocab=N_VOCAB)

CASES = {
    "b158-i2_s": dict(arch="bitnet-b1.58", act="relu2", wtype="i2_s"),
    "b158-tq1_0": dict(arch="bitnet-b1.58", act="relu2", wtype="tq1_0"),
    "b158-tq2_0": dict(arch="bitnet-b1.58", act="relu2", wtype="tq2_0"),
    "b158-f16": dict(arch="bitnet-b1.58", act="relu2", wtype="f16"),
    "b158-f32": dict(arch="bitnet-b1.58", act="relu2", wtype="f32"),
    "b158-bf16": dict(arch="bitnet-b1.58", act="relu2", wtype="bf16"),
    "b25-i2_s": dict(arch="bitnet-25", act="relu2", wtype="i2_s"),
    "bitnet-silu-tq2_0": dict(arch="bitnet", act="silu", wtype="tq2_0"),
    "bitnet-relu2-tq1_0": dict(arch="bitnet", act="relu2", wtype="tq1_0"),
    "emb-f32": dict(arch="bitnet-b1.58", act="relu2", wtype="i2_s", embtype="f32"),
    "emb-bf16": dict(arch="bitnet-b1.58", act="relu2", wtype="i2_s", embtype="bf16"),
    "emb-q8_0": dict(arch="bitnet-b1.58", act="relu2", wtype="i2_s", embtype="q8_0"),
    "emb-q4_k": dict(arch="bitnet-b1.58", act="relu2", wtype="i2_s", embtype="q4_k"),
    "emb-q6_k": dict(arch="bitnet-b1.58", act="relu2", wtype="i2_s", embtype="q6_k"),
    "separate-output": dict(arch="bitnet-b1.58", act="relu2", wtype="i2_s", separate_output=True),
    "scale-tensors": dict(arch="bitnet", act="silu", wtype="tq2_0", scale_tensors=True),
    "mqa": dict(arch="bitnet-b1.58", act="relu2", wtype="i2_s", n_head_kv=1),
    "mha": dict(arch="bitnet-b1.58", act="relu2", wtype="i2_s", n_head_kv=4),
    "head-dim-128": dict(arch="bitnet-b1.58", act="relu2", wtype="i2_s", n_head=2, n_head_kv=1),
}


@pytest.fixture(scope="module")
def models(tmp_path_factory, make_model):
    folder = tmp_path_factory.mktemp("models")
    return {name: make_model(folder / f"{name}.gguf", seed=7 + i, **{**BASE, **extra})
            for i, (name, extra) in enumerate(CASES.items())}


def tokens_for(seed: int, n: int = 40) -> list[int]:
    return [int(t) for t in np.random.default_rng(seed).integers(0, N_VOCAB, n)]


@pytest.mark.parametrize("name", list(CASES))
def test_paper_reference(lib, models, name):
    path = models[name]
    tokens = tokens_for(len(name))
    expected = reference.forward(str(path), tokens, "paper")
    with Engine(lib, path, kv=KV_F32) as engine:
        ours = engine.eval(tokens, N_VOCAB)
    m = compare.compare(ours.astype(np.float32), expected.astype(np.float32), N_VOCAB, 0.25)
    print(name, m)
    assert m["max_abs"] <= 0.5 and m["mean_abs"] <= 0.07, m
    assert m["min_cos"] >= 0.999, m
    assert m["argmax_agree"] >= len(tokens) - 1, m


@pytest.mark.parametrize("name", ["b158-i2_s", "bitnet-silu-tq2_0"])
def test_f16_cache_within_golden_tolerance(lib, models, name):
    path = models[name]
    tokens = tokens_for(3)
    expected = reference.forward(str(path), tokens, "paper")
    with Engine(lib, path, kv=KV_F16) as engine:
        ours = engine.eval(tokens, N_VOCAB)
    m = compare.compare(ours.astype(np.float32), expected.astype(np.float32), N_VOCAB, 0.25)
    assert m["max_abs"] <= 0.5 and m["mean_abs"] <= 0.07 and m["min_cos"] >= 0.999, m


@pytest.mark.parametrize("name", ["b158-tq1_0", "mqa"])
def test_token_by_token_equals_all_at_once(lib, models, name):
    path = models[name]
    tokens = tokens_for(11, 24)
    with Engine(lib, path) as engine:
        batch = engine.eval(tokens, N_VOCAB)
    with Engine(lib, path, logits_all=False) as engine:
        single = np.array([engine.eval([t], N_VOCAB)[0] for t in tokens])
    assert np.max(np.abs(batch - single)) <= 1e-4
