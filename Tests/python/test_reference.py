"""Tests for reference.py (against the golden logits and BitLinear vectors) and compare.py."""

from __future__ import annotations

import json

import numpy as np
import pytest

import compare
import reference
from conftest import GOLDEN_MODELS


def golden_tokens(golden, model):
    return reference.read_tokens((golden / f"{model}.tokens.txt").read_text())


@pytest.mark.parametrize("numerics", ["paper", "float"])
@pytest.mark.parametrize("model", GOLDEN_MODELS)
def test_reproduces_golden_logits(golden, model, numerics):
    tokens = golden_tokens(golden, model)
    logits = reference.forward(golden / f"{model}.gguf", tokens, numerics).astype(np.float32)
    expected = np.fromfile(golden / f"{model}.{numerics}.f32", dtype="<f4").reshape(len(tokens), -1)
    assert logits.shape == expected.shape
    assert np.abs(logits - expected).max() <= 1e-4


def test_cli_writes_float32_logits(golden, tmp_path):
    model = "m2-bitnet-silu-tq2_0"
    out = tmp_path / "out.f32"
    rc = reference.main([str(golden / f"{model}.gguf"), "--tokens-file", str(golden / f"{model}.tokens.txt"),
                         "--numerics", "paper", "-o", str(out)])
    assert rc == 0
    assert out.read_bytes() == (golden / f"{model}.paper.f32").read_bytes()


def test_bitlinear_vectors(golden):
    meta = json.loads((golden / "m1.bitlinear.json").read_text())
    entries = meta["arrays"]
    blob = (golden / "m1.bitlinear.bin").read_bytes()
    arrays = {
        e["name"]: np.frombuffer(blob, dtype="<" + e["dtype"], count=int(np.prod(e["shape"])), offset=e["offset"]).reshape(e["shape"])
        for e in entries
    }
    model = reference.Model(golden / "m1-b158-relu2-i2_s.gguf")
    hp = model.hp
    readers = {"attn_in": ("attn_q", "attn_k", "attn_v"), "attn_sub": ("attn_output",),
               "ffn_in": ("ffn_gate", "ffn_up"), "ffn_sub": ("ffn_down",)}
    checked = 0
    for layer in range(hp.n_layer):
        for point, projections in readers.items():
            x = arrays[f"L{layer}.{point}.x"].astype(np.float64)
            q, s = reference.quantize_activations(x)
            assert np.array_equal(q, arrays[f"L{layer}.{point}.q"])
            assert np.allclose(s, arrays[f"L{layer}.{point}.s"], rtol=1e-6)
            for proj in projections:
                t = model.reader.raw_tensors[f"blk.{layer}.{proj}.weight"]
                w = model.tensor(t.name, (t.ne[1], t.ne[0]))
                y = reference.bitlinear(x, w, "paper")
                y_ref = arrays[f"L{layer}.{proj}.y"]
                assert np.abs(y - y_ref).max() <= 1e-5 * np.abs(y_ref).max()
                # float numerics must miss them: the vectors really test the quantization
                assert np.abs(reference.bitlinear(x, w, "float") - y_ref).max() > 1e-3 * np.abs(y_ref).max()
                checked += 1
    assert checked == 14


def test_storage_types_give_identical_logits(tmp_path, make_model):
    tokens = [510, 3, 300, 45, 45, 99, 257, 7]
    results = []
    for wtype, embtype in [("i2_s", "f16"), ("tq1_0", "q8_0"), ("tq2_0", "f32"), ("bf16", "f16")]:
        path = make_model(tmp_path / f"{wtype}.gguf", arch="bitnet", act="silu", wtype=wtype, embtype=embtype,
                          n_layer=1, seed=11)
        results.append(reference.forward(path, tokens, "paper"))
    for r in results[1:]:
        assert np.array_equal(r, results[0])


def test_causal_prefix_and_activation_matter(tmp_path, make_model):
    relu = make_model(tmp_path / "relu.gguf", arch="bitnet", act="relu2", wtype="f32", n_layer=1, seed=3)
    silu = make_model(tmp_path / "silu.gguf", arch="bitnet", act="silu", wtype="f32", n_layer=1, seed=3)
    tokens = [510, 40, 41, 42, 43, 44, 300, 301]
    full = reference.forward(relu, tokens, "float")
    prefix = reference.forward(relu, tokens[:5], "float")
    assert np.allclose(full[:5], prefix, rtol=0, atol=1e-9)
    assert np.abs(full - reference.forward(silu, tokens, "float")).max() > 0.1
    assert np.abs(full - reference.forward(relu, tokens, "paper")).max() > 1e-3


