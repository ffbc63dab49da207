#!/usr/bin/env python3
"""llama.cpp's prompt and generation speed at depth, the way `llama-bench -d D` measures them:
D tokens are evaluated (untimed) first, once per depth, then a P-token prompt is timed (ppP@dD),
and, after the same D tokens, N tokens generated one llama_decode at a time (tgN@dD). Each run
drops its own positions again (llama_memory_seq_rm), as `bitnet bench --depth` truncates.
For BENCHMARKS.md ("Generation at depth"), beside `bitnet bench --depth`.

    pip install llama-cpp-python==0.3.36      # builds llama.cpp
    python3 tools/bench/llama_cpp_depth.py MODEL.gguf -d 0,1024,2048,4096 -p 64 -n 32 -t 2

MODEL must be one llama.cpp loads (e.g. `make_model.py --preset 2b4t --arch bitnet --wtype tq2_0`).
The KV cache is f16, llama.cpp's default, as bitnet's.
"""
from __future__ import annotations

import argparse
import random
import statistics
import time

import llama_cpp as L


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("-d", "--depth", default="0,1024,2048,4096")
    p.add_argument("-p", "--prompt", type=int, default=64, help="0 skips the prompt test")
    p.add_argument("-n", "--tokens", type=int, default=32, help="0 skips the generation test")
    p.add_argument("-t", "--threads", type=int, default=2)
    p.add_argument("-r", "--repetitions", type=int, default=2)
    p.add_argument("-b", "--batch", type=int, default=512)
    args = p.parse_args()
    depths = [int(d) for d in args.depth.split(",")]
    L.llama_backend_init()
    model = L.llama_model_load_from_file(args.model.encode(), L.llama_model_default_params())
    vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(model))
    cparams = L.llama_context_default_params()
    cparams.n_ctx = max(depths) + max(args.prompt, args.tokens) + 8
    cparams.n_batch = cparams.n_ubatch = args.batch
    cparams.n_threads = cparams.n_threads_batch = args.threads
    ctx = L.llama_init_from_model(model, cparams)
    batch = L.llama_batch_init(args.batch, 0, 1)
    rng = random.Random(7)

    def decode(tokens: list[int], start: int) -> None:
        """Evaluates tokens at positions start..., in batches of n_batch, logits of the last only."""
        for at in range(0, len(tokens), args.batch):
            piece = tokens[at:at + args.batch]
            batch.n_tokens = len(piece)
            for i, token in enumerate(piece):
                batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, start + at + i, 1
                batch.seq_id[i][0] = 0
                batch.logits[i] = at + i == len(tokens) - 1
            assert L.llama_decode(ctx, batch) == 0

    def fill(depth: int) -> None:
        L.llama_memory_clear(L.llama_get_memory(ctx), True)
        if depth:
            decode([rng.randrange(vocab) for _ in range(depth)], 0)

    print(f"| test | t/s | (llama.cpp, {args.threads} threads, median of {args.repetitions} after a warm-up) |")
    print("|---|---:|---|")
    for depth in depths:
        suffix = f"@d{depth}" if depth else ""
        tests = []
        if args.prompt:
            tests.append((f"pp{args.prompt}{suffix}", args.prompt, False))
        if args.tokens:
            tests.append((f"tg{args.tokens}{suffix}", args.tokens, True))
        fill(depth)  # once per depth: each run below drops its own positions again
        for name, count, one_at_a_time in tests:
            speeds = []
            for _ in range(args.repetitions + 1):  # the first is a warm-up
                L.llama_memory_seq_rm(L.llama_get_memory(ctx), 0, depth, -1)
                tokens = [rng.randrange(vocab) for _ in range(count)]
                start = time.perf_counter()
                if one_at_a_time:
                    for i, token in enumerate(tokens):
                        decode([token], depth + i)
                else:
                    decode(tokens, depth)
                speeds.append(count / (time.perf_counter() - start))
            print(f"| {name} | {statistics.median(speeds[1:]):.2f} | |", flush=True)
    L.llama_batch_free(batch)
    L.llama_free(ctx)
    L.llama_model_free(model)


if __name__ == "__main__":
    main()
