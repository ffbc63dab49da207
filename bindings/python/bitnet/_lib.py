"""Finding and declaring libbitnet: struct layouts and the prototype of every function.

Everything here mirrors include/bitnet.h one to one; the Pythonic layer lives in
the other modules. The layouts must match the header exactly (the library reads
only `size` bytes of a params struct, so a short struct is safe, a wrong one is not).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from ctypes import POINTER, c_char_p, c_double, c_float, c_int, c_int32, c_size_t, c_uint32, c_uint64, c_void_p

#: The ABI generation this package was written against (BITNET_ABI_VERSION).
ABI_VERSION = 0

# MARK: - Structs


class ModelParams(ctypes.Structure):
    _fields_ = [
        ("size", c_uint32),
        ("use_mmap", c_int32),
        ("use_mlock", c_int32),
        ("vocab_only", c_int32),
        ("progress_callback", c_void_p),  # bitnet_progress_fn, set from a PROGRESS_FN
        ("progress_user_data", c_void_p),
        ("lm_head_type", c_int32),  # LM_HEAD_AUTO (default) / LM_HEAD_AS_STORED / LM_HEAD_Q8_0
        ("use_huge_pages", c_int32),  # 1 (default): streamed weights on huge pages
        ("validate_only", c_int32),  # 1: check the file's structure, prepare no weights (no contexts)
    ]


#: Values of ModelParams.lm_head_type (bitnet_model_params.lm_head_type).
LM_HEAD_AS_STORED, LM_HEAD_Q8_0, LM_HEAD_AUTO = 0, 1, 2


class ModelInfo(ctypes.Structure):
    _fields_ = [
        ("size", c_uint32),
        ("arch", ctypes.c_char * 32),
        ("n_vocab", c_int32),
        ("n_ctx_train", c_int32),
        ("n_embd", c_int32),
        ("n_layer", c_int32),
        ("n_head", c_int32),
        ("n_head_kv", c_int32),
        ("n_ff", c_int32),
        ("weight_type", c_int32),
        ("n_rot", c_int32),
        ("n_params", ctypes.c_int64),
        ("file_size", c_uint64),
        ("rope_freq_base", c_float),
        ("rms_norm_eps", c_float),
        ("activation", c_int32),
        ("tied_output", c_int32),
        ("vocab_only", c_int32),
        ("validate_only", c_int32),
    ]


class ContextParams(ctypes.Structure):
    _fields_ = [
        ("size", c_uint32),
        ("n_ctx", c_uint32),
        ("n_batch", c_uint32),
        ("n_threads", c_int32),
        ("kv_type", c_int32),
        ("logits_all", c_int32),
        ("prefix_cache_bytes", c_uint64),
        ("prefix_eviction", c_int32),
        ("prefix_cache_auto", c_int32),
        ("overflow_policy", c_int32),
        ("n_keep", c_int32),
        ("batch", c_void_p),  # bitnet_batch * or None
    ]


class BatchParams(ctypes.Structure):
    _fields_ = [
        ("size", c_uint32),
        ("max_sequences", c_int32),
        ("n_threads", c_int32),
        ("prompt_chunk", c_int32),
        ("prefix_cache_bytes", c_uint64),
        ("prefix_eviction", c_int32),
    ]


class BatchStats(ctypes.Structure):
    _fields_ = [
        ("size", c_uint32),
        ("n_sequences", c_int32),
        ("n_steps", c_uint64),
        ("n_tokens", c_uint64),
        ("mean_batch_size", ctypes.c_double),
        ("tokens_per_second", ctypes.c_double),
        ("n_last_step", c_int32),
    ]


class ContextStats(ctypes.Structure):
    _fields_ = [
        ("size", c_uint32),
        ("n_ctx", c_uint32),
        ("n_past", c_uint32),
        ("kv_type", c_int32),
        ("kv_bytes_per_token", c_uint64),
        ("kv_bytes", c_uint64),
        ("prefix_hits", c_uint64),
        ("prefix_misses", c_uint64),
        ("prefix_tokens_reused", c_uint64),
        ("prefix_evictions", c_uint64),
        ("prefix_bytes", c_uint64),
        ("prefix_entries", c_uint64),
    ]


class LogitBias(ctypes.Structure):
    _fields_ = [("token", c_int32), ("bias", c_float)]


class GenerationParams(ctypes.Structure):
    _fields_ = [
        ("size", c_uint32),
        ("temperature", c_float),
        ("top_k", c_int32),
        ("top_p", c_float),
        ("min_p", c_float),
        ("typical_p", c_float),
        ("repetition_penalty", c_float),
        ("repeat_last_n", c_int32),
        ("presence_penalty", c_float),
        ("frequency_penalty", c_float),
        ("seed", c_uint64),
        ("max_new_tokens", c_int32),
        ("stop_sequences", POINTER(c_char_p)),
        ("n_stop_sequences", c_size_t),
        ("stop_tokens", POINTER(c_int32)),
        ("n_stop_tokens", c_size_t),
        ("logit_bias", POINTER(LogitBias)),
        ("n_logit_bias", c_size_t),
        ("ignore_eos", c_int32),
        ("add_bos", c_int32),
        ("parse_special", c_int32),
        ("progress", c_void_p),  # bitnet_prompt_progress_fn, set from a PROMPT_PROGRESS_FN
        ("progress_user_data", c_void_p),
        ("grammar", c_char_p),  # GBNF text or None
        ("json_schema", c_char_p),  # JSON Schema text or None (not both)
        ("tools_json", c_char_p),  # OpenAI tools JSON text or None
        ("tool_choice", c_char_p),  # "auto" / "required" / "none" / a name / JSON, or None
        ("tool_template", c_char_p),  # template whose call format applies, or None (the model's)
    ]


class ToolCallStruct(ctypes.Structure):
    _fields_ = [
        ("size", c_uint32),
        ("id", c_char_p),
        ("name", c_char_p),
        ("arguments_json", c_char_p),
    ]


class ToolCallsStruct(ctypes.Structure):
    _fields_ = [
        ("size", c_uint32),
        ("n_calls", c_size_t),
        ("calls", POINTER(ToolCallStruct)),
        ("content", c_char_p),
    ]


class TokenInfo(ctypes.Structure):
    _fields_ = [
        ("size", c_uint32),
        ("tokens", POINTER(c_int32)),
        ("logprobs", POINTER(c_float)),
        ("n_tokens", c_size_t),
        ("n_generated", c_int32),
        ("n_past", c_int32),
    ]


class GenerationResult(ctypes.Structure):
    _fields_ = [
        ("size", c_uint32),
        ("stop_reason", c_int32),
        ("stop_index", c_int32),
        ("stop_token", c_int32),
        ("n_prompt_tokens", c_int32),
        ("n_prompt_tokens_reused", c_int32),
        ("n_generated", c_int32),
        ("max_tokens_ahead", c_int32),
        ("time_to_first_token_ms", c_double),
        ("prompt_tokens_per_second", c_double),
        ("generation_tokens_per_second", c_double),
    ]


# MARK: - Callback types

LOG_FN = ctypes.CFUNCTYPE(None, c_int32, c_char_p, c_void_p)
PROGRESS_FN = ctypes.CFUNCTYPE(c_int32, c_float, c_void_p)
PROMPT_PROGRESS_FN = ctypes.CFUNCTYPE(c_int32, c_size_t, c_size_t, c_void_p)
STREAM_FN = ctypes.CFUNCTYPE(c_int32, POINTER(ctypes.c_char), c_size_t, POINTER(TokenInfo), c_void_p)

# MARK: - Prototypes

_vp = c_void_p
_i32 = c_int32
_sz = c_size_t
_psz = POINTER(c_size_t)
_pi32 = POINTER(c_int32)

#: name -> (restype, argtypes) for every function of bitnet.h.
PROTOTYPES: dict[str, tuple[object, list[object]]] = {
    # versions, errors, logging
    "bitnet_version_string": (c_char_p, []),
    "bitnet_version_number": (_i32, []),
    "bitnet_abi_version": (_i32, []),
    "bitnet_build_info": (c_char_p, []),
    "bitnet_status_string": (c_char_p, [_i32]),
    "bitnet_last_error": (c_char_p, []),
    "bitnet_set_log_callback": (_i32, [LOG_FN, _vp, _i32]),
    # models
    "bitnet_model_params_init": (None, [POINTER(ModelParams)]),
    "bitnet_model_params_init_sized": (_i32, [POINTER(ModelParams), _sz]),
    "bitnet_model_load": (_i32, [c_char_p, POINTER(ModelParams), POINTER(_vp)]),
    "bitnet_model_info_get": (_i32, [_vp, POINTER(ModelInfo)]),
    "bitnet_model_meta_get": (_i32, [_vp, c_char_p, c_char_p, _sz, _psz]),
    "bitnet_model_meta_count": (_i32, [_vp]),
    "bitnet_model_meta_key": (_i32, [_vp, _i32, c_char_p, _sz, _psz]),
    "bitnet_model_free": (None, [_vp]),
    # contexts
    "bitnet_context_params_init": (None, [POINTER(ContextParams)]),
    "bitnet_context_params_init_sized": (_i32, [POINTER(ContextParams), _sz]),
    "bitnet_kv_bytes_estimate": (_i32, [_vp, POINTER(ContextParams), _psz]),
    "bitnet_context_new": (_i32, [_vp, POINTER(ContextParams), POINTER(_vp)]),
    "bitnet_context_free": (None, [_vp]),
    "bitnet_context_eval": (_i32, [_vp, _pi32, _sz]),
    "bitnet_context_logits": (POINTER(c_float), [_vp]),
    "bitnet_context_logits_ith": (POINTER(c_float), [_vp, _i32]),
    "bitnet_context_n_past": (_i32, [_vp]),
    "bitnet_context_n_ctx": (_i32, [_vp]),
    "bitnet_context_truncate": (_i32, [_vp, _i32]),
    "bitnet_context_reset": (_i32, [_vp]),
    "bitnet_context_interrupt": (_i32, [_vp]),
    "bitnet_context_shift": (_i32, [_vp, _pi32]),
    # batches
    "bitnet_batch_params_init": (None, [POINTER(BatchParams)]),
    "bitnet_batch_params_init_sized": (_i32, [POINTER(BatchParams), _sz]),
    "bitnet_batch_new": (_i32, [_vp, POINTER(BatchParams), POINTER(_vp)]),
    "bitnet_batch_free": (None, [_vp]),
    "bitnet_batch_stats_get": (_i32, [_vp, POINTER(BatchStats)]),
    # prefix cache, stats, state
    "bitnet_cache_warm": (_i32, [_vp, c_char_p]),
    "bitnet_cache_warm_tokens": (_i32, [_vp, _pi32, _sz]),
    "bitnet_cache_clear": (_i32, [_vp]),
    "bitnet_context_stats_get": (_i32, [_vp, POINTER(ContextStats)]),
    "bitnet_state_size": (_i32, [_vp, _psz]),
    "bitnet_state_save_buffer": (_i32, [_vp, _vp, _sz, _psz]),
    "bitnet_state_load_buffer": (_i32, [_vp, _vp, _sz]),
    "bitnet_state_save": (_i32, [_vp, c_char_p]),
    "bitnet_state_load": (_i32, [_vp, c_char_p]),
    # tokens
    "bitnet_tokenize": (_i32, [_vp, c_char_p, _sz, c_int, c_int, _pi32, _sz, _psz]),
    "bitnet_detokenize": (_i32, [_vp, _pi32, _sz, c_char_p, _sz, _psz]),
    "bitnet_token_to_piece": (_i32, [_vp, _i32, c_char_p, _sz, _psz]),
    "bitnet_token_bos": (_i32, [_vp]),
    "bitnet_token_eos": (_i32, [_vp]),
    "bitnet_token_eot": (_i32, [_vp]),
    "bitnet_vocab_size": (_i32, [_vp]),
    "bitnet_apply_chat_template": (
        _i32,
        [_vp, c_char_p, POINTER(c_char_p), POINTER(c_char_p), _sz, c_int, c_char_p, _sz, _psz],
    ),
    # generation
    "bitnet_generation_params_init": (None, [POINTER(GenerationParams)]),
    "bitnet_generation_params_init_sized": (_i32, [POINTER(GenerationParams), _sz]),
    "bitnet_generation_params_preset": (_i32, [POINTER(GenerationParams), _i32]),
    "bitnet_generate": (
        _i32,
        [_vp, c_char_p, POINTER(GenerationParams), STREAM_FN, _vp, POINTER(GenerationResult)],
    ),
    "bitnet_generate_resume": (_i32, [_vp, STREAM_FN, _vp, POINTER(GenerationResult)]),
    # streams
    "bitnet_stream_start": (_i32, [_vp, c_char_p, POINTER(GenerationParams), _sz, POINTER(_vp)]),
    "bitnet_stream_next": (_i32, [_vp, c_char_p, _sz, _psz, _i32]),
    "bitnet_stream_cancel": (_i32, [_vp]),
    "bitnet_stream_result": (_i32, [_vp, POINTER(GenerationResult)]),
    "bitnet_stream_free": (None, [_vp]),
    # constrained generation
    "bitnet_grammar_validate": (_i32, [c_char_p, c_char_p]),
    # tool calls
    "bitnet_tools_validate": (_i32, [c_char_p, c_char_p]),
    "bitnet_apply_chat_template_tools": (_i32, [_vp, c_char_p, c_char_p, c_char_p, c_int, c_char_p, _sz, _psz]),
    "bitnet_tool_calls_parse": (_i32, [_vp, c_char_p, c_char_p, _sz, POINTER(POINTER(ToolCallsStruct))]),
    "bitnet_tool_calls_free": (None, [POINTER(ToolCallsStruct)]),
}

# MARK: - Loading

_SONAMES = ("libbitnet.so.0", "libbitnet.so")


def candidate_paths() -> list[str]:
    """Where the library is looked for, in order (see the package docstring)."""
    paths: list[str] = []
    env = os.environ.get("BITNET_LIBRARY")
    if env:
        paths.append(env)
    here = os.path.dirname(os.path.abspath(__file__))
    paths.extend(os.path.join(here, name) for name in _SONAMES)
    found = ctypes.util.find_library("bitnet")
    if found:
        paths.append(found)
    return paths


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    for name, (restype, argtypes) in PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


def load() -> ctypes.CDLL:
    """Loads and declares libbitnet, checking its ABI version; ImportError when impossible."""
    env = os.environ.get("BITNET_LIBRARY")
    tried: list[str] = []
    for path in candidate_paths():
        # An explicit BITNET_LIBRARY must exist; the package-local guesses may not.
        if path != env and os.sep in path and not os.path.exists(path):
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as error:
            tried.append(f"{path}: {error}")
            if path == env:
                break  # the user named it: do not silently fall back to another copy
            continue
        lib.bitnet_abi_version.restype = c_int32
        lib.bitnet_abi_version.argtypes = []
        abi = lib.bitnet_abi_version()
        if abi != ABI_VERSION:
            raise ImportError(
                f"bitnet: {path} has ABI version {abi}, but this package needs ABI version {ABI_VERSION}; "
                "install the matching libbitnet or Python package"
            )
        try:
            return _declare(lib)
        except AttributeError as error:
            raise ImportError(f"bitnet: {path} lacks a function of the ABI: {error}") from None
    detail = "; ".join(tried) if tried else "no candidate found"
    raise ImportError(
        "bitnet: cannot load libbitnet (set BITNET_LIBRARY to the path of libbitnet.so.0, "
        f"put it next to the package, or install it system-wide): {detail}"
    )


lib = load()
