#!/usr/bin/env python3
"""Extracts the King James Bible from the Debian package `bible-kjv-text` and splits it.

    apt-get install -y bible-kjv-text      # brings the `bible` reader (package bible-kjv)
    python3 tools/train/prepare_data.py --out tools/train/data

The text is public domain. Layout of the output: one chapter per paragraph, a heading
line ("Genesis 1"), then one verse per line without its number, then a blank line.
Every 40th chapter (index % 40 == 17, about 2.5%) goes to held_out.txt, the rest to
train.txt: the held-out chapters are spread over the whole book, so they share the
training text's style but none of its verses.
"""

from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path

HELD_OUT_EVERY = 40
HELD_OUT_PHASE = 17

VERSE = re.compile(r"^\s+\d+ (.*)$")


def read_chapters() -> list[tuple[str, list[str]]]:
    raw = subprocess.run(["bible", "-l100000", "Gen1:1-Rev22:21"], check=True,
                         capture_output=True, text=True).stdout
    chapters: list[tuple[str, list[str]]] = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        m = VERSE.match(line)
        if m:
            if not chapters:
                raise ValueError(f"verse before any chapter heading: {line!r}")
            chapters[-1][1].append(" ".join(m.group(1).split()))
        else:
            chapters.append((line.strip(), []))
    return chapters


def format_chapter(heading: str, verses: list[str]) -> str:
    return heading + "\n" + "\n".join(verses) + "\n\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="tools/train/data")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    chapters = read_chapters()
    train, held = [], []
    for i, (heading, verses) in enumerate(chapters):
        (held if i % HELD_OUT_EVERY == HELD_OUT_PHASE else train).append(format_chapter(heading, verses))
    (out / "train.txt").write_text("".join(train), encoding="utf-8")
    (out / "held_out.txt").write_text("".join(held), encoding="utf-8")
    n_verses = sum(len(v) for _, v in chapters)
    print(f"{len(chapters)} chapters, {n_verses} verses: {len(train)} train, {len(held)} held-out chapters")


if __name__ == "__main__":
    main()
