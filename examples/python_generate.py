"""The README's Python example: python3 python_generate.py MODEL.gguf
(with the package installed, or BITNET_LIBRARY set and bindings/python on PYTHONPATH)."""

import sys

import bitnet


def main(path: str) -> int:
    with bitnet.Model(path) as model, bitnet.Context(model, n_ctx=512) as ctx:
        print(ctx.generate("The ternary weights were", max_new_tokens=24, temperature=0))
        for chunk in ctx.stream("Once upon a time", max_new_tokens=24, seed=1):
            print(chunk, end="", flush=True)
        print(f"\n{ctx.last_result.n_generated} tokens, {ctx.last_result.generation_tokens_per_second:.0f} tok/s")

        def every_chunk(text: str, info: bitnet.ChunkInfo):
            print(text, end="")
            return bitnet.Action.PAUSE if info.n_generated % 8 == 0 else None

        result = ctx.run("A pause", every_chunk, max_new_tokens=24, temperature=0, ignore_eos=True)
        while result.paused:
            print(" [paused] ", end="")
            result = ctx.resume(every_chunk)
        print()
        print(ctx.chat([{"role": "user", "content": "Hello!"}], max_new_tokens=16, seed=2))
    try:
        bitnet.Model("missing.gguf")
    except bitnet.BitnetIOError as error:
        print("as expected:", error)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
