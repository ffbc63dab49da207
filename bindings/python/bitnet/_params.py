"""Keyword arguments -> C parameter structs. Keyword names are the C field names."""

from __future__ import annotations

import ctypes
import json
from typing import Any, Callable, Mapping, Optional

from ._lib import (
    PROGRESS_FN,
    PROMPT_PROGRESS_FN,
    ContextParams,
    GenerationParams,
    LogitBias,
    ModelParams,
    lib,
)
from .errors import check

KV_TYPES = {"f16": 0, "f32": 1, "q8": 2}
EVICTIONS = {"lru": 0, "fifo": 1}
OVERFLOW_POLICIES = {"stop": 0, "shift": 1}
PRESETS = {"fast": 0, "balanced": 1, "quality": 2}


def _enum(value: Any, names: Mapping[str, int], field: str) -> int:
    if isinstance(value, str):
        try:
            return names[value.lower()]
        except KeyError:
            raise ValueError(f"{field}: expected one of {sorted(names)}, got {value!r}") from None
    return int(value)


def _set_plain(struct: ctypes.Structure, field: str, value: Any) -> None:
    kind = dict(struct._fields_)[field]
    if kind in (ctypes.c_float, ctypes.c_double):
        setattr(struct, field, float(value))
    else:
        setattr(struct, field, int(value))


def _unknown(kind: str, names: Any) -> TypeError:
    return TypeError(f"unknown {kind} parameter(s): {', '.join(sorted(names))}")


def model_params(params: dict[str, Any]) -> tuple[ModelParams, list[Any], list[BaseException]]:
    """ModelParams from use_mmap, use_mlock, vocab_only, lm_head_type, use_huge_pages, progress(fraction) -> bool|None.
    Also returns the objects to keep alive and the list that collects callback exceptions."""
    struct = ModelParams()
    lib.bitnet_model_params_init(ctypes.byref(struct))
    keep: list[Any] = []
    errors: list[BaseException] = []
    params = dict(params)
    progress: Optional[Callable[[float], Any]] = params.pop("progress", None)
    for field in ("use_mmap", "use_mlock", "vocab_only", "lm_head_type", "use_huge_pages"):
        if field in params:
            _set_plain(struct, field, params.pop(field))
    if params:
        raise _unknown("model", params)
    if progress is not None:
        # The load runs on the calling thread, so a Python callback is safe here.
        # False cancels; an exception cancels too and is re-raised by Model().
        def trampoline(fraction: float, _user: Any) -> int:
            try:
                return 1 if progress(fraction) is False else 0
            except BaseException as error:  # noqa: BLE001 - re-raised after the C call
                errors.append(error)
                return 1

        fn = PROGRESS_FN(trampoline)
        keep.append(fn)
        struct.progress_callback = ctypes.cast(fn, ctypes.c_void_p).value
    return struct, keep, errors


def context_params(params: dict[str, Any]) -> ContextParams:
    """ContextParams from n_ctx, n_batch, n_threads, kv_type ('f16'|'f32'|'q8'), logits_all,
    prefix_cache_bytes, prefix_eviction ('lru'|'fifo'), prefix_cache_auto,
    overflow_policy ('stop'|'shift'), n_keep."""
    struct = ContextParams()
    lib.bitnet_context_params_init(ctypes.byref(struct))
    params = dict(params)
    enums = {"kv_type": KV_TYPES, "prefix_eviction": EVICTIONS, "overflow_policy": OVERFLOW_POLICIES}
    for field, _ in ContextParams._fields_[1:]:
        if field in params:
            value = params.pop(field)
            if field in enums:
                value = _enum(value, enums[field], field)
            _set_plain(struct, field, value)
    if params:
        raise _unknown("context", params)
    return struct


_SAMPLING_FIELDS = (
    "temperature",
    "top_k",
    "top_p",
    "min_p",
    "typical_p",
    "repetition_penalty",
    "repeat_last_n",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "max_new_tokens",
    "ignore_eos",
    "add_bos",
    "parse_special",
)


class PreparedParams:
    """A GenerationParams struct plus the Python objects its pointers point into."""

    def __init__(self, struct: GenerationParams, keep: list[Any], errors: list[BaseException]):
        self.struct = struct
        self.keep = keep
        self.errors = errors  # exceptions raised by the progress callback, re-raised by the caller

    @property
    def ref(self) -> Any:
        return ctypes.byref(self.struct)


def generation_params(sampling: dict[str, Any], *, allow_progress: bool = True) -> PreparedParams:
    """GenerationParams from the C field names, plus:
    preset ('fast'|'balanced'|'quality', applied first), stop (list of str),
    stop_tokens (list of int), logit_bias ({token: bias}), progress(done, total) -> bool|None,
    grammar (GBNF text) or json_schema (a dict, or JSON text) to constrain the output.
    temperature=0 means greedy; seed=None means random."""
    struct = GenerationParams()
    lib.bitnet_generation_params_init(ctypes.byref(struct))
    keep: list[Any] = []
    errors: list[BaseException] = []
    sampling = dict(sampling)
    preset = sampling.pop("preset", None)
    if preset is not None:
        check(lib.bitnet_generation_params_preset(ctypes.byref(struct), _enum(preset, PRESETS, "preset")))
    for field in _SAMPLING_FIELDS:
        if field in sampling:
            value = sampling.pop(field)
            if field == "seed" and value is None:
                value = 2**64 - 1  # BITNET_SEED_RANDOM
            _set_plain(struct, field, value)
    stop = sampling.pop("stop", None)
    if stop:
        if isinstance(stop, str):
            stop = [stop]
        encoded = [s.encode("utf-8") for s in stop]
        array = (ctypes.c_char_p * len(encoded))(*encoded)
        keep += [encoded, array]
        struct.stop_sequences = array
        struct.n_stop_sequences = len(encoded)
    stop_tokens = sampling.pop("stop_tokens", None)
    if stop_tokens:
        ids = (ctypes.c_int32 * len(stop_tokens))(*stop_tokens)
        keep.append(ids)
        struct.stop_tokens = ids
        struct.n_stop_tokens = len(stop_tokens)
    logit_bias = sampling.pop("logit_bias", None)
    if logit_bias:
        biases = (LogitBias * len(logit_bias))(*[LogitBias(int(t), float(b)) for t, b in logit_bias.items()])
        keep.append(biases)
        struct.logit_bias = biases
        struct.n_logit_bias = len(logit_bias)
    grammar = sampling.pop("grammar", None)
    if grammar is not None:
        encoded_grammar = grammar.encode("utf-8")
        keep.append(encoded_grammar)
        struct.grammar = encoded_grammar
    schema = sampling.pop("json_schema", None)
    if schema is not None:
        encoded_schema = (schema if isinstance(schema, str) else json.dumps(schema)).encode("utf-8")
        keep.append(encoded_schema)
        struct.json_schema = encoded_schema
    progress = sampling.pop("progress", None)
    if progress is not None:
        if not allow_progress:
            # Streams evaluate the prompt on their own thread: no Python callbacks there.
            raise TypeError("progress= is not available for streams (it would run on a foreign thread)")

        def trampoline(done: int, total: int, _user: Any) -> int:
            try:
                return 1 if progress(done, total) is False else 0
            except BaseException as error:  # noqa: BLE001 - re-raised after the C call
                errors.append(error)
                return 1

        fn = PROMPT_PROGRESS_FN(trampoline)
        keep.append(fn)
        struct.progress = ctypes.cast(fn, ctypes.c_void_p).value
    if sampling:
        raise _unknown("generation", sampling)
    return PreparedParams(struct, keep, errors)
