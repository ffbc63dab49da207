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
    ]


KV_F16, KV_F32 = 0, 1


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
    return lib


class Engine:
    """One model + one context, closed on exit."""

    def __init__(self, lib, path, *, kv=KV_F32, logits_all=True, n_ctx=256, n_batch=64, threads=2):
        self.lib = declare(lib)
        self.model = ctypes.c_void_p()
        self._check(lib.bitnet_model_load(str(path).encode(), None, ctypes.byref(self.model)))
        params = ContextParams()
        lib.bitnet_context_params_init(ctypes.byref(params))
        params.n_ctx, params.n_batch, params.n_threads = n_ctx, n_batch, threads
        params.kv_type, params.logits_all = kv, int(logits_all)
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

    def close(self):
        self.lib.bitnet_context_free(self.ctx)
        self.lib.bitnet_model_free(self.model)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
