"""Issue 17 acceptance on the family fixtures in Tests/Fixtures/families: tiny random
checkpoints of the real Hugging Face classes, converted by the real converters, with
transformers' own logits as reference (see that folder's README).

Rule (the manifest's `tolerance`): per family and GGUF, per-token argmax agreement with
the numerics-matched reference >= 97% over 16 prompts x 32 positions, a position whose
reference top-2 margin is below 0.25 logit counting as a tie (agreeing)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from capi import KV_F32, Engine
from conftest import FIXTURES

FAMILIES = FIXTURES / "families"
MANIFESTS = sorted(FAMILIES.glob("*.json"))
CASES = [(m, g["file"]) for m in MANIFESTS for g in json.loads(m.read_text())["gguf"]]


def read_top(path: Path) -> dict[tuple[int, int], tuple[int, float]]:
    rows = path.read_text().splitlines()[1:]
    out = {}
    for row in rows:
        prompt, position, top1, _top2, margin = row.split("\t")
        out[(int(prompt), int(position))] = (int(top1), float(margin))
    return out


def engine_logits(lib, path: Path, prompts: list[list[int]], n_vocab: int) -> np.ndarray:
    out = []
    for tokens in prompts:
        with Engine(lib, path, kv=KV_F32) as engine:
            out.append(engine.eval(tokens, n_vocab))
    return np.array(out)  # [prompt][position][vocab]


@pytest.mark.skipif(not CASES, reason="no family fixtures in Tests/Fixtures/families")
@pytest.mark.parametrize("manifest,gguf", CASES, ids=[g for _, g in CASES])
def test_family_fixture_argmax_agreement(lib, manifest: Path, gguf: str):
    spec = json.loads(manifest.read_text())
    n_vocab = spec["dims"]["n_vocab"]
    prompts = [[int(t) for t in line.split()] for line in (FAMILIES / spec["tokens"]).read_text().splitlines() if line.strip()]
    ours = engine_logits(lib, FAMILIES / gguf, prompts, n_vocab)
    tolerance = spec["tolerance"]
    results = {}
    for name, ref in spec["references"].items():
        top = read_top(FAMILIES / ref["top"])
        agree = ties = 0
        for (p, pos), (top1, margin) in top.items():
            if margin < tolerance["tie_margin"]:
                ties += 1
                agree += 1
            elif int(np.argmax(ours[p, pos])) == top1:
                agree += 1
        results[name] = (agree / len(top), ties)
        if "logits" in ref:
            expected = np.fromfile(FAMILIES / ref["logits"], dtype="<f4").reshape(ours.shape)
            diff = np.abs(ours - expected)
            print(f"{gguf} vs {name} logits: max |d| {diff.max():.4f}, mean |d| {diff.mean():.4f}")
    print(gguf, {k: f"{v[0]:.4f} ({v[1]} ties)" for k, v in results.items()})
    fraction, _ = results[tolerance["against"]]
    assert fraction >= tolerance["argmax_agreement_min"], results
