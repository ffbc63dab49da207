"""Output / embedding types real files use (issue 17, part 4): Q6_K (bitnet.cpp's
--quant-embd), Q4_0, Q4_K, Q5_K, Q8_0, F16, BF16, F32, tied and separate, with the head
as stored and requantized to Q8_0 (the default where it can encode the head).

Reference: the float64 NumPy forward with the file's own (dequantized) head, so the
as-stored head is held to the usual tolerance and the Q8_0 head to that plus the
requantization error (8-bit values, one f16 scale per 32: about 0.4% of a row's
largest value per element)."""
from __future__ import annotations

import pytest

from capi import LM_HEAD_AS_STORED, LM_HEAD_Q8_0
from family_support import check_against_reference, tokens_for

N_VOCAB = 320
EMBTYPES = ("q6_k", "q4_0", "q4_k", "q5_k", "q8_0", "f16", "bf16", "f32")


@pytest.fixture(scope="module")
def models(tmp_path_factory, make_model):
    folder = tmp_path_factory.mktemp("head-models")
    out = {}
    for i, emb in enumerate(EMBTYPES):
        for separate in (False, True):
            name = f"{emb}-{'separate' if separate else 'tied'}"
            out[name] = make_model(folder / f"{name}.gguf", seed=80 + i, arch="llama", act="silu", wtype="tq2_0",
                                   embtype=emb, n_embd=256, n_head=4, n_head_kv=2, n_ff=512, n_layer=2,
                                   n_vocab=N_VOCAB, separate_output=separate, rope_theta=10000.0)
    return out


@pytest.mark.parametrize("head", ["stored", "q8_0"])
@pytest.mark.parametrize("name", [f"{e}-{s}" for e in EMBTYPES for s in ("tied", "separate")])
def test_head_types(lib, models, name, head):
    lm_head = LM_HEAD_AS_STORED if head == "stored" else LM_HEAD_Q8_0
    check_against_reference(lib, models[name], tokens_for(len(name), N_VOCAB, 24), N_VOCAB,
                            slack=0.0 if head == "stored" else 0.1, lm_head=lm_head)
