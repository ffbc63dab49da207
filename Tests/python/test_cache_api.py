"""Prefix cache, q8 KV and saved state through the C API, on generated models."""
from __future__ import annotations

import ctypes

import numpy as np
import pytest

import capi

VOCAB = 512


def tokens(n, seed):
    return [int(t) for t in np.random.default_rng(seed).integers(1, VOCAB, size=n)]


@pytest.fixture(scope="module")
def model_path(make_model, tmp_path_factory):
    return make_model(tmp_path_factory.mktemp("cache") / "m.gguf", n_layer=3, seed=11)


def test_warm_prefix_gives_the_cold_logits(lib, model_path):
    prompt = tokens(150, 1)
    with capi.Engine(lib, model_path, kv=capi.KV_F16, logits_all=False) as cold, \
         capi.Engine(lib, model_path, kv=capi.KV_F16, logits_all=False) as warm:
        expected = cold.eval(prompt, VOCAB)
        arr = (ctypes.c_int32 * 100)(*prompt[:100])
        assert lib.bitnet_cache_warm_tokens(warm.ctx, arr, 100) == 0
        assert lib.bitnet_context_reset(warm.ctx) == 0
        got = warm.eval(prompt, VOCAB)
        assert np.array_equal(got, expected)
        stats = warm.stats()
        assert (stats.prefix_hits, stats.prefix_tokens_reused, stats.prefix_entries) == (1, 100, 1)


def test_lru_and_fifo_through_the_params(lib, model_path):
    with capi.Engine(lib, model_path, logits_all=False) as probe:
        per_token = probe.stats().kv_bytes_per_token
    budget = 2 * 20 * (per_token + 4) + 64
    for policy, survivor in ((capi.EVICT_LRU, 0), (capi.EVICT_FIFO, 1)):
        with capi.Engine(lib, model_path, logits_all=False, prefix_cache_bytes=budget,
                         prefix_eviction=policy) as e:
            prefixes = [tokens(20, 10 + i) for i in range(3)]
            for p in prefixes[:2]:
                assert lib.bitnet_cache_warm_tokens(e.ctx, (ctypes.c_int32 * 20)(*p), 20) == 0
            lib.bitnet_context_reset(e.ctx)
            e.eval(prefixes[0] + [5], VOCAB)  # uses the first prefix
            assert lib.bitnet_cache_warm_tokens(e.ctx, (ctypes.c_int32 * 20)(*prefixes[2]), 20) == 0
            assert e.stats().prefix_evictions == 1
            before = e.stats().prefix_tokens_reused
            lib.bitnet_context_reset(e.ctx)
            e.eval(prefixes[survivor] + [6], VOCAB)
            assert e.stats().prefix_tokens_reused == before + 20


def test_q8_is_smaller_and_close_to_f16(lib, model_path):
    seq = tokens(400, 3)
    with capi.Engine(lib, model_path, kv=capi.KV_F16, n_ctx=512) as f16, \
         capi.Engine(lib, model_path, kv=capi.KV_Q8, n_ctx=512) as q8:
        a, b = f16.eval(seq, VOCAB), q8.eval(seq, VOCAB)
        assert q8.stats().kv_bytes_per_token < f16.stats().kv_bytes_per_token
        assert np.array_equal(a[:256], b[:256])
        diff = np.abs(a - b).max()
        agree = (a.argmax(1) == b.argmax(1)).mean()
        print(f"q8 vs f16: max abs diff {diff:.4f}, argmax agreement {agree:.3f}")
        assert 0 < diff < 1.0 and agree > 0.95


def test_state_round_trip_and_rejection(lib, model_path, make_model, tmp_path):
    other = make_model(tmp_path / "other.gguf", n_layer=3, seed=12)
    seq = tokens(60, 4)
    with capi.Engine(lib, model_path, logits_all=False) as a, \
         capi.Engine(lib, model_path, logits_all=False) as b, \
         capi.Engine(lib, other, logits_all=False) as c:
        a.eval(seq, VOCAB)
        size = ctypes.c_size_t()
        assert lib.bitnet_state_size(a.ctx, ctypes.byref(size)) == 0
        buf = ctypes.create_string_buffer(size.value)
        assert lib.bitnet_state_save_buffer(a.ctx, buf, size.value, None) == 0
        path = str(tmp_path / "s.state").encode()
        assert lib.bitnet_state_save(a.ctx, path) == 0
        assert lib.bitnet_state_load(c.ctx, path) == -9  # BITNET_E_STATE_MISMATCH
        damaged = ctypes.create_string_buffer(buf.raw)
        damaged[size.value // 3] = bytes([damaged.raw[size.value // 3] ^ 4])
        assert lib.bitnet_state_load_buffer(b.ctx, damaged, size.value) == -3  # BITNET_E_FORMAT
        assert lib.bitnet_context_n_past(b.ctx) == 0
        assert lib.bitnet_state_load(b.ctx, path) == 0
        assert np.array_equal(a.eval([7], VOCAB), b.eval([7], VOCAB))
