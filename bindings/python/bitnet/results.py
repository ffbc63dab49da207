"""Plain Python views of the C result structs and the callback vocabulary."""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields

from ._lib import ContextStats, GenerationResult as _CResult, TokenInfo


class Action(enum.IntEnum):
    """What a push-mode callback returns (None and True also mean CONTINUE, False means CANCEL)."""

    CONTINUE = 0
    PAUSE = 1
    CANCEL = 2


class StopReason(enum.IntEnum):
    """Why a generation ended (BITNET_STOP_*)."""

    NONE = 0
    MAX_TOKENS = 1
    EOS = 2
    SEQUENCE = 3
    CANCELLED = 4
    CONTEXT_FULL = 5


@dataclass(frozen=True)
class GenerationResult:
    """How a generation went. `status` is 'done', 'paused' or 'cancelled'."""

    status: str
    stop_reason: StopReason
    stop_index: int
    stop_token: int
    n_prompt_tokens: int
    n_prompt_tokens_reused: int
    n_generated: int
    max_tokens_ahead: int
    time_to_first_token_ms: float
    prompt_tokens_per_second: float
    generation_tokens_per_second: float

    @property
    def paused(self) -> bool:
        return self.status == "paused"

    @classmethod
    def from_c(cls, raw: _CResult, status: str) -> "GenerationResult":
        values = {f.name: getattr(raw, f.name) for f in fields(cls) if f.name != "status"}
        try:
            values["stop_reason"] = StopReason(raw.stop_reason)
        except ValueError:  # a newer library may add reasons; keep the number
            values["stop_reason"] = raw.stop_reason
        return cls(status=status, **values)


@dataclass(frozen=True)
class ChunkInfo:
    """Details of one push-mode chunk: the tokens sampled since the previous chunk."""

    tokens: list[int]
    logprobs: list[float]
    n_generated: int
    n_past: int

    @classmethod
    def from_c(cls, raw: TokenInfo) -> "ChunkInfo":
        n = raw.n_tokens
        return cls(
            tokens=list(raw.tokens[:n]) if n else [],
            logprobs=list(raw.logprobs[:n]) if n else [],
            n_generated=raw.n_generated,
            n_past=raw.n_past,
        )


@dataclass(frozen=True)
class Stats:
    """Memory and prefix cache counters of a context (bitnet_context_stats)."""

    n_ctx: int
    n_past: int
    kv_type: int
    kv_bytes_per_token: int
    kv_bytes: int
    prefix_hits: int
    prefix_misses: int
    prefix_tokens_reused: int
    prefix_evictions: int
    prefix_bytes: int
    prefix_entries: int

    @classmethod
    def from_c(cls, raw: ContextStats) -> "Stats":
        return cls(**{f.name: getattr(raw, f.name) for f in fields(cls)})
