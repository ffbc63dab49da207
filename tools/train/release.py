#!/usr/bin/env python3
"""Exports a checkpoint to GGUF and writes the PyTorch outputs the engine tests compare against.

    python3 tools/train/release.py --ckpt tools/train/run/ckpt.pt \
        --model models/bitnet-kjv-tiny.gguf --expected tools/train/expected

Everything here runs the float64 eval-mode model holding exactly the exported numbers
(export.exported_model), so the stored outputs are what a perfect engine would compute.
Writes into --expected:
  held_out_tokens.json  the HF tokenizer's ids for data/held_out.txt (no BOS)
  tokenizer_cases.json  the HF tokenizer's ids for a few unusual strings
  perplexity.json       held-out perplexity under the protocol of data.eval_chunks
  logits.json           top-k logits, target logit and logsumexp at every position of
                        the first held-out chunks
  greedy.json           greedy continuations (100 tokens) of several prompts, with the
                        top-1 minus top-2 logit margin at each step
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import torch

from data import encode_file, eval_chunks, load_tokenizer
from export import exported_model, write_gguf

PROMPTS = [
    "In the beginning",
    "And God said,",
    "The LORD is my shepherd;",
    "And it came to pass, when",
    "Blessed are the",
    "Psalms 23\n",
    "Then Jesus said unto them,",
    "And the king of Israel",
    "For God so loved the world,",
    "Thus saith the LORD,",
    "My son, hear the instruction of thy father,",
    "And Moses went up",
    "I will lift up mine eyes unto the hills,",
    "Now the serpent was more subtil",
    "John 3\n",
    "Vanity of vanities,",
]
N_GREEDY = 100
# Strings outside the corpus's style for the tokenizer agreement test.
TOKENIZER_CASES = [
    "Hello, World! It's 2026; numbers 12345 and 3.14159 -- ok?",
    "  leading spaces, trailing spaces   \n\n\ttabs\tand\r\nCRLF",
    "Ünïcödé: café, naïve, Σοφία, 東京, emoji 🙂, and the LORD's word.",
    "they'll we've I'm you'd she's don't CAN'T",
    "And God said, Let there be light: and there was light.",
]
N_LOGIT_CHUNKS = 4
TOP_K = 16


@torch.no_grad()
def logits_of(model, tokens: list[int]) -> torch.Tensor:
    return model(torch.tensor([tokens]))[0]


@torch.no_grad()
def perplexity(model, chunks) -> dict:
    nll, count = 0.0, 0
    for inputs, targets in chunks:
        logp = torch.log_softmax(logits_of(model, inputs), dim=-1)
        nll -= logp[torch.arange(len(targets)), torch.tensor(targets)].sum().item()
        count += len(targets)
    return {"n_chunks": len(chunks), "n_scored": count, "mean_nll": nll / count, "perplexity": math.exp(nll / count)}


@torch.no_grad()
def perplexity_cli_style(model, ids, ctx: int, bos: int) -> dict:
    """`bitnet perplexity --ctx ctx`'s protocol: BOS + the whole text, cut into consecutive
    windows of ctx tokens (the last may be shorter), each evaluated from an empty context;
    every token of a window after its first is scored."""
    tokens = [bos] + [int(t) for t in ids]
    nll, count = 0.0, 0
    for begin in range(0, len(tokens) - 1, ctx):
        window = tokens[begin : begin + ctx]
        if len(window) < 2:
            continue
        logp = torch.log_softmax(logits_of(model, window), dim=-1)
        nll -= logp[torch.arange(len(window) - 1), torch.tensor(window[1:])].sum().item()
        count += len(window) - 1
    return {"ctx": ctx, "n_scored": count, "mean_nll": nll / count, "perplexity": math.exp(nll / count)}


@torch.no_grad()
def logit_windows(model, chunks) -> list[dict]:
    out = []
    for inputs, targets in chunks[:N_LOGIT_CHUNKS]:
        logits = logits_of(model, inputs)
        top = torch.topk(logits, TOP_K, dim=-1)
        out.append({
            "tokens": inputs,
            "targets": targets,
            "top_ids": top.indices.tolist(),
            "top_logits": [[round(v, 6) for v in row] for row in top.values.tolist()],
            "target_logit": [round(logits[i, t].item(), 6) for i, t in enumerate(targets)],
            "logsumexp": [round(v, 6) for v in torch.logsumexp(logits, dim=-1).tolist()],
        })
    return out


@torch.no_grad()
def greedy(model, tok, bos: int) -> list[dict]:
    out = []
    for prompt in PROMPTS:
        ids = [bos] + tok.encode(prompt).ids
        generated, margins = [], []
        seq = list(ids)
        for _ in range(N_GREEDY):
            last = logits_of(model, seq)[-1]
            top2 = torch.topk(last, 2)
            nxt = int(top2.indices[0])
            margins.append(round((top2.values[0] - top2.values[1]).item(), 6))
            generated.append(nxt)
            seq.append(nxt)
        out.append({"prompt": prompt, "prompt_ids": ids, "generated": generated, "margins": margins,
                    "text": tok.decode(generated, skip_special_tokens=False)})
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ckpt", default="tools/train/run/ckpt.pt")
    p.add_argument("--data", default="tools/train/data")
    p.add_argument("--model", default="models/bitnet-kjv-tiny.gguf")
    p.add_argument("--expected", default="tools/train/expected")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    data, expected = Path(args.data), Path(args.expected)
    expected.mkdir(parents=True, exist_ok=True)
    tok = load_tokenizer(data)
    bos = tok.token_to_id("<s>")
    model, step = exported_model(Path(args.ckpt))
    cfg = model.cfg
    tokenizer_json = json.loads((data / "tokenizer.json").read_text(encoding="utf-8"))
    description = (f"Tiny BitNet b1.58 model trained with quantization-aware training on the King James Bible "
                   f"(Debian bible-kjv-text), {step} steps; see tools/train/README.md")
    write_gguf(model, tokenizer_json, Path(args.model), "bitnet-kjv-tiny", description)
    print(f"wrote {args.model} ({Path(args.model).stat().st_size} bytes) from step {step}")

    held = encode_file(tok, data / "held_out.txt")
    (expected / "held_out_tokens.json").write_text(json.dumps([int(t) for t in held]))
    cases = [{"text": t, "ids": tok.encode(t).ids} for t in TOKENIZER_CASES]
    (expected / "tokenizer_cases.json").write_text(json.dumps(cases, indent=1, ensure_ascii=False) + "\n")
    chunks = eval_chunks(held, cfg.n_ctx, bos)
    ppl = perplexity(model, chunks)
    ppl.update({"n_ctx": cfg.n_ctx, "n_vocab": cfg.n_vocab, "bos": bos, "step": step,
                "protocol": "held-out ids in consecutive chunks of n_ctx (tail dropped); each fed as "
                            "BOS + chunk[:-1]; every chunk token scored",
                "cli": [perplexity_cli_style(model, held, ctx, bos) for ctx in (cfg.n_ctx, 512)]})
    (expected / "perplexity.json").write_text(json.dumps(ppl, indent=1) + "\n")
    print(f"held-out perplexity {ppl['perplexity']:.4f} (mean nll {ppl['mean_nll']:.4f}, {ppl['n_scored']} tokens)")
    (expected / "logits.json").write_text(json.dumps({"top_k": TOP_K, "windows": logit_windows(model, chunks)}))
    runs = greedy(model, tok, bos)
    (expected / "greedy.json").write_text(json.dumps(runs, indent=1) + "\n")
    for r in runs:
        print(f"--- {r['prompt']!r} (min margin {min(r['margins']):.4f})\n{r['prompt']}{r['text']}")


if __name__ == "__main__":
    main()
