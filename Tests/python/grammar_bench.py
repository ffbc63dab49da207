#!/usr/bin/env python3
"""End-to-end cost of constrained generation (BENCHMARKS.md, "Constrained generation").

    python3 Tests/python/grammar_bench.py MODEL.gguf [--tokens 128] [--rounds 3] [--threads 2]

Generates --tokens tokens after the same prompt, alternating an unconstrained run and one under
a JSON Schema with nested objects and arrays (same sampling chain: temperature 0.8, top-k 40,
top-p 0.95), and prints the generation time per token of each (medians over --rounds): their
difference is what the grammar stage adds to a decode step. Uses the library at $BITNET_LIBRARY
(default build/lib/libbitnet.so.0) through Tests/python/capi.py.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import capi  # noqa: E402

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 40},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "email": {"type": "string", "format": "email"},
        "address": {"type": "object", "properties": {
            "street": {"type": "string"}, "city": {"type": "string"},
            "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
            "required": ["street", "city"], "additionalProperties": False},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 20}, "maxItems": 8},
        "orders": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "total": {"type": "number", "minimum": 0},
            "items": {"type": "array", "items": {"type": "object", "properties": {
                "sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}},
                "required": ["sku", "qty"], "additionalProperties": False}}},
            "required": ["id", "total", "items"], "additionalProperties": False}},
    },
    "required": ["name", "age", "address", "tags", "orders"],
    "additionalProperties": False,
}
PROMPT = b"Customer record as JSON:"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    library = os.environ.get("BITNET_LIBRARY") or str(HERE.parents[1] / "build" / "lib" / "libbitnet.so.0")
    lib = capi.declare_generation(ctypes.CDLL(library))
    engine = capi.Engine(lib, args.model, kv=capi.KV_F16, n_ctx=args.tokens + 64, n_batch=64, threads=args.threads,
                         logits_all=False)
    schema = json.dumps(SCHEMA).encode()
    per_token: dict[str, list[float]] = {"unconstrained": [], "json schema": []}
    counts: dict[str, list[int]] = {"unconstrained": [], "json schema": []}
    sample_text = b""
    for round_index in range(args.rounds + 1):  # round 0 warms up (page cache, trie build)
        for mode in per_token:
            params = capi.GenerationParams()
            lib.bitnet_generation_params_init(ctypes.byref(params))
            params.temperature, params.top_k, params.top_p, params.seed = 0.8, 40, 0.95, 7 + round_index
            params.max_new_tokens, params.ignore_eos = args.tokens, 1
            if mode == "json schema":
                params.json_schema = schema
            pieces: list[bytes] = []
            fn = capi.STREAM_FN(lambda text, n, info, user: pieces.append(ctypes.string_at(text, n)) or 0)
            result = capi.GenerationResult()
            status = lib.bitnet_generate(engine.ctx, PROMPT, ctypes.byref(params), fn, None, ctypes.byref(result))
            if status != 0:
                raise SystemExit(f"{mode}: status {status}: {lib.bitnet_last_error().decode()}")
            if round_index == 0:
                if mode == "json schema":
                    sample_text = b"".join(pieces)
                continue
            per_token[mode].append(1000.0 / result.generation_tokens_per_second)
            counts[mode].append(result.n_generated)
    engine.close()
    base = statistics.median(per_token["unconstrained"])
    for mode, values in per_token.items():
        median = statistics.median(values)
        print(f"{mode:14s} {median:7.2f} ms/token (runs: {', '.join(f'{v:.2f}' for v in values)}; "
              f"tokens {counts[mode]})  {'+%.2f ms (%+.1f%%)' % (median - base, 100 * (median - base) / base) if mode != 'unconstrained' else ''}")
    print("sample output:", sample_text[:160])
    return 0


if __name__ == "__main__":
    sys.exit(main())
