"""Malformed variants of each family (Tests/Fixtures/families/malformed, the fuzz seeds):
each is refused through the C API with a message naming the missing or wrong piece,
never a crash."""
from __future__ import annotations

import pytest

from capi import Engine
from conftest import FIXTURES

MALFORMED = FIXTURES / "families" / "malformed"
EXPECTED = {
    "qwen3.missing-qk-norm.gguf": "missing tensor blk.0.attn_k_norm.weight: arch qwen3 RMS-normalizes every query and key head",
    "qwen3.head-count-kv-3.gguf": "qwen3.attention.head_count 4 is not divisible by qwen3.attention.head_count_kv 3",
    "bitnet.missing-sub-norm.gguf": "missing tensor blk.0.ffn_sub_norm.weight",
    "llama.i2_s.scale-absent.gguf": "is I2_S, whose size includes a 32-byte float32 scale tail",
    "llama.not-ternary.gguf": "tensor blk.0.ffn_down.weight: weights are not ternary",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed_family_file_is_refused(lib, name):
    path = MALFORMED / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    with pytest.raises(RuntimeError) as info:
        Engine(lib, path)
    assert EXPECTED[name] in str(info.value), str(info.value)


def test_every_malformed_fixture_has_an_expectation():
    present = {p.name for p in MALFORMED.glob("*.gguf")}
    assert present <= set(EXPECTED), present - set(EXPECTED)
