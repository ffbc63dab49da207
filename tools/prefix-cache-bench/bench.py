#!/usr/bin/env python3
"""Prompt time with and without the prefix cache, through the C API.

    python3 Tests/tools/make_model.py -o /tmp/bitnet-prefix-bench.gguf --n-embd 1024 --n-layer 8 \
        --n-head 8 --n-head-kv 4 --n-ff 2816 --n-vocab 512 --seed 3
    make build
    python3 tools/prefix-cache-bench/bench.py /tmp/bitnet-prefix-bench.gguf [--lib build/lib/libbitnet.so.0]

Cold: a fresh context evaluates system prompt (512 tokens) + user turn (32).
Warm: the system prompt was stored with bitnet_cache_warm_tokens; the context
is reset, then evaluates the same 544 tokens (512 are copied). Also reports
q8 vs f16 KV: bytes per token and the logits difference over 600 positions.
"""
import argparse
import ctypes
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tests" / "python"))
import capi  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--lib", default="build/lib/libbitnet.so.0")
    ap.add_argument("--system", type=int, default=512)
    ap.add_argument("--user", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--n-ctx", type=int, default=4096, help="context of the q8/f16 comparison")
    args = ap.parse_args()
    lib = capi.declare(ctypes.CDLL(args.lib))
    rng = np.random.default_rng(1)
    system = [int(t) for t in rng.integers(1, 512, size=args.system)]
    user = [int(t) for t in rng.integers(1, 512, size=args.user)]
    prompt = system + user
    arr = (ctypes.c_int32 * len(prompt))(*prompt)
    sys_arr = (ctypes.c_int32 * len(system))(*system)

    with capi.Engine(lib, args.model, kv=capi.KV_F16, logits_all=False, n_ctx=1024, n_batch=64) as e:
        e.eval([1], 512)  # fault the weights in
        cold, warm = [], []
        for _ in range(args.repeats):
            lib.bitnet_context_reset(e.ctx)
            t = time.perf_counter()
            assert lib.bitnet_context_eval(e.ctx, arr, len(prompt)) == 0
            cold.append(time.perf_counter() - t)
        cold_logits = np.ctypeslib.as_array(lib.bitnet_context_logits_ith(e.ctx, -1), shape=(512,)).copy()
        lib.bitnet_context_reset(e.ctx)
        t = time.perf_counter()
        assert lib.bitnet_cache_warm_tokens(e.ctx, sys_arr, len(system)) == 0
        warm_time = time.perf_counter() - t
        for _ in range(args.repeats):
            lib.bitnet_context_reset(e.ctx)
            t = time.perf_counter()
            assert lib.bitnet_context_eval(e.ctx, arr, len(prompt)) == 0
            warm.append(time.perf_counter() - t)
        warm_logits = np.ctypeslib.as_array(lib.bitnet_context_logits_ith(e.ctx, -1), shape=(512,)).copy()
        s = e.stats()
        print(f"cold prompt ({len(prompt)} tokens): median {statistics.median(cold) * 1000:.1f} ms "
              f"(min {min(cold) * 1000:.1f})")
        print(f"warming the {len(system)}-token system prompt: {warm_time * 1000:.1f} ms")
        print(f"warm prompt ({len(system)} reused + {len(user)}): median {statistics.median(warm) * 1000:.1f} ms "
              f"(min {min(warm) * 1000:.1f}); speedup {statistics.median(cold) / statistics.median(warm):.1f}x")
        print(f"logits identical: {np.array_equal(cold_logits, warm_logits)}; hits {s.prefix_hits}, "
              f"reused {s.prefix_tokens_reused}, prefix bytes {s.prefix_bytes}")

    seq = [int(t) for t in rng.integers(1, 512, size=600)]
    rows = {}
    for kv in (capi.KV_F16, capi.KV_Q8):
        with capi.Engine(lib, args.model, kv=kv, logits_all=True, n_ctx=args.n_ctx) as e:
            rows[kv] = e.eval(seq, 512)
            st = e.stats()
            print(f"kv_type {kv}: {st.kv_bytes_per_token} bytes/token, {st.kv_bytes} bytes for n_ctx {args.n_ctx}")
    # Decode speed deep in a context: attention reads 3000 positions per token.
    long = [int(t) for t in rng.integers(1, 512, size=3000)]
    for kv in (capi.KV_F16, capi.KV_F32, capi.KV_Q8):
        with capi.Engine(lib, args.model, kv=kv, logits_all=False, n_ctx=args.n_ctx) as e:
            e.eval(long, 512)
            one = (ctypes.c_int32 * 1)(5)
            t = time.perf_counter()
            for _ in range(20):
                assert lib.bitnet_context_eval(e.ctx, one, 1) == 0
            print(f"kv_type {kv}: decode at position 3000: {(time.perf_counter() - t) / 20 * 1000:.2f} ms/token")
    a, b = rows[capi.KV_F16], rows[capi.KV_Q8]
    print(f"q8 vs f16 logits over 600 positions: max abs diff {np.abs(a - b).max():.4f} "
          f"(positions < 256: {np.abs(a[:256] - b[:256]).max():.4f}), "
          f"argmax agreement {(a.argmax(1) == b.argmax(1)).mean() * 100:.1f}%")


if __name__ == "__main__":
    main()
