#!/usr/bin/env python3
"""Generation speed at several depths measured side by side: one context per depth (filled with
D random tokens first, untimed), then tokens decoded one at a time, one per depth in turn, each
eval timed, so every depth sees the same state of the host. Each context decodes positions
D..D+N-1 and then drops them again (truncate to D), as `bitnet bench --depth D -n N` does.

Prints each depth's median ms per token and tok/s, and its speed as a share of the first depth's,
with the first and third quartiles of that share taken over the rounds (a round: one token of
every depth). This is the ratio #18's targets are written in; on a host whose bandwidth drifts
(BENCHMARKS.md, "Generation at depth"), `bitnet bench`'s rows come tens of seconds apart and the
ratio of two rows moves with the host, while here the tokens of a round are milliseconds apart.

    make build    # the library this loads
    BITNET_LIBRARY=build/lib/libbitnet.so.0 python3 tools/bench/depth_interleaved.py \\
        MODEL.gguf -d 0,2048,4096 -n 32 --rounds 256 -t 2

The contexts' thread pools are separate: an idle pool spins for a bounded time (ThreadPool's
spinIterations, well under a millisecond) before it sleeps, which the next context's token shares.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python"))
import bitnet  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("-d", "--depth", default="0,2048,4096", help="comma list; ratios are to the first")
    p.add_argument("-n", "--tokens", type=int, default=32, help="positions decoded per depth before truncating")
    p.add_argument("--rounds", type=int, default=256, help="tokens timed per depth")
    p.add_argument("-t", "--threads", type=int, default=2)
    p.add_argument("--kv", default="f16", help="KV cache type (f16, f32, q8)")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    depths = [int(d) for d in args.depth.split(",")]
    if not depths or min(depths) < 0 or args.tokens < 1 or args.rounds < 4 or args.threads < 1:
        p.error("depths must be >= 0, --tokens >= 1, --rounds >= 4, --threads >= 1")

    model = bitnet.Model(args.model)
    rng = random.Random(args.seed)
    vocab = model.info.n_vocab
    contexts = []
    for depth in depths:
        ctx = bitnet.Context(model, n_ctx=depth + args.tokens + 8, n_threads=args.threads, kv_type=args.kv)
        started = time.perf_counter()
        if depth:
            ctx.eval([rng.randrange(vocab) for _ in range(depth)])
        print(f"depth {depth}: filled in {time.perf_counter() - started:.1f} s", flush=True)
        contexts.append(ctx)

    times: list[list[float]] = [[] for _ in depths]
    for _ in range(args.rounds):
        for index, (depth, ctx) in enumerate(zip(depths, contexts)):
            if ctx.n_past >= depth + args.tokens:
                ctx.truncate(depth)
            token = rng.randrange(vocab)
            started = time.perf_counter()
            ctx.eval([token])
            times[index].append(time.perf_counter() - started)

    base = times[0]
    print(f"{args.rounds} rounds, {args.threads} threads, kv {args.kv}, tokens at D..D+{args.tokens - 1}")
    print("| depth | ms per token (median) | tok/s | share of depth %d (median) | q1–q3 |" % depths[0])
    print("|---:|---:|---:|---:|---:|")
    for depth, series in zip(depths, times):
        shares = sorted(b / t for b, t in zip(base, series))
        q1, q3 = shares[len(shares) // 4], shares[(3 * len(shares)) // 4]
        ms = statistics.median(series) * 1e3
        print(f"| {depth} | {ms:.2f} | {1e3 / ms:.2f} | {statistics.median(shares):.3f} | {q1:.3f}–{q3:.3f} |")


if __name__ == "__main__":
    main()
