"""A small GPT-2-style byte-level BPE vocabulary for synthetic test models.

Layout (same as the golden models): ids 0..255 are the single bytes (byte b is token b,
spelled with GPT-2's byte-to-unicode map, e.g. space = 'Ġ'), then one token per BPE merge
learned on the built-in English text below, then '<s>' (BOS) and '</s>' (EOS) as control
tokens. When the text runs out of pairs worth merging (large vocabularies such as
2B4T's 128256), deterministic filler merges extend existing tokens by one letter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TOKEN_TYPE_NORMAL = 1
TOKEN_TYPE_CONTROL = 3

TRAINING_TEXT = """\
The lighthouse keeper climbed the narrow stairs every evening before the sun went down.
He carried a small can of oil, a cloth, and a notebook in which he wrote the weather,
the ships he saw, and anything else that seemed worth remembering. On clear nights the
beam reached far across the water, and the fishermen said they could find their way home
by it even when the fog came in from the north. In the winter the wind was so strong that
the windows rattled in their frames, and the keeper would sit by the stove and read old
letters from his sister, who lived in the city and worked at a bakery near the station.
She wrote about the people who came in each morning: the teacher who always wanted two
rolls, the young man who counted his coins twice, the woman with the red umbrella who
never said a word. He liked to imagine them walking past the shop windows in the rain.
When spring arrived, the keeper painted the door a bright blue and planted potatoes,
onions and beans in the garden behind the tower. Birds returned to the rocks, and for a
few weeks the island was loud with their calls. Visitors sometimes came on the ferry to
see the light, and he showed them the great lens, explaining how it gathered the weak
flame into a single strong beam. Children asked whether he was lonely. He told them that
a person who watches the sea is never truly alone, because the sea is always changing and
always has something new to say. Then he gave them each a shell from the beach and walked
them back to the pier, where the ferry waited with its engine running.
Years later, when the light was finally automated, the keeper moved to the city and
opened a small shop next to his sister's bakery. He sold maps, compasses and books about
the ocean, and on the wall behind the counter he hung a picture of the old tower at dusk.
Many customers asked about it, and he was always happy to tell them the story of the
island, the storms, the birds and the long quiet nights with the lamp turning above him.
Numbers mattered to him too: 12 steps to the first landing, 96 to the top, 365 entries
in a good year of the notebook, and 1,024 ships counted in the busiest season of all.
His sister laughed at the way he still wrote down the weather every morning, even though
no ship depended on it any more. "Old habits keep a man steady," he answered, and went on
writing. In the evenings they walked together along the harbour, watching the boats come
in and talking about their parents, the house where they had grown up, and the river that
flooded every spring. Sometimes they stopped at the little theatre by the square, where a
company of students performed plays about sailors, kings and clever servants. The keeper
always sat in the front row and clapped louder than anyone else. When people asked him what
he missed most about the island, he said it was not the light or the storms, but the sound
of the bell on the buoy, ringing softly with each wave, as steady as a heartbeat through
the long dark hours before morning.
"""

# Chunks shaped like GPT-2's pre-tokenizer (ASCII-only is enough for the built-in text).
_CHUNK = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+")


def bytes_to_unicode() -> list[str]:
    """GPT-2's reversible byte -> printable character map, indexed by byte value."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    mapping = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + extra)
            extra += 1
    return [mapping[b] for b in range(256)]


@dataclass(frozen=True)
class Vocab:
    tokens: list[str]
    token_types: list[int]
    merges: list[str]
    bos_id: int
    eos_id: int


def _learn_merges(text: str, limit: int, byte_chars: list[str]) -> list[tuple[str, str]]:
    counts: dict[tuple[str, ...], int] = {}
    for chunk in _CHUNK.findall(text):
        word = tuple(byte_chars[b] for b in chunk.encode("utf-8"))
        counts[word] = counts.get(word, 0) + 1
    words = list(counts.items())
    merges: list[tuple[str, str]] = []
    while len(merges) < limit:
        pairs: dict[tuple[str, str], int] = {}
        for word, n in words:
            for pair in zip(word, word[1:]):
                pairs[pair] = pairs.get(pair, 0) + n
        if not pairs:
            break
        # Highest count wins; ties go to the lexicographically smallest pair (determinism).
        best, best_count = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        if best_count < 2:
            break
        merges.append(best)
        joined = best[0] + best[1]
        new_words = []
        for word, n in words:
            out: list[str] = []
            i = 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(joined)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            new_words.append((tuple(out), n))
        words = new_words
    return merges


def build_vocab(n_vocab: int) -> Vocab:
    """Vocabulary of exactly n_vocab tokens (n_vocab >= 258)."""
    if n_vocab < 258:
        raise ValueError(f"n_vocab must be at least 258 (256 bytes + BOS + EOS), got {n_vocab}")
    byte_chars = bytes_to_unicode()
    n_merges = n_vocab - 258
    merges = _learn_merges(TRAINING_TEXT, n_merges, byte_chars)
    tokens = list(byte_chars) + [a + b for a, b in merges]
    known = set(tokens)
    if len(known) != len(tokens):
        raise AssertionError("learned merges produced a duplicate token")
    # Filler: extend tokens in id order by one lowercase letter until the size is reached.
    letters = [byte_chars[c] for c in b"abcdefghijklmnopqrstuvwxyz"]
    base = 256
    while len(merges) < n_merges:
        stem = tokens[base]
        base += 1
        for letter in letters:
            if len(merges) == n_merges:
                break
            candidate = stem + letter
            if candidate not in known:
                known.add(candidate)
                merges.append((stem, letter))
                tokens.append(candidate)
    tokens += ["<s>", "</s>"]
    types = [TOKEN_TYPE_NORMAL] * (n_vocab - 2) + [TOKEN_TYPE_CONTROL] * 2
    return Vocab(tokens, types, [f"{a} {b}" for a, b in merges], n_vocab - 2, n_vocab - 1)
