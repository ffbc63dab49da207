#!/usr/bin/env python3
"""Builds the two 1 MB tokenizer benchmark texts from files already on this machine.

english.txt: the Rust release notes and CPython's IDLE NEWS (English prose with code).
mixed.txt:   vim's message catalogs (msgunfmt) in Russian, Japanese, Chinese,
             Korean, Ukrainian, Vietnamese, Greek-free European languages...:
             each entry pairs the English msgid with its translation.
english.txt and mixed.txt are cut to exactly 1,000,000 bytes at a character boundary (backing off
over a partial UTF-8 sequence). Usage: make_corpora.py OUTDIR
"""
import glob, os, subprocess, sys

def first_existing(patterns):
    for p in patterns:
        hits = sorted(glob.glob(p))
        if hits:
            return hits[0]
    raise SystemExit("none of %s exists" % patterns)

def cut(data: bytes, size=1_000_000) -> bytes:
    data = data[:size]
    while data and (data[-1] & 0xC0) == 0x80:
        data = data[:-1]
    if data and data[-1] >= 0xC0:
        data = data[:-1]
    return data.decode("utf-8").encode("utf-8")

out = sys.argv[1]
os.makedirs(out, exist_ok=True)

english = b""
for src in [first_existing(["/root/.rustup/toolchains/*/share/doc/rust/html/releases.md"]),
            first_existing(["/root/.pyenv/versions/*/lib/python3*/idlelib/NEWS.txt"])]:
    english += open(src, "rb").read()
while len(english) < 1_000_000:
    english += english
open(os.path.join(out, "english.txt"), "wb").write(cut(english))

mixed = ""
langs = ["ru", "ja", "zh_CN.UTF-8", "ko.UTF-8", "uk", "vi", "de", "fr", "pl.UTF-8", "tr", "zh_TW.UTF-8", "es", "cs", "sr"]
for lang in langs:
    mo = "/usr/share/vim/vim90/lang/%s/LC_MESSAGES/vim.mo" % lang
    if not os.path.exists(mo):
        continue
    raw = subprocess.run(["msgunfmt", mo], capture_output=True, check=True).stdout
    mixed += raw.decode("utf-8", errors="replace")
data = mixed.encode("utf-8")
while len(data) < 1_000_000:
    data += data
open(os.path.join(out, "mixed.txt"), "wb").write(cut(data))

# random.txt: ~300 KB of code points drawn from many blocks (assigned or not),
# some repeated, for the Hugging Face cross-check (compare_hf.py), not for speed.
import random
random.seed(5)
pools = [(0x20, 0x7E)] * 6 + [(0x09, 0x0D), (0xA0, 0x24F), (0x300, 0x36F), (0x370, 0x52F), (0x590, 0x6FF),
         (0x900, 0xDFF), (0x1000, 0x1FFF), (0x2000, 0x2BFF), (0x3000, 0x30FF), (0x4E00, 0x9FFF),
         (0xAC00, 0xD7A3), (0xF900, 0xFFFD), (0x10000, 0x1FFFF), (0x1F300, 0x1FAFF), (0x20000, 0x2FFFF),
         (0xE0000, 0xE01EF)]
parts, n = [], 0
while n < 300000:
    lo, hi = random.choice(pools)
    c = random.randint(lo, hi)
    if 0xD800 <= c <= 0xDFFF:
        continue
    s = chr(c) * random.choice([1, 1, 1, 2, 3])
    parts.append(s)
    n += len(s.encode())
open(os.path.join(out, "random.txt"), "w", encoding="utf-8").write("".join(parts))
