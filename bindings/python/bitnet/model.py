"""bitnet.Model: a loaded GGUF model, its metadata and its tokenizer."""

from __future__ import annotations

import ctypes
import os
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, Union

from . import _params
from ._params import encode_text
from ._lib import ModelInfo, lib
from .errors import check
from .tools import Reply, Tools, message_json, parse_tool_calls, tools_text

BUFFER_TOO_SMALL = -11


def read_text(call: Callable[[Any, int, Any], int], initial: int = 256) -> bytes:
    """Runs an snprintf-style C call, growing the buffer once when the text does not fit."""
    size = ctypes.c_size_t(0)
    buf = ctypes.create_string_buffer(initial)
    status = call(buf, initial, ctypes.byref(size))
    if status == BUFFER_TOO_SMALL:
        needed = size.value + 1
        buf = ctypes.create_string_buffer(needed)
        status = call(buf, needed, ctypes.byref(size))
    check(status)
    return buf.raw[: size.value]


@dataclass(frozen=True)
class ModelInfoView:
    """Facts about a loaded model (bitnet_model_info)."""

    arch: str
    n_vocab: int
    n_ctx_train: int
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    n_ff: int
    weight_type: int
    n_rot: int
    n_params: int
    file_size: int
    rope_freq_base: float
    rms_norm_eps: float
    activation: int
    tied_output: bool
    vocab_only: bool
    validate_only: bool


#: {'role', 'content'} (also 'tool_calls' and role 'tool', see apply_chat_template) or a (role, content) pair.
Message = Union[Mapping[str, Any], Sequence[str]]


