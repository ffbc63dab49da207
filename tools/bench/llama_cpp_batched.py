#!/usr/bin/env python3
"""llama.cpp's batched decoding on the same model, the way llama-batched-bench measures S_TG:
S sequences each read a P-token prompt, then generate N tokens in lockstep, one llama_decode per
step carrying all S sequences' next tokens; aggregate t/s = S * N / decode time. For
BENCHMARKS.md ("Batched decoding"), beside `bitnet bench --sequences`.

    pip install llama-cpp-python==0.3.36      # builds llama.cpp
    python3 tools/bench/llama_cpp_batched.py MODEL.gguf -s 1,2,4,8,16 -n 32 -t 2

MODEL must be one llama.cpp loads (e.g. `make_model.py --preset 2b4t --arch bitnet --wtype tq2_0`).
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
    p.add_argument("-s", "--sequences", default="1,2,4,8,16")
    p.add_argument("-p", "--prompt", type=int, default=16)
    p.add_argument("-n", "--tokens", type=int, default=32)
    p.add_argument("-t", "--threads", type=int, default=2)
    p.add_argument("-r", "--repetitions", type=int, default=3)
    args = p.parse_args()
    counts = [int(s) for s in args.sequences.split(",")]
    most = max(counts)
    L.llama_backend_init()
    model = L.llama_model_load_from_file(args.model.encode(), L.llama_model_default_params())
    vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(model))
    cparams = L.llama_context_default_params()
    cparams.n_ctx = most * (args.prompt + args.tokens + 8)
    cparams.n_batch = cparams.n_ubatch = max(512, most * args.prompt)
    cparams.n_seq_max = most
    cparams.n_threads = cparams.n_threads_batch = args.threads
    ctx = L.llama_init_from_model(model, cparams)
    batch = L.llama_batch_init(max(most * args.prompt, most), 0, most)
    rng = random.Random(7)

    def submit(entries):  # [(token, position, sequence, wants_logits)]
        batch.n_tokens = len(entries)
        for i, (token, pos, seq, logits) in enumerate(entries):
            batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, pos, 1
            batch.seq_id[i][0] = seq
            batch.logits[i] = logits
        assert L.llama_decode(ctx, batch) == 0

    print(f"| sequences | aggregate t/s | per stream t/s | (llama.cpp, {args.threads} threads, prompt {args.prompt}, "
          f"{args.tokens} tokens, median of {args.repetitions}) |")
    print("|---:|---:|---:|---|")
    for s in counts:
        speeds = []
        for _ in range(args.repetitions + 1):  # the first is a warm-up
            L.llama_memory_clear(L.llama_get_memory(ctx), True)
            submit([(rng.randrange(vocab), i, seq, i == args.prompt - 1) for seq in range(s) for i in range(args.prompt)])
            start = time.perf_counter()
            for step in range(args.tokens):
                submit([(rng.randrange(vocab), args.prompt + step, seq, True) for seq in range(s)])
            speeds.append(s * args.tokens / (time.perf_counter() - start))
        aggregate = statistics.median(speeds[1:])
        print(f"| {s} | {aggregate:.1f} | {aggregate / s:.1f} | |")
    L.llama_batch_free(batch)
    L.llama_free(ctx)
    L.llama_model_free(model)


if __name__ == "__main__":
    main()
