"""Minimal ctypes declarations of the C API used by the tests (the Python
binding package in bindings/python is the user-facing layer)."""
from __future__ import annotations

import ctypes

import numpy as np


class ModelParams(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("use_mmap", ctypes.c_int32),
        ("use_mlock", ctypes.c_int32),
        ("vocab_only", ctypes.c_int32),
        ("progress_callback", ctypes.c_void_p),
        ("progress_user_data", ctypes.c_void_p),
        ("lm_head_type", ctypes.c_int32),
        ("use_huge_pages", ctypes.c_int32),
        ("validate_only", ctypes.c_int32),
    ]


LM_HEAD_AS_STORED, LM_HEAD_Q8_0, LM_HEAD_AUTO = 0, 1, 2


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
        ("batch", ctypes.c_void_p),
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
    lib.bitnet_model_load.argtypes = [ctypes.c_char_p, ctypes.POINTER(ModelParams), ctypes.POINTER(vp)]
    lib.bitnet_model_params_init.argtypes = [ctypes.POINTER(ModelParams)]
    lib.bitnet_model_params_init.restype = None
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

    def __init__(self, lib, path, *, kv=KV_F32, logits_all=True, n_ctx=256, n_batch=64, threads=2,
                 lm_head=LM_HEAD_AS_STORED, **extra):
        self.lib = declare(lib)
        self.model = ctypes.c_void_p()
        model_params = ModelParams()
        lib.bitnet_model_params_init(ctypes.byref(model_params))
        model_params.lm_head_type = lm_head
        self._check(lib.bitnet_model_load(str(path).encode(), ctypes.byref(model_params), ctypes.byref(self.model)))
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


# MARK: - Generation


class LogitBias(ctypes.Structure):
    _fields_ = [("token", ctypes.c_int32), ("bias", ctypes.c_float)]


PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_void_p)


class GenerationParams(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("temperature", ctypes.c_float),
        ("top_k", ctypes.c_int32),
        ("top_p", ctypes.c_float),
        ("min_p", ctypes.c_float),
        ("typical_p", ctypes.c_float),
        ("repetition_penalty", ctypes.c_float),
        ("repeat_last_n", ctypes.c_int32),
        ("presence_penalty", ctypes.c_float),
        ("frequency_penalty", ctypes.c_float),
        ("seed", ctypes.c_uint64),
        ("max_new_tokens", ctypes.c_int32),
        ("stop_sequences", ctypes.POINTER(ctypes.c_char_p)),
        ("n_stop_sequences", ctypes.c_size_t),
        ("stop_tokens", ctypes.POINTER(ctypes.c_int32)),
        ("n_stop_tokens", ctypes.c_size_t),
        ("logit_bias", ctypes.POINTER(LogitBias)),
        ("n_logit_bias", ctypes.c_size_t),
        ("ignore_eos", ctypes.c_int32),
        ("add_bos", ctypes.c_int32),
        ("parse_special", ctypes.c_int32),
        ("progress", PROGRESS_FN),
        ("progress_user_data", ctypes.c_void_p),
        ("grammar", ctypes.c_char_p),
        ("json_schema", ctypes.c_char_p),
        ("tools_json", ctypes.c_char_p),
        ("tool_choice", ctypes.c_char_p),
        ("tool_template", ctypes.c_char_p),
    ]


class TokenInfo(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("tokens", ctypes.POINTER(ctypes.c_int32)),
        ("logprobs", ctypes.POINTER(ctypes.c_float)),
        ("n_tokens", ctypes.c_size_t),
        ("n_generated", ctypes.c_int32),
        ("n_past", ctypes.c_int32),
    ]


class GenerationResult(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("stop_reason", ctypes.c_int32),
        ("stop_index", ctypes.c_int32),
        ("stop_token", ctypes.c_int32),
        ("n_prompt_tokens", ctypes.c_int32),
        ("n_prompt_tokens_reused", ctypes.c_int32),
        ("n_generated", ctypes.c_int32),
        ("max_tokens_ahead", ctypes.c_int32),
        ("time_to_first_token_ms", ctypes.c_double),
        ("prompt_tokens_per_second", ctypes.c_double),
        ("generation_tokens_per_second", ctypes.c_double),
    ]

    def __init__(self):
        super().__init__()
        self.size = ctypes.sizeof(GenerationResult)


STREAM_FN = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t,
                             ctypes.POINTER(TokenInfo), ctypes.c_void_p)

CONTINUE, PAUSE, CANCEL = 0, 1, 2
STOP_NONE, STOP_MAX_TOKENS, STOP_EOS, STOP_SEQUENCE, STOP_CANCELLED, STOP_CONTEXT_FULL = range(6)
PRESET_FAST, PRESET_BALANCED, PRESET_QUALITY = range(3)
OK, PAUSED, DONE = 0, 1, 2
E_INVALID_ARGUMENT, E_CONTEXT_FULL, E_BUSY, E_CANCELLED, E_TIMEOUT, E_BUFFER_TOO_SMALL = -1, -6, -7, -8, -10, -11


def declare_generation(lib: ctypes.CDLL) -> ctypes.CDLL:
    declare(lib)
    vp = ctypes.c_void_p
    lib.bitnet_generation_params_init.argtypes = [ctypes.POINTER(GenerationParams)]
    lib.bitnet_generation_params_init.restype = None
    lib.bitnet_generation_params_preset.argtypes = [ctypes.POINTER(GenerationParams), ctypes.c_int32]
    lib.bitnet_generation_params_preset.restype = ctypes.c_int32
    lib.bitnet_generate.argtypes = [vp, ctypes.c_char_p, ctypes.POINTER(GenerationParams), STREAM_FN, vp,
                                    ctypes.POINTER(GenerationResult)]
    lib.bitnet_generate.restype = ctypes.c_int32
    lib.bitnet_generate_resume.argtypes = [vp, STREAM_FN, vp, ctypes.POINTER(GenerationResult)]
    lib.bitnet_generate_resume.restype = ctypes.c_int32
    lib.bitnet_context_interrupt.argtypes = [vp]
    lib.bitnet_context_interrupt.restype = ctypes.c_int32
    lib.bitnet_tokenize.argtypes = [vp, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                                    ctypes.POINTER(ctypes.c_int32), ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
    lib.bitnet_tokenize.restype = ctypes.c_int32
    lib.bitnet_stream_start.argtypes = [vp, ctypes.c_char_p, ctypes.POINTER(GenerationParams), ctypes.c_size_t,
                                        ctypes.POINTER(vp)]
    lib.bitnet_stream_start.restype = ctypes.c_int32
    lib.bitnet_stream_next.argtypes = [vp, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t),
                                       ctypes.c_int32]
    lib.bitnet_stream_next.restype = ctypes.c_int32
    lib.bitnet_stream_cancel.argtypes = [vp]
    lib.bitnet_stream_cancel.restype = ctypes.c_int32
    lib.bitnet_stream_result.argtypes = [vp, ctypes.POINTER(GenerationResult)]
    lib.bitnet_stream_result.restype = ctypes.c_int32
    lib.bitnet_stream_free.argtypes = [vp]
    lib.bitnet_stream_free.restype = None
    return lib
