"""Minimal ctypes declarations of the C API used by the tests (the Python
binding package in bindings/python is the user-facing layer)."""
from __future__ import annotations

import ctypes

import numpy as np


class ContextParams(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("n_ctx", ctypes.c_uint32),
        ("n_batch", ctypes.c_uint32),
        ("n_threads", ctypes.c_int32),
        ("kv_type", ctypes.c_int32),
        ("logits_all", ctypes.c_int32),
        ("prefix_cache_bytes", ctypes.c_uint64),
        ("prefix_eviction", ctypes.c_int32),
        ("prefix_cache_auto", ctypes.c_int32),
        ("overflow_policy", ctypes.c_int32),
        ("n_keep", ctypes.c_int32),
    ]


class ContextStats(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("n_ctx", ctypes.c_uint32),
        ("n_past", ctypes.c_uint32),
        ("kv_type", ctypes.c_int32),
        ("kv_bytes_per_token", ctypes.c_uint64),
        ("kv_bytes", ctypes.c_uint64),
        ("prefix_hits", ctypes.c_uint64),
        ("prefix_misses", ctypes.c_uint64),
        ("prefix_tokens_reused", ctypes.c_uint64),
        ("prefix_evictions", ctypes.c_uint64),
        ("prefix_bytes", ctypes.c_uint64),
        ("prefix_entries", ctypes.c_uint64),
    ]


KV_F16, KV_F32, KV_Q8 = 0, 1, 2
EVICT_LRU, EVICT_FIFO = 0, 1
OVERFLOW_STOP, OVERFLOW_SHIFT = 0, 1


def declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    vp = ctypes.c_void_p
    lib.bitnet_model_load.argtypes = [ctypes.c_char_p, vp, ctypes.POINTER(vp)]
    lib.bitnet_model_load.restype = ctypes.c_int32
    lib.bitnet_model_free.argtypes = [vp]
    lib.bitnet_model_free.restype = None
    lib.bitnet_context_params_init.argtypes = [ctypes.POINTER(ContextParams)]
    lib.bitnet_context_params_init.restype = None
    lib.bitnet_context_new.argtypes = [vp, ctypes.POINTER(ContextParams), ctypes.POINTER(vp)]
    lib.bitnet_context_new.restype = ctypes.c_int32
    lib.bitnet_context_free.argtypes = [vp]
    lib.bitnet_context_free.restype = None
    lib.bitnet_context_eval.argtypes = [vp, ctypes.POINTER(ctypes.c_int32), ctypes.c_size_t]
    lib.bitnet_context_eval.restype = ctypes.c_int32
    lib.bitnet_context_logits_ith.argtypes = [vp, ctypes.c_int32]
    lib.bitnet_context_logits_ith.restype = ctypes.POINTER(ctypes.c_float)
    lib.bitnet_last_error.restype = ctypes.c_char_p
    i32, sz = ctypes.c_int32, ctypes.c_size_t
    for name, args in {
        "bitnet_context_reset": [vp],
        "bitnet_context_n_past": [vp],
        "bitnet_cache_warm": [vp, ctypes.c_char_p],
        "bitnet_cache_warm_tokens": [vp, ctypes.POINTER(i32), sz],
        "bitnet_context_stats_get": [vp, ctypes.POINTER(ContextStats)],
        "bitnet_state_size": [vp, ctypes.POINTER(sz)],
        "bitnet_state_save_buffer": [vp, vp, sz, ctypes.POINTER(sz)],
        "bitnet_state_load_buffer": [vp, vp, sz],
        "bitnet_state_save": [vp, ctypes.c_char_p],
        "bitnet_state_load": [vp, ctypes.c_char_p],
    }.items():
        getattr(lib, name).argtypes = args
        getattr(lib, name).restype = i32
    return lib


class Engine:
    """One model + one context, closed on exit."""

    def __init__(self, lib, path, *, kv=KV_F32, logits_all=True, n_ctx=256, n_batch=64, threads=2, **extra):
        self.lib = declare(lib)
        self.model = ctypes.c_void_p()
        self._check(lib.bitnet_model_load(str(path).encode(), None, ctypes.byref(self.model)))
        params = ContextParams()
        lib.bitnet_context_params_init(ctypes.byref(params))
        params.n_ctx, params.n_batch, params.n_threads = n_ctx, n_batch, threads
        params.kv_type, params.logits_all = kv, int(logits_all)
        for key, value in extra.items():  # any other bitnet_context_params field
            setattr(params, key, value)
        self.ctx = ctypes.c_void_p()
        self._check(lib.bitnet_context_new(self.model, ctypes.byref(params), ctypes.byref(self.ctx)))

    def _check(self, status):
        if status != 0:
            raise RuntimeError(f"status {status}: {self.lib.bitnet_last_error().decode()}")

    def eval(self, tokens, n_vocab) -> np.ndarray:
        """Evaluates tokens, returns the logits rows the context kept."""
        arr = (ctypes.c_int32 * len(tokens))(*tokens)
        self._check(self.lib.bitnet_context_eval(self.ctx, arr, len(tokens)))
        rows = []
        i = 0
        while True:
            ptr = self.lib.bitnet_context_logits_ith(self.ctx, i)
            if not ptr:
                break
            rows.append(np.ctypeslib.as_array(ptr, shape=(n_vocab,)).copy())
            i += 1
        return np.array(rows)

    def stats(self) -> ContextStats:
        stats = ContextStats()
        stats.size = ctypes.sizeof(ContextStats)
        self._check(self.lib.bitnet_context_stats_get(self.ctx, ctypes.byref(stats)))
        return stats

    def close(self):
        self.lib.bitnet_context_free(self.ctx)
        self.lib.bitnet_model_free(self.model)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