class Model:
    """A loaded model. Immutable and shareable by any number of contexts and threads.

    ``Model(path, use_mmap=True, use_mlock=False, vocab_only=False, lm_head_type=LM_HEAD_AUTO,
    use_huge_pages=True, validate_only=False, progress=None)`` (see ``bitnet_model_params`` in
    bitnet.h: the default LM head is requantized to Q8_0 where possible;
    ``lm_head_type=LM_HEAD_AS_STORED`` keeps the file's values; ``validate_only=True`` checks the
    file's structure in milliseconds without preparing weights, and such a model makes no
    contexts); ``progress(fraction)`` returning False cancels the load. Use it as a context manager
    or call :meth:`close`; a finalizer frees it otherwise.
    """

    def __init__(self, path: Union[str, "os.PathLike[str]"], **params: Any):
        struct, keep, errors = _params.model_params(params)
        handle = ctypes.c_void_p()
        status = lib.bitnet_model_load(os.fsencode(path), ctypes.byref(struct), ctypes.byref(handle))
        del keep
        if errors:
            raise errors[0]
        check(status, filename=path)
        self._handle: Optional[int] = handle.value
        self._finalizer = weakref.finalize(self, lib.bitnet_model_free, handle.value)
        self._contexts: "weakref.WeakSet[Any]" = weakref.WeakSet()  # closed before the model

    # MARK: lifetime

    @property
    def handle(self) -> int:
        """The bitnet_model* as an integer; raises ValueError once closed."""
        if self._handle is None:
            raise ValueError("the model is closed")
        return self._handle

    @property
    def closed(self) -> bool:
        return self._handle is None

    def close(self) -> None:
        """Frees the model, closing its open contexts first (the C API needs that order)."""
        for context in list(self._contexts):
            context.close()
        self._handle = None
        self._finalizer()

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # MARK: facts

    @property
    def info(self) -> ModelInfoView:
        """Facts about the model: architecture, dimensions, sizes (bitnet_model_info_get)."""
        raw = ModelInfo()
        raw.size = ctypes.sizeof(ModelInfo)
        check(lib.bitnet_model_info_get(self.handle, ctypes.byref(raw)))
        values = {name: getattr(raw, name) for name, *_ in ModelInfo._fields_ if name != "size"}
        values["arch"] = raw.arch.decode("utf-8", "replace")
        values["tied_output"] = bool(raw.tied_output)
        values["vocab_only"] = bool(raw.vocab_only)
        values["validate_only"] = bool(raw.validate_only)
        return ModelInfoView(**values)

    def meta(self, key: str) -> str:
        """The metadata value of `key` as text (InvalidArgumentError when missing)."""
        encoded = encode_text(key, "key")
        return read_text(lambda b, c, n: lib.bitnet_model_meta_get(self.handle, encoded, b, c, n)).decode(
            "utf-8", "replace"
        )

    def metadata(self) -> dict[str, str]:
        """Every metadata key and its value as text, in file order."""
        def key(index: int) -> str:
            return read_text(lambda b, c, n: lib.bitnet_model_meta_key(self.handle, index, b, c, n)).decode(
                "utf-8", "replace"
            )

        keys = [key(i) for i in range(lib.bitnet_model_meta_count(self.handle))]
        return {name: self.meta(name) for name in keys}

    @property
    def vocab_size(self) -> int:
        return int(lib.bitnet_vocab_size(self.handle))

    @property
    def bos(self) -> int:
        """BOS token id, or -1."""
        return int(lib.bitnet_token_bos(self.handle))

    @property
    def eos(self) -> int:
        return int(lib.bitnet_token_eos(self.handle))

    @property
    def eot(self) -> int:
        return int(lib.bitnet_token_eot(self.handle))

    # MARK: tokens

    def tokenize(self, text: str, *, add_bos: bool = True, parse_special: bool = False) -> list[int]:
        """Token ids of `text` (BOS first when add_bos and the model has one)."""
        data = encode_text(text, "text")
        count = ctypes.c_size_t(0)
        cap = len(data) + 2
        ids = (ctypes.c_int32 * cap)()
        status = lib.bitnet_tokenize(self.handle, data, len(data), int(add_bos), int(parse_special), ids, cap,
                                     ctypes.byref(count))
        if status == BUFFER_TOO_SMALL:
            cap = count.value
            ids = (ctypes.c_int32 * cap)()
            status = lib.bitnet_tokenize(self.handle, data, len(data), int(add_bos), int(parse_special), ids, cap,
                                         ctypes.byref(count))
        check(status)
        return list(ids[: count.value])

    def detokenize_bytes(self, tokens: Iterable[int]) -> bytes:
        """The exact bytes of `tokens` (may end inside a UTF-8 character)."""
        ids = list(tokens)
        array = (ctypes.c_int32 * len(ids))(*ids)
        return read_text(lambda b, c, n: lib.bitnet_detokenize(self.handle, array, len(ids), b, c, n),
                         initial=max(64, 8 * len(ids)))

    def detokenize(self, tokens: Iterable[int]) -> str:
        """The text of `tokens`; an incomplete trailing character becomes U+FFFD."""
        return self.detokenize_bytes(tokens).decode("utf-8", "replace")

    def token_to_piece(self, token: int) -> bytes:
        """The bytes one token stands for (a byte-level token may be part of a character)."""
        return read_text(lambda b, c, n: lib.bitnet_token_to_piece(self.handle, int(token), b, c, n), initial=64)

    def apply_chat_template(self, messages: Iterable[Message], *, template: Optional[str] = None,
                            add_assistant: bool = True, tools: Tools = None) -> str:
        """Renders messages ({'role': ..., 'content': ...} or (role, content)) into a prompt.
        With `tools` (OpenAI's shape), or messages with 'tool_calls' or role 'tool', the
        tools, calls and results are rendered in the template family's tool format."""
        messages = list(messages)
        if tools is not None or any(isinstance(m, Mapping) and (m.get("tool_calls") or m.get("role") == "tool")
                                    for m in messages):
            encoded = message_json(messages)
            tools_json = tools_text(tools)
            tname = None if template is None else encode_text(template, "template")
            return read_text(
                lambda b, c, n: lib.bitnet_apply_chat_template_tools(self.handle, tname, encoded, tools_json,
                                                                     int(add_assistant), b, c, n),
                initial=4096,
            ).decode("utf-8", "replace")
        pairs = [(m["role"], m["content"]) if isinstance(m, Mapping) else (m[0], m[1]) for m in messages]
        roles = [encode_text(r, "a message role") for r, _ in pairs]
        contents = [encode_text(c, "a message content") for _, c in pairs]
        role_array = (ctypes.c_char_p * max(1, len(pairs)))(*roles)
        content_array = (ctypes.c_char_p * max(1, len(pairs)))(*contents)
        name = None if template is None else encode_text(template, "template")
        return read_text(
            lambda b, c, n: lib.bitnet_apply_chat_template(self.handle, name, role_array, content_array, len(pairs),
                                                           int(add_assistant), b, c, n),
            initial=1024,
        ).decode("utf-8", "replace")

    def parse_tool_calls(self, text: str, *, template: Optional[str] = None) -> Reply:
        """Splits a reply generated with tools into its text and its calls (the template
        family's format; None = the model's template)."""
        return parse_tool_calls(self.handle, text, template)

    def __repr__(self) -> str:
        return f"<bitnet.Model {'closed' if self.closed else hex(self._handle or 0)}>"


__all__ = ["Model", "ModelInfoView", "read_text"]