def test_scale_tensors_and_separate_output(tmp_path, make_model):
    plain = make_model(tmp_path / "plain.gguf", n_layer=1, seed=4)
    scaled = make_model(tmp_path / "scaled.gguf", n_layer=1, seed=4, scale_tensors=True)
    untied = make_model(tmp_path / "untied.gguf", n_layer=1, seed=4, separate_output=True)
    tokens = [510, 1, 2, 3]
    a = reference.forward(plain, tokens, "float")
    assert np.abs(a - reference.forward(scaled, tokens, "float")).max() > 1e-3
    assert np.abs(a - reference.forward(untied, tokens, "float")).max() > 1e-3

    # A scale tensor multiplies its projection's output: with every scale folded back into
    # the float weights by hand, the scaled model must give the plain model's numbers.
    model = reference.Model(scaled)
    original = model.tensor

    def unscaled(name, shape):
        if name.endswith(".scale"):
            return np.ones(1)
        w = original(name, shape)
        scale_name = name.replace(".weight", ".scale")
        return w * original(scale_name, (1,))[0] if model.has(scale_name) else w

    model.tensor = unscaled
    assert np.allclose(reference.forward_model(model, tokens, "float"), reference.forward(scaled, tokens, "float"), atol=1e-9)


def test_rejects_bad_tokens(tmp_path, make_model):
    path = make_model(tmp_path / "m.gguf", n_layer=1)
    with pytest.raises(ValueError):
        reference.forward(path, [0, 512], "paper")
    with pytest.raises(ValueError):
        reference.forward(path, [], "paper")
    with pytest.raises(ValueError):
        reference.forward(path, [1], "fast")


# MARK: - compare.py


def test_compare_reproduces_measurements(golden):
    measured = json.loads((golden / "measurements.json").read_text())["models"]
    for model in ("m1-bitnet-relu2-tq2_0", "m2-bitnet-silu-tq2_0"):
        paper = compare.load_logits(str(golden / f"{model}.paper.f32"), 512)
        for other, key in (("float", "paper_vs_float"), ("llamacpp", "llamacpp_vs_paper")):
            a = compare.load_logits(str(golden / f"{model}.{other}.f32"), 512)
            r = compare.compare(a, paper, 512, tie_eps=0.0)
            m = measured[model][key]
            assert r["n_pos"] == m["n_pos"] and r["argmax_agree"] == m["argmax_agree"]
            assert r["max_abs"] == pytest.approx(m["max_abs"], rel=1e-6)
            assert r["mean_abs"] == pytest.approx(m["mean_abs"], rel=1e-6)
            assert r["min_cos"] == pytest.approx(m["min_cos"], abs=1e-9)


def test_compare_metrics_and_exit_codes(tmp_path):
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(6, 10)).astype(np.float32)
    engine = ref.copy()
    engine[3] += 0.5  # positions 0..2 exact, then a difference
    top = np.argmax(ref[4])
    runner_up = np.argsort(ref[4])[-2]
    engine[4, runner_up] = ref[4, top] + 1.0  # engine picks the runner-up at position 4
    r = compare.compare(engine, ref, 10, tie_eps=0.0)
    assert r["exact_prefix"] == 3 and r["argmax_agree"] == 5
    assert r["max_abs"] == pytest.approx(max(0.5, ref[4, top] + 1.0 - ref[4, runner_up]), rel=1e-6)
    gap = float(ref[4, top] - ref[4, runner_up])
    assert compare.compare(engine, ref, 10, tie_eps=gap + 1e-6)["argmax_agree"] == 6
    a, b = tmp_path / "a.f32", tmp_path / "b.f32"
    engine.tofile(a)
    ref.tofile(b)
    assert compare.main([str(b), str(b), "--n-vocab", "10", "--max-abs", "0", "--min-argmax", "6"]) == 0
    assert compare.main([str(a), str(b), "--n-vocab", "10", "--max-abs", "0.1"]) == 1
    assert compare.main([str(a), str(b), "--n-vocab", "10", "--min-argmax", "6"]) == 1
    assert compare.main([str(a), str(b), "--n-vocab", "7"]) == 2
