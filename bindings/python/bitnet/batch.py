"""bitnet.Batch: contexts of one model whose generations share forward passes.

Decoding reads every weight once per token, so it is limited by memory bandwidth;
several sequences' next tokens cost little more than one when they share a pass.
Contexts created with ``Context(model, batch=b)`` are batched automatically: drive each
from its own thread (ctypes releases the GIL during library calls) or its own stream,
exactly as without a batch. A sequence generates the same tokens as it would alone
with the same seed, whatever shares its steps.
"""

from __future__ import annotations

import ctypes
import weakref
from dataclasses import dataclass, fields
from typing import Any, Optional

from . import _params
from ._lib import BatchParams, BatchStats as _CBatchStats, lib
from .errors import check
from .model import Model


@dataclass(frozen=True)
class BatchStats:
    """Counters of a batch (bitnet_batch_stats)."""

    n_sequences: int
    n_steps: int
    n_tokens: int
    mean_batch_size: float
    tokens_per_second: float
    n_last_step: int

    @classmethod
    def from_c(cls, raw: _CBatchStats) -> "BatchStats":
        return cls(**{f.name: getattr(raw, f.name) for f in fields(cls)})


def _free_batch(handle: Optional[int], _model: Model) -> None:
    # `_model` is held so that the model outlives the batch.
    lib.bitnet_batch_free(handle)


class Batch:
    """``Batch(model, max_sequences=8, n_threads=0, prompt_chunk=16, prefix_cache_bytes=64 MiB,
    prefix_eviction='lru')``: the keywords are the fields of bitnet_batch_params.
    Use it as a context manager or call :meth:`close`; contexts created with it keep
    what they need alive, so closing the batch first is safe."""

    def __init__(self, model: Model, *, max_sequences: int = 8, n_threads: int = 0, prompt_chunk: int = 16,
                 prefix_cache_bytes: Optional[int] = None, prefix_eviction: str = "lru"):
        struct = BatchParams()
        lib.bitnet_batch_params_init_sized(ctypes.byref(struct), ctypes.sizeof(struct))
        struct.max_sequences = _params.int_arg(max_sequences, "max_sequences", *_params.INT32)
        struct.n_threads = _params.int_arg(n_threads, "n_threads", *_params.INT32)
        struct.prompt_chunk = _params.int_arg(prompt_chunk, "prompt_chunk", *_params.INT32)
        if prefix_cache_bytes is not None:
            struct.prefix_cache_bytes = _params.int_arg(prefix_cache_bytes, "prefix_cache_bytes", 0, 2**64 - 1)
        struct.prefix_eviction = _params.enum_value(prefix_eviction, _params.EVICTIONS, "prefix_eviction")
        handle = ctypes.c_void_p()
        check(lib.bitnet_batch_new(model.handle, ctypes.byref(struct), ctypes.byref(handle)))
        self.model = model
        self._handle: Optional[int] = handle.value
        self._finalizer = weakref.finalize(self, _free_batch, handle.value, model)

    @property
    def handle(self) -> int:
        """The bitnet_batch* as an integer; raises ValueError once closed."""
        if self._handle is None:
            raise ValueError("the batch is closed")
        return self._handle

    @property
    def closed(self) -> bool:
        return self._handle is None

    def close(self) -> None:
        """Releases this handle (contexts created with the batch keep it running). Idempotent."""
        self._handle = None
        self._finalizer()

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def stats(self) -> BatchStats:
        raw = _CBatchStats()
        raw.size = ctypes.sizeof(_CBatchStats)
        check(lib.bitnet_batch_stats_get(self.handle, ctypes.byref(raw)))
        return BatchStats.from_c(raw)
