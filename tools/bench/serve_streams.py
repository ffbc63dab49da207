#!/usr/bin/env python3
"""Throughput of `bitnet serve` under concurrent streams, measured with the official `openai`
client: S clients each stream one completion of N tokens (ignore_eos-like: a prompt and
max_tokens large enough, temperature 1) at the same time; prints aggregate and per-stream
tokens/s and the time to first token for S in the list.

    python3 tools/bench/serve_streams.py -m /tmp/models/2b4t-i2_s.gguf --parallel 8 -s 1,2,4,8 -n 64
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time

import openai

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "server"))
from conftest import Server  # noqa: E402


def one_stream(client: openai.OpenAI, tokens: int, seed: int, out: list, index: int) -> None:
    asked = time.time()
    first = None
    count = 0
    for chunk in client.completions.create(model="m", prompt="The history of the world", max_tokens=tokens,
                                           temperature=1.0, seed=seed, stream=True,
                                           stream_options={"include_usage": True}):
        if chunk.choices and chunk.choices[0].text:
            if first is None:
                first = time.time()
        if chunk.usage:
            count = chunk.usage.completion_tokens
    done = time.time()
    out[index] = (asked, first or done, done, count)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("-m", "--model", required=True)
    p.add_argument("--parallel", type=int, default=8)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("-s", "--streams", default="1,2,4,8")
    p.add_argument("-n", "--tokens", type=int, default=64)
    p.add_argument("-r", "--repetitions", type=int, default=2)
    args = p.parse_args()
    server = Server("--parallel", str(args.parallel), "--ctx", "1024", "--threads", str(args.threads), model=args.model)
    try:
        client = openai.OpenAI(base_url=server.base + "/v1", api_key="x", max_retries=0, timeout=600)
        results: dict[int, list] = {}
        warm: list = [None]
        one_stream(client, 8, 0, warm, 0)
        for streams in [int(s) for s in args.streams.split(",")]:
            for repetition in range(args.repetitions):
                out: list = [None] * streams
                threads = [threading.Thread(target=one_stream, args=(client, args.tokens, 100 * repetition + i, out, i))
                           for i in range(streams)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                start = min(o[0] for o in out)
                end = max(o[2] for o in out)
                tokens = sum(o[3] for o in out)
                ttft = [o[1] - o[0] for o in out]
                per_stream = [o[3] / (o[2] - o[1]) if o[2] > o[1] else 0 for o in out]
                results.setdefault(streams, []).append((tokens / (end - start), statistics.mean(per_stream),
                                                        statistics.median(ttft)))
        base = statistics.median(r[0] for r in results[min(results)])
        print("| streams | aggregate tok/s | × one stream | per-stream tok/s (after its first token) | median ttft ms |")
        print("|---:|---:|---:|---:|---:|")
        for streams, rows in sorted(results.items()):
            aggregate = statistics.median(r[0] for r in rows)
            print(f"| {streams} | {aggregate:.1f} | {aggregate / base:.2f} | {statistics.median(r[1] for r in rows):.1f} "
                  f"| {statistics.median(r[2] for r in rows) * 1000:.0f} |")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
