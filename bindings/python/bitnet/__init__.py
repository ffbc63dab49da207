"""bitnet — Python bindings (pure ctypes) for libbitnet, an inference engine for ternary
(BitNet b1.58) language models.

The shared library is found through $BITNET_LIBRARY, then next to this package (where
the wheel installs it), then the system (ctypes.util.find_library). Importing fails with
ImportError when it cannot be found or its ABI version differs from the one this package
was written for.

    import bitnet
    with bitnet.Model("model.gguf") as model, bitnet.Context(model) as ctx:
        print(ctx.generate("Hello", max_new_tokens=32, temperature=0))
"""

from __future__ import annotations

from typing import Optional

from ._lib import ABI_VERSION, LM_HEAD_AS_STORED, LM_HEAD_AUTO, LM_HEAD_Q8_0, lib as _cdll
from .batch import Batch, BatchStats
from .context import Context
from .errors import (
    BitnetError,
    BitnetIOError,
    BitnetTimeoutError,
    BufferTooSmallError,
    BusyError,
    CancelledError,
    ContextFullError,
    FormatError,
    InternalError,
    InvalidArgumentError,
    OutOfMemoryError,
    StateMismatchError,
    UnsupportedError,
)
from .model import Model, ModelInfoView
from .results import Action, ChunkInfo, GenerationResult, Stats, StopReason
from .aio import astream
from ._params import Schema
from .tools import Reply, ToolCall, validate_tools


def validate_grammar(grammar: Optional[str] = None, json_schema: Schema = None) -> None:
    """Checks a GBNF grammar or a JSON Schema (exactly one) without generating; raises
    InvalidArgumentError with the line:column or JSON pointer of the problem."""
    import json

    from ._params import encode_text
    from .errors import check

    schema = json_schema if json_schema is None or isinstance(json_schema, str) else json.dumps(json_schema)
    check(_cdll.bitnet_grammar_validate(encode_text(grammar, "grammar") if grammar is not None else None,
                                        encode_text(schema, "json_schema") if schema is not None else None))


def version() -> str:
    """The loaded library's version, "MAJOR.MINOR.PATCH"."""
    return str(_cdll.bitnet_version_string().decode())


def build_info() -> str:
    """The loaded library's build description (kernels compiled in and chosen)."""
    return str(_cdll.bitnet_build_info().decode())


def library_path() -> str:
    """The path the library was loaded from."""
    return str(_cdll._name)


__all__ = [
    "ABI_VERSION", "Action", "Batch", "BatchStats", "BitnetError", "BitnetIOError", "BitnetTimeoutError", "BufferTooSmallError",
    "BusyError", "CancelledError", "ChunkInfo", "Context", "ContextFullError", "FormatError",
    "GenerationResult", "InternalError", "InvalidArgumentError", "LM_HEAD_AS_STORED", "LM_HEAD_AUTO",
    "LM_HEAD_Q8_0", "Model", "ModelInfoView",
    "OutOfMemoryError", "Reply", "StateMismatchError", "Stats", "StopReason", "ToolCall", "UnsupportedError",
    "astream", "build_info", "library_path", "validate_grammar", "validate_tools", "version",
]
