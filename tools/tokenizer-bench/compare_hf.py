"""Cross-checks `bitnet tokenize` against Hugging Face `tokenizers` on whole files.

The HF tokenizer is rebuilt from the GGUF vocabulary itself (tokens, merges, the
pre-tokenizer regex, ignore_merges for Llama 3), so nothing is downloaded.
Needs `pip install tokenizers gguf`. Usage:
  BITNET_CLI=.build/release/bitnet-cli VOCAB=Tests/Fixtures/vocab \
  python3 compare_hf.py llama-bpe|gpt-2 FILE...
"""
import os, sys, gguf, subprocess
CLI = os.environ.get("BITNET_CLI", ".build/release/bitnet-cli")
VOCAB = os.environ.get("VOCAB", "Tests/Fixtures/vocab")
from tokenizers import Tokenizer, Regex, models, pre_tokenizers, decoders
LLAMA3 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
name, pattern, ignore = sys.argv[1], {"llama-bpe": LLAMA3, "gpt-2": GPT2}[sys.argv[1]], sys.argv[1] == "llama-bpe"
r = gguf.GGUFReader(f"{VOCAB}/ggml-vocab-{name}.gguf")
def strings(key):
    f = r.fields[key]
    return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
tokens = strings("tokenizer.ggml.tokens")
merges = [tuple(m.split(" ", 1)) for m in strings("tokenizer.ggml.merges")]
vocab = {}
for i, t in enumerate(tokens):
    vocab.setdefault(t, i)
tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=ignore))
tok.pre_tokenizer = pre_tokenizers.Sequence([
    pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
tok.decoder = decoders.ByteLevel()
for path in sys.argv[2:]:
    text = open(path, "rb").read().decode("utf-8")
    expected = tok.encode(text, add_special_tokens=False).ids
    ours = subprocess.run([CLI, "tokenize", "-m", f"{VOCAB}/ggml-vocab-{name}.gguf",
                           "--ids-only", "--file", path], capture_output=True, check=True).stdout.split()
    ours = [int(x) for x in ours]
    same = ours == expected
    print(name, path, "tokens", len(expected), len(ours), "IDENTICAL" if same else "DIFFER")
    if not same:
        k = next(i for i in range(min(len(ours), len(expected))) if ours[i] != expected[i]) if any(a != b for a, b in zip(ours, expected)) else min(len(ours), len(expected))
        print(" first difference at token", k, "hf:", expected[k-3:k+5], "ours:", ours[k-3:k+5])
        print(" hf text:", repr(tok.decode(expected[max(0,k-5):k+5])))
