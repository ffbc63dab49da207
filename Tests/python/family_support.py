"""Shared steps of the family tests: random prompts, and the engine (C API) against the
float64 NumPy reference with the tolerances test_engine_reference.py uses for 2-layer
random models (both sides quantize activations to int8 the same way, so only f32
rounding differs; a rounding tie that flips one int8 value moves a logit by up to ~0.3)."""
from __future__ import annotations

import numpy as np

import compare
import reference
from capi import KV_F32, Engine


def tokens_for(seed: int, n_vocab: int, n: int = 32) -> list[int]:
    return [int(t) for t in np.random.default_rng(seed).integers(0, n_vocab, n)]


def check_against_reference(lib, path, tokens: list[int], n_vocab: int, numerics: str = "paper",
                            slack: float = 0.0, **engine_args) -> dict:
    """Runs the engine and the reference on `tokens`; asserts max |d| <= 0.5 + slack,
    mean |d| <= 0.07 + slack / 4, cosine >= 0.999, argmax agreement on all but one position."""
    expected = reference.forward(str(path), tokens, numerics).astype(np.float32)
    with Engine(lib, path, kv=KV_F32, **engine_args) as engine:
        ours = engine.eval(tokens, n_vocab).astype(np.float32)
    m = compare.compare(ours, expected, n_vocab, 0.25)
    print(path.name, numerics, m)
    assert m["max_abs"] <= 0.5 + slack and m["mean_abs"] <= 0.07 + slack / 4, m
    assert m["min_cos"] >= 0.999, m
    assert m["argmax_agree"] >= len(tokens) - 1, m
    return m
