#!/usr/bin/env python3
"""llama.cpp's grammar sampling cost on the same model, for BENCHMARKS.md ("Constrained generation").

    pip install llama-cpp-python          # builds llama.cpp (version 0.3.36 was used)
    python3 Tests/python/grammar_bench_llama_cpp.py MODEL.gguf [--tokens 96] [--threads 2]

MODEL must be one llama.cpp loads (e.g. `make_model.py --preset 2b4t --arch bitnet --wtype tq2_0`).
The schema is grammar_bench.SCHEMA, turned into GBNF by llama.cpp's own converter (the Python
port shipped with llama-cpp-python). Per generated token, on the same logits, it times:
- the sampler chain alone (top-k 40, top-p 0.95, temperature 0.8, dist);
- the grammar sampler applied to the whole vocabulary first, then the chain (llama.cpp's sampler
  API with the grammar in the chain: a full mask every token);
- llama-server's way (common_sampler): sample with the chain, check that one token with the
  grammar, and only when it is rejected apply the grammar to the whole vocabulary and sample again.
The difference to the chain alone is the grammar's cost; then the grammar's token is decoded.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import llama_cpp as L
from llama_cpp.llama_grammar import LlamaGrammar

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grammar_bench import PROMPT, SCHEMA  # noqa: E402


def chain(seed: int, grammar=None):
    params = L.llama_sampler_chain_default_params()
    params.no_perf = True
    smpl = L.llama_sampler_chain_init(params)
    if grammar is not None:
        L.llama_sampler_chain_add(smpl, grammar)
    L.llama_sampler_chain_add(smpl, L.llama_sampler_init_top_k(40))
    L.llama_sampler_chain_add(smpl, L.llama_sampler_init_top_p(0.95, 1))
    L.llama_sampler_chain_add(smpl, L.llama_sampler_init_temp(0.8))
    L.llama_sampler_chain_add(smpl, L.llama_sampler_init_dist(seed))
    return smpl


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    return (f"median {ordered[len(ordered) // 2]:.3f} p95 {ordered[len(ordered) * 95 // 100]:.3f} "
            f"max {ordered[-1]:.3f} mean {statistics.mean(values):.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    gbnf = LlamaGrammar.from_json_schema(json.dumps(SCHEMA), verbose=False)._grammar
    L.llama_backend_init()
    model = L.llama_model_load_from_file(args.model.encode(), L.llama_model_default_params())
    vocab = L.llama_model_get_vocab(model)
    n_vocab = L.llama_vocab_n_tokens(vocab)
    cparams = L.llama_context_default_params()
    cparams.n_ctx, cparams.n_threads, cparams.n_threads_batch = args.tokens + 64, args.threads, args.threads
    ctx = L.llama_init_from_model(model, cparams)
    prompt = (L.llama_token * 64)()
    n = L.llama_tokenize(vocab, PROMPT, len(PROMPT), prompt, 64, True, False)
    assert L.llama_decode(ctx, L.llama_batch_get_one(prompt, n)) == 0

    for mode in ("grammar in the chain (full mask)", "llama-server (check the sampled token first)"):
        L.llama_memory_clear(L.llama_get_memory(ctx), True)
        assert L.llama_decode(ctx, L.llama_batch_get_one(prompt, n)) == 0
        plain = chain(7)
        grammar = L.llama_sampler_init_grammar(vocab, gbnf.encode(), b"root")
        full = chain(7, L.llama_sampler_init_grammar(vocab, gbnf.encode(), b"root"))
        fallback = chain(7)  # the chain applied after the grammar, for the server's slow path
        data = (L.llama_token_data * n_vocab)()
        one = (L.llama_token_data * 1)()
        base, constrained, decode, rejected, text = [], [], [], 0, b""
        for _ in range(args.tokens):
            t0 = time.perf_counter()
            L.llama_sampler_sample(plain, ctx, -1)
            base.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            if mode.startswith("grammar in"):
                token = L.llama_sampler_sample(full, ctx, -1)
            else:
                token = L.llama_sampler_sample(fallback, ctx, -1)
                logits = L.llama_get_logits_ith(ctx, -1)
                one[0].id, one[0].logit, one[0].p = token, logits[token], 0.0
                single = L.llama_token_data_array(one, 1, -1, False)
                L.llama_sampler_apply(grammar, ctypes.byref(single))
                if one[0].logit == -np.inf:
                    rejected += 1
                    array = np.ctypeslib.as_array(data)
                    view = np.ctypeslib.as_array(logits, shape=(n_vocab,))
                    array["id"] = np.arange(n_vocab, dtype=np.int32)
                    array["logit"] = view
                    array["p"] = 0
                    candidates = L.llama_token_data_array(data, n_vocab, -1, False)
                    L.llama_sampler_apply(grammar, ctypes.byref(candidates))
                    L.llama_sampler_apply(fallback, ctypes.byref(candidates))
                    token = data[candidates.selected].id
                L.llama_sampler_accept(grammar, token)
            constrained.append((time.perf_counter() - t0) * 1000)
            if L.llama_vocab_is_eog(vocab, token):
                break
            piece = ctypes.create_string_buffer(256)
            size = L.llama_token_to_piece(vocab, token, piece, 256, 0, True)
            text += piece.raw[:max(size, 0)]
            batch_token = (L.llama_token * 1)(token)
            t0 = time.perf_counter()
            assert L.llama_decode(ctx, L.llama_batch_get_one(batch_token, 1)) == 0
            decode.append((time.perf_counter() - t0) * 1000)
        extra = [c - b for c, b in zip(constrained, base)]
        print(f"[llama.cpp, {mode}] {len(decode)} tokens" + (f", {rejected} rejected" if rejected else ""))
        print(f"  decode step ms: {summary(decode)}")
        print(f"  chain alone ms: {summary(base)}")
        print(f"  with grammar ms: {summary(constrained)}")
        print(f"  grammar (difference) ms: {summary(extra)}")
        print(f"  text: {text[:160]!r}")
        for s in (plain, grammar, full, fallback):
            L.llama_sampler_free(s)
    L.llama_free(ctx)
    L.llama_model_free(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
