#!/usr/bin/env python3
"""Seed corpora for the fuzz harnesses: small generated models (every weight and
embedding type the generator writes) plus malformed variants of them (the
bad-input corpus: truncations, garbled header counts, flipped bytes).

    python3 Fuzz/make_seeds.py OUT_DIR FIXTURES_DIR

writes OUT_DIR/gguf/* and OUT_DIR/gguf_parse/*. State and C-API seeds are written by the harnesses'
own seed mode (they need the library to save a state)."""
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
make_model = os.path.join(here, "..", "Tests", "tools", "make_model.py")


def main():
    out, fixtures = sys.argv[1], sys.argv[2]
    gguf_dir = os.path.join(out, "gguf")
    os.makedirs(gguf_dir, exist_ok=True)
    # Tiny shapes keep each execution fast; the flags cover every code path of the loader.
    small = ["--n-layer", "1", "--n-head", "2", "--n-head-kv", "1", "--n-vocab", "260", "--seed", "7"]
    recipes = {
        "i2s": ["--wtype", "i2_s", "--n-embd", "128", "--n-ff", "256"],
        "tq1": ["--arch", "bitnet", "--wtype", "tq1_0", "--n-embd", "256", "--n-ff", "256"],
        "tq2-silu": ["--arch", "bitnet", "--act", "silu", "--wtype", "tq2_0", "--n-embd", "256", "--n-ff", "256"],
        "f16-q8emb": ["--arch", "bitnet", "--wtype", "f16", "--embtype", "q8_0", "--n-embd", "64", "--n-ff", "64"],
        "bf16-sep": ["--arch", "bitnet", "--wtype", "bf16", "--separate-output", "--n-embd", "64", "--n-ff", "64"],
        "f32-scale": ["--arch", "bitnet-25", "--wtype", "i2_s", "--scale-tensors", "--embtype", "f32",
                      "--n-embd", "128", "--n-ff", "128"],
        "q4k": ["--wtype", "i2_s", "--embtype", "q4_k", "--n-embd", "256", "--n-ff", "256"],
        "q6k": ["--wtype", "i2_s", "--embtype", "q6_k", "--n-embd", "256", "--n-ff", "256"],
    }
    for name, flags in recipes.items():
        path = os.path.join(gguf_dir, f"model-{name}.gguf")
        subprocess.run([sys.executable, make_model, "-o", path] + small + flags, check=True,
                       stdout=subprocess.DEVNULL)
    # The malformed corpus: variants of the smallest model.
    base = open(os.path.join(gguf_dir, "model-i2s.gguf"), "rb").read()
    variants = {
        "empty": b"",
        "magic-only": base[:4],
        "header-only": base[:24],
        "bad-magic": b"GGUX" + base[4:],
        "version-1": base[:4] + (1).to_bytes(4, "little") + base[8:],
        "version-99": base[:4] + (99).to_bytes(4, "little") + base[8:],
        "huge-tensor-count": base[:8] + (2**62).to_bytes(8, "little") + base[16:],
        "huge-kv-count": base[:16] + (2**62).to_bytes(8, "little") + base[24:],
        "cut-in-kv": base[:200],
        "cut-in-tensors": base[: len(base) // 3],
        "cut-last-byte": base[:-1],
    }
    for offset in (40, 64, 100, 333, 1000, len(base) // 2):
        flipped = bytearray(base)
        flipped[offset] ^= 0xFF
        variants[f"flip-{offset}"] = bytes(flipped)
    for name, data in variants.items():
        with open(os.path.join(gguf_dir, f"bad-{name}.gguf"), "wb") as f:
            f.write(data)
    # The parse-only harness's seeds: the smallest models of each layout and
    # head form (shapes only have to agree, so F16/F32/BF16 weights can be tiny),
    # and the malformed variants above.
    parse_dir = os.path.join(out, "gguf_parse")
    os.makedirs(parse_dir, exist_ok=True)
    tiny = ["--n-layer", "1", "--n-head", "2", "--n-head-kv", "1", "--n-vocab", "260", "--seed", "9"]
    parse_recipes = {  # ~11 KB each: the committed corpus keeps inputs up to 16 KiB
        "f16": ["--arch", "bitnet", "--wtype", "f16", "--embtype", "f16", "--n-embd", "8", "--n-ff", "8"],
        "f32-relu2": ["--arch", "bitnet-b1.58", "--wtype", "f32", "--embtype", "f16", "--n-embd", "8", "--n-ff", "8"],
        "bf16-sep-scale": ["--arch", "bitnet-25", "--wtype", "bf16", "--embtype", "bf16", "--separate-output",
                           "--scale-tensors", "--n-embd", "8", "--n-ff", "8"],
    }
    for name, flags in parse_recipes.items():
        path = os.path.join(parse_dir, f"tiny-{name}.gguf")
        subprocess.run([sys.executable, make_model, "-o", path] + tiny + flags, check=True,
                       stdout=subprocess.DEVNULL)
    for name in variants:
        with open(os.path.join(gguf_dir, f"bad-{name}.gguf"), "rb") as f, \
             open(os.path.join(parse_dir, f"bad-{name}.gguf"), "wb") as g:
            g.write(f.read()[:16384])
    # The model families' real-converter files and their malformed variants
    # (missing QK-norm, wrong head counts, missing sub-norm, I2_S scale tail
    # absent, non-ternary llama): whole for the deep harness, and their
    # headers (the first 32 KiB: metadata and tensor table) for the parse-only one.
    families = os.path.join(fixtures, "families")
    for sub in ("", "malformed"):
        folder = os.path.join(families, sub)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if not name.endswith(".gguf") or os.path.getsize(path) > 1 << 20:
                continue
            data = open(path, "rb").read()
            with open(os.path.join(gguf_dir, "family-" + name), "wb") as g:
                g.write(data)
            with open(os.path.join(parse_dir, "family-" + name), "wb") as g:
                g.write(data[:32768])
    # The golden models that are small enough to mutate quickly.
    for name in ("m1-b158-relu2-i2_s.gguf", "m1-bitnet-relu2-tq1_0.gguf"):
        src = os.path.join(fixtures, "golden", name)
        if os.path.exists(src):
            with open(src, "rb") as f, open(os.path.join(gguf_dir, "golden-" + name), "wb") as g:
                g.write(f.read())


if __name__ == "__main__":
    main()
