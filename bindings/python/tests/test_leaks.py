"""1,000 create/free cycles leave the resident set flat (measured from /proc/self/statm)."""

from __future__ import annotations

import gc
import os

import bitnet

CYCLES = 1000


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def cycle(model_path, generate: bool) -> None:
    with bitnet.Model(model_path) as model, bitnet.Context(model, n_ctx=64, n_threads=1) as ctx:
        if generate:
            ctx.generate("leak check", temperature=0, max_new_tokens=2)
            for _ in ctx.stream("leak", temperature=0, max_new_tokens=2):
                pass


def test_model_and_context_cycles_do_not_leak(model_path):
    for i in range(50):  # warm-up: allocator pools, lazily created library state
        cycle(model_path, generate=True)
    gc.collect()
    before = rss_bytes()
    for i in range(CYCLES):
        cycle(model_path, generate=i % 10 == 0)
    gc.collect()
    growth = rss_bytes() - before
    print(f"RSS growth over {CYCLES} cycles: {growth / 1024:.0f} KiB")
    # One leaked KV cache (64 tokens) per cycle would be 64 MiB; a leaked model handle far more.
    assert growth < 4 << 20, f"RSS grew by {growth} bytes over {CYCLES} cycles"


def test_finalizers_free_unclosed_objects(model_path):
    for i in range(50):
        ctx = bitnet.Context(bitnet.Model(model_path), n_ctx=64, n_threads=1)
        del ctx
    gc.collect()
    before = rss_bytes()
    for i in range(300):
        ctx = bitnet.Context(bitnet.Model(model_path), n_ctx=64, n_threads=1)
        del ctx  # no close(): weakref finalizers free context, then model
    gc.collect()
    assert rss_bytes() - before < 4 << 20
