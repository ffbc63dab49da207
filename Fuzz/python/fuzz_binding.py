#!/usr/bin/env python3
"""Atheris harness for the Python binding's argument conversion: every public
call gets arguments of random types and values (strings with NULs and lone
surrogates, bytes, huge and negative ints, NaN, nested containers, unknown
keywords). Each call must either work or raise an ordinary Python exception
(TypeError, ValueError, OverflowError, bitnet.BitnetError, ...); a crash of
the interpreter, a hang, or any other exception type is a finding.

    BITNET_LIBRARY=build/lib/libbitnet.so.0 python3 Fuzz/python/fuzz_binding.py [libFuzzer flags] [corpus]

make fuzz-python runs it; the model is the golden one in Tests/Fixtures."""
from __future__ import annotations

import math
import os
import sys

import atheris

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "bindings", "python"))

with atheris.instrument_imports():
    import bitnet

MODEL_PATH = os.path.join(REPO, "Tests", "Fixtures", "golden", "m1-b158-relu2-i2_s.gguf")
MODEL = bitnet.Model(MODEL_PATH)
# A small context with the stop policy: however large max_new_tokens is, a
# generation ends at 48 tokens.
CONTEXT = bitnet.Context(MODEL, n_ctx=48, n_threads=1)

# What the binding may raise for a bad argument.
EXPECTED = (TypeError, ValueError, OverflowError, KeyError, IndexError, UnicodeError, bitnet.BitnetError)

KEYWORDS = ["temperature", "top_k", "top_p", "min_p", "typical_p", "repetition_penalty", "repeat_last_n",
            "presence_penalty", "frequency_penalty", "seed", "max_new_tokens", "stop", "logit_bias",
            "ignore_eos", "add_bos", "parse_special", "stop_tokens", "preset", "capacity", "template",
            "grammar", "json_schema", "n_ctx", "n_batch", "n_threads", "kv_type", "logits_all",
            "prefix_cache_bytes", "overflow_policy", "n_keep", "use_mmap", "vocab_only", "validate_only",
            "lm_head_type", "use_huge_pages", "progress", "bogus_keyword"]


def value(fdp: atheris.FuzzedDataProvider, depth: int = 0):
    """One value of a random kind."""
    kind = fdp.ConsumeIntInRange(0, 15 if depth < 2 else 11)
    if kind == 0:
        return None
    if kind == 1:
        return fdp.ConsumeBool()
    if kind == 2:
        return fdp.ConsumeIntInRange(-4, 64)
    if kind == 3:
        return fdp.ConsumeInt(fdp.ConsumeIntInRange(1, 12))  # up to 96-bit ints, either sign
    if kind == 4:
        return fdp.ConsumeFloat()  # NaN, infinities, subnormals
    if kind == 5:
        return fdp.ConsumeRegularFloat()
    if kind == 6:
        return fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 24))
    if kind == 7:
        return fdp.ConsumeUnicode(fdp.ConsumeIntInRange(0, 24))  # may hold lone surrogates and NULs
    if kind == 8:
        return fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 24))
    if kind == 9:
        return "Hello\x00world"
    if kind == 10:
        return math.nan
    if kind == 11:
        return object()
    if kind == 12:
        return [value(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 4))]
    if kind == 13:
        return {value_key(fdp): value(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 3))}
    if kind == 14:
        return tuple(value(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 3)))
    return lambda *args: value(fdp, depth + 1)


def value_key(fdp: atheris.FuzzedDataProvider):
    choice = fdp.ConsumeIntInRange(0, 3)
    if choice == 0:
        return fdp.ConsumeIntInRange(-2, 600)  # logit_bias-like token ids
    if choice == 1:
        return fdp.PickValueInList(["role", "content", "user", "system"])
    return fdp.ConsumeUnicodeNoSurrogates(8)


def keywords(fdp: atheris.FuzzedDataProvider) -> dict:
    out = {}
    for _ in range(fdp.ConsumeIntInRange(0, 5)):
        out[fdp.PickValueInList(KEYWORDS)] = value(fdp)
    if "max_new_tokens" in out and isinstance(out["max_new_tokens"], int) and not isinstance(out["max_new_tokens"], bool):
        out["max_new_tokens"] = max(-2, min(out["max_new_tokens"], 24))  # keep executions short
    return out


def call(fdp: atheris.FuzzedDataProvider) -> None:
    op = fdp.ConsumeIntInRange(0, 14)
    if op == 0:
        CONTEXT.generate(value(fdp), **keywords(fdp))
    elif op == 1:
        for _ in CONTEXT.stream(value(fdp), **keywords(fdp)):
            pass
    elif op == 2:
        CONTEXT.tokenize(value(fdp), **keywords(fdp))
    elif op == 3:
        CONTEXT.detokenize(value(fdp))
    elif op == 4:
        CONTEXT.eval(value(fdp))
    elif op == 5:
        CONTEXT.logits(value(fdp))
    elif op == 6:
        CONTEXT.truncate(value(fdp))
    elif op == 7:
        CONTEXT.warm(value(fdp))
    elif op == 8:
        CONTEXT.load_state(value(fdp))
    elif op == 9:
        CONTEXT.chat(value(fdp), **keywords(fdp))
    elif op == 10:
        MODEL.tokenize(value(fdp), **keywords(fdp))
    elif op == 11:
        MODEL.meta(value(fdp))
    elif op == 12:
        bitnet.Context(MODEL, **keywords(fdp)).close()
    elif op == 13:
        path = value(fdp)
        bitnet.Model(path if fdp.ConsumeBool() else MODEL_PATH, **keywords(fdp)).close()
    else:
        CONTEXT.run(value(fdp), lambda text, info: value(fdp), **keywords(fdp))


# FUZZ_TRIAGE=1: print each distinct unexpected exception (type and the
# binding's frame) once and go on, instead of stopping at the first.
TRIAGE = os.environ.get("FUZZ_TRIAGE") == "1"
SEEN: set = set()


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    for _ in range(fdp.ConsumeIntInRange(1, 4)):
        try:
            call(fdp)
        except EXPECTED:
            pass
        except Exception as error:  # noqa: BLE001 - a finding, unless triaging
            if not TRIAGE:
                raise
            import traceback
            frames = [f for f in traceback.extract_tb(error.__traceback__) if "bindings/python" in f.filename]
            where = f"{frames[-1].filename.split('/')[-1]}:{frames[-1].lineno} {frames[-1].line}" if frames else "?"
            key = (type(error).__name__, where)
            if key not in SEEN:
                SEEN.add(key)
                print(f"FINDING {key[0]}: {error} at {where}", flush=True)
    CONTEXT.reset()


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
