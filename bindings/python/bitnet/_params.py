"""Keyword arguments -> C parameter structs. Keyword names are the C field names."""

from __future__ import annotations

import ctypes
import json
from typing import Any, Callable, Literal, Mapping, Optional, Sequence, Union

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


def enum_value(value: Any, names: Mapping[str, int], field: str) -> int:
    """A C enum field from its lower-case name (or the number itself)."""
    if isinstance(value, str):
        try:
            return names[value.lower()]
        except KeyError:
            raise ValueError(f"{field}: expected one of {sorted(names)}, got {value!r}") from None
    return int(value)


def _set_plain(struct: ctypes.Structure, field: str, value: Any) -> None:
    kind = next(spec[1] for spec in struct._fields_ if spec[0] == field)
    if kind in (ctypes.c_float, ctypes.c_double):
        setattr(struct, field, float(value))
    else:
        setattr(struct, field, int(value))


def _unknown(kind: str, names: Any) -> TypeError:
    return TypeError(f"unknown {kind} parameter(s): {', '.join(sorted(names))}")


def model_params(params: dict[str, Any]) -> tuple[ModelParams, list[Any], list[BaseException]]:
    """ModelParams from use_mmap, use_mlock, vocab_only, lm_head_type, use_huge_pages, validate_only,
    progress(fraction) -> bool|None.
    Also returns the objects to keep alive and the list that collects callback exceptions."""
    struct = ModelParams()
    # The _sized inits write at most this mirror's size: a newer library whose struct
    # has grown never writes past it.
    lib.bitnet_model_params_init_sized(ctypes.byref(struct), ctypes.sizeof(struct))
    keep: list[Any] = []
    errors: list[BaseException] = []
    params = dict(params)
    progress: Optional[Callable[[float], Any]] = params.pop("progress", None)
    for field in ("use_mmap", "use_mlock", "vocab_only", "lm_head_type", "use_huge_pages", "validate_only"):
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
    overflow_policy ('stop'|'shift'), n_keep. The `batch` keyword is handled by Context."""
    struct = ContextParams()
    lib.bitnet_context_params_init_sized(ctypes.byref(struct), ctypes.sizeof(struct))
    params = dict(params)
    enums = {"kv_type": KV_TYPES, "prefix_eviction": EVICTIONS, "overflow_policy": OVERFLOW_POLICIES}
    params.pop("batch", None)  # a Batch object: Context sets the pointer itself
    for field, *_ in ContextParams._fields_[1:]:
        if field in params:
            value = params.pop(field)
            if field in enums:
                value = enum_value(value, enums[field], field)
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

#: Every generation keyword parameter of Context.generate / run / chat / stream / astream.
GENERATION_KEYWORDS = ("preset",) + _SAMPLING_FIELDS + ("stop", "stop_tokens", "logit_bias", "grammar", "json_schema",
                                                       "tools", "tool_choice", "tool_template", "progress")

Preset = Literal["fast", "balanced", "quality"]
Stop = Union[str, Sequence[str], None]
#: A JSON Schema: a mapping, True/False, or its JSON text.
Schema = Union[Mapping[str, Any], bool, str, None]
#: progress(done, total) during prompt evaluation; returning False cancels.
PromptProgress = Callable[[int, int], Optional[bool]]


def generation_keywords(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The generation keywords out of a method's locals(): the methods declare every keyword
    explicitly (for help() and type checkers), and this collects them without a long list."""
    return {name: arguments[name] for name in GENERATION_KEYWORDS if name in arguments}


def encode_text(text: str, what: str) -> bytes:
    """UTF-8 of a str argument. bytes are refused: the library takes text, and guessing an
    encoding for them (or treating b"..." as a list of ids) would hide a caller's mistake."""
    if not isinstance(text, str):
        raise TypeError(f"{what} must be str, not {type(text).__name__}")
    return text.encode("utf-8")


def int_arg(value: Any, what: str, low: int, high: int) -> int:
    """An int argument checked before it reaches ctypes (which would raise its own
    ArgumentError, or wrap a large value): TypeError for a non-int (bool included),
    OverflowError outside low...high."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be int, not {type(value).__name__}")
    if not low <= value <= high:
        raise OverflowError(f"{what} = {value} is outside {low}...{high}")
    return value


INT32 = (-(2**31), 2**31 - 1)
SIZE = (0, 2**63 - 1)


def encode_prompt(prompt: Optional[str]) -> Optional[bytes]:
    """A prompt's UTF-8; None (continue the context) stays None."""
    return None if prompt is None else encode_text(prompt, "prompt")


