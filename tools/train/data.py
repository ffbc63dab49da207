"""Token streams and training windows.

Every window is BOS followed by n_ctx - 1 tokens that start at the beginning of a line
(a verse or a chapter heading), the way the engine sees a prompt: BOS, then text.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer


def load_tokenizer(data: Path) -> Tokenizer:
    return Tokenizer.from_file(str(data / "tokenizer.json"))


def encode_file(tok: Tokenizer, path: Path) -> np.ndarray:
    return np.array(tok.encode(path.read_text(encoding="utf-8")).ids, dtype=np.int32)


def line_starts(tok: Tokenizer, ids: np.ndarray, window: int) -> np.ndarray:
    """Positions whose previous token contains a newline (and position 0), leaving room for a window."""
    has_newline = np.array(["\n" in tok.decode([i]) for i in range(tok.get_vocab_size())])
    starts = np.flatnonzero(has_newline[ids[:-1]]) + 1
    starts = np.concatenate(([0], starts))
    return starts[starts + window <= len(ids) - 1]


class WindowSampler:
    def __init__(self, ids: np.ndarray, starts: np.ndarray, n_ctx: int, bos: int, seed: int):
        self.ids, self.starts, self.n_ctx, self.bos = ids, starts, n_ctx, bos
        self.rng = np.random.default_rng(seed)

    def batch(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs, targets), both [B][n_ctx]: inputs = BOS + text[:n_ctx-1], targets = text[:n_ctx]."""
        n = self.n_ctx
        picks = self.rng.choice(self.starts, size=batch_size)
        text = np.stack([self.ids[p : p + n] for p in picks])
        inputs = np.concatenate((np.full((batch_size, 1), self.bos, dtype=np.int32), text[:, :-1]), axis=1)
        return torch.from_numpy(inputs.astype(np.int64)), torch.from_numpy(text.astype(np.int64))


def eval_chunks(ids: np.ndarray, n_ctx: int, bos: int) -> list[tuple[list[int], list[int]]]:
    """The held-out perplexity protocol: consecutive chunks of n_ctx tokens (a short tail is
    dropped); each is fed as BOS + chunk[:-1] and every chunk token is scored."""
    step = n_ctx
    out = []
    for begin in range(0, len(ids) - step + 1, step):
        chunk = [int(t) for t in ids[begin : begin + step]]
        out.append(([bos] + chunk[:-1], chunk))
    return out
