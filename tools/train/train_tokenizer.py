#!/usr/bin/env python3
"""Trains the byte-level BPE tokenizer (GPT-2 style) on the training split.

    python3 tools/train/train_tokenizer.py --data tools/train/data --vocab 4096

Uses the PyPI `tokenizers` package: ByteLevel pre-tokenizer with GPT-2's regex (the
engine's `tokenizer.ggml.pre = "gpt-2"` scanner implements the same pattern), no
prefix space, all 256 byte symbols in the initial alphabet so every byte is encodable.
Two control tokens are appended after the learned ones: `<s>` (BOS) and `</s>` (EOS).
Writes `tokenizer.json` (the Hugging Face file) into the data folder.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

BOS, EOS = "<s>", "</s>"


def build(train_text: Path, vocab_size: int) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size - 2, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    tok.train([str(train_text)], trainer)
    tok.add_special_tokens([BOS, EOS])
    if tok.get_vocab_size() != vocab_size:
        raise SystemExit(f"tokenizer has {tok.get_vocab_size()} tokens, wanted {vocab_size}")
    return tok


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default="tools/train/data")
    p.add_argument("--vocab", type=int, default=4096)
    args = p.parse_args()
    data = Path(args.data)
    tok = build(data / "train.txt", args.vocab)
    tok.save(str(data / "tokenizer.json"))
    for split in ("train", "held_out"):
        text = (data / f"{split}.txt").read_text(encoding="utf-8")
        n = len(tok.encode(text).ids)
        print(f"{split}: {len(text)} bytes, {n} tokens ({len(text) / n:.2f} bytes/token)")


if __name__ == "__main__":
    main()