class PreparedParams:
    """A GenerationParams struct plus the Python objects its pointers point into."""

    def __init__(self, struct: GenerationParams, keep: list[Any], errors: list[BaseException]):
        self.struct = struct
        self.keep = keep
        self.errors = errors  # exceptions raised by the progress callback, re-raised by the caller

    @property
    def ref(self) -> Any:
        return ctypes.byref(self.struct)


def generation_params(keywords: Mapping[str, Any]) -> PreparedParams:
    """GenerationParams from GENERATION_KEYWORDS (see Context): preset is applied first,
    then every other keyword that is not None; None leaves the library's default
    (or the preset's value; for seed, the default is a random seed). grammar (GBNF text)
    or json_schema (a mapping, or JSON text) constrain the output."""
    struct = GenerationParams()
    lib.bitnet_generation_params_init_sized(ctypes.byref(struct), ctypes.sizeof(struct))
    keep: list[Any] = []
    errors: list[BaseException] = []
    given = {name: value for name, value in keywords.items() if value is not None}
    unknown = set(given) - set(GENERATION_KEYWORDS)
    if unknown:
        raise _unknown("generation", unknown)
    if "preset" in given:
        check(lib.bitnet_generation_params_preset(ctypes.byref(struct), enum_value(given["preset"], PRESETS, "preset")))
    for field in _SAMPLING_FIELDS:
        if field in given:
            _set_plain(struct, field, given[field])
    stop = given.get("stop")
    if stop:
        encoded = [encode_text(s, "a stop sequence") for s in ([stop] if isinstance(stop, str) else stop)]
        array = (ctypes.c_char_p * len(encoded))(*encoded)
        keep += [encoded, array]
        struct.stop_sequences = array
        struct.n_stop_sequences = len(encoded)
    stop_tokens = given.get("stop_tokens")
    if stop_tokens:
        ids = (ctypes.c_int32 * len(stop_tokens))(*stop_tokens)
        keep.append(ids)
        struct.stop_tokens = ids
        struct.n_stop_tokens = len(stop_tokens)
    logit_bias = given.get("logit_bias")
    if logit_bias:
        if not isinstance(logit_bias, Mapping):
            raise TypeError(f"logit_bias must be a mapping of token id to bias, not {type(logit_bias).__name__}")
        biases = (LogitBias * len(logit_bias))(*[LogitBias(int(t), float(b)) for t, b in logit_bias.items()])
        keep.append(biases)
        struct.logit_bias = biases
        struct.n_logit_bias = len(logit_bias)
    grammar = given.get("grammar")
    if grammar is not None:
        encoded_grammar = encode_text(grammar, "grammar")
        keep.append(encoded_grammar)
        struct.grammar = encoded_grammar
    schema = given.get("json_schema")
    if schema is not None:
        if isinstance(schema, (bytes, bytearray)):
            raise TypeError("json_schema must be a mapping, a bool or JSON text (str), not bytes")
        encoded_schema = (schema if isinstance(schema, str) else json.dumps(schema)).encode("utf-8")
        keep.append(encoded_schema)
        struct.json_schema = encoded_schema
    if "tools" in given or "tool_choice" in given or "tool_template" in given:
        from .tools import tool_choice_text, tools_text  # tools imports this module

        for field, value in (("tools_json", tools_text(given.get("tools"))),
                             ("tool_choice", tool_choice_text(given.get("tool_choice"))),
                             ("tool_template", None if given.get("tool_template") is None
                              else encode_text(given["tool_template"], "tool_template"))):
            if value is not None:
                keep.append(value)
                setattr(struct, field, value)
    progress = given.get("progress")
    if progress is not None:

        def trampoline(done: int, total: int, _user: Any) -> int:
            try:
                return 1 if progress(done, total) is False else 0
            except BaseException as error:  # noqa: BLE001 - re-raised after the C call
                errors.append(error)
                return 1

        fn = PROMPT_PROGRESS_FN(trampoline)
        keep.append(fn)
        struct.progress = ctypes.cast(fn, ctypes.c_void_p).value
    return PreparedParams(struct, keep, errors)
