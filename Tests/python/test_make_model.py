"""Tests for the ternary packers, the k-quant quantizers and make_model.py."""

from __future__ import annotations

import hashlib
import itertools

import gguf
import numpy as np
import pytest
from gguf import GGMLQuantizationType

import kquants
import make_model as mm
import ternary_formats as tf
from gguf_io import RawGGUFReader, tensor_to_float64

LINEAR_PARTS = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")


def random_ternary(rng: np.random.Generator, rows: int, k: int) -> np.ndarray:
    return rng.integers(-1, 2, size=(rows, k)).astype(np.int8)


# MARK: - packers against the golden files


@pytest.mark.parametrize(
    "model, type_id",
    [("m1-b158-relu2-i2_s", tf.GGML_TYPE_I2_S), ("m1-bitnet-relu2-tq1_0", tf.GGML_TYPE_TQ1_0),
     ("m1-bitnet-relu2-tq2_0", tf.GGML_TYPE_TQ2_0)],
)
def test_packers_reproduce_golden_bytes(golden, model, type_id):
    plain = RawGGUFReader(golden / "m1-bitnet-relu2-f16.gguf").raw_tensors
    packed = RawGGUFReader(golden / f"{model}.gguf").raw_tensors
    names = [f"blk.{layer}.{part}.weight" for layer in range(2) for part in LINEAR_PARTS]
    for name in names:
        w = tensor_to_float64(plain[name])
        beta = float(np.abs(w).max())
        ternary = np.rint(w / beta).astype(np.int8)
        assert np.array_equal(ternary * beta, w), f"{name} is not ternary * beta"
        theirs = packed[name]
        assert theirs.ggml_type == type_id
        mine = tf.pack_ternary(type_id, ternary, beta)
        assert mine.tobytes() == bytes(theirs.data), f"{model} {name}: bytes differ"


# MARK: - packers on random data


@pytest.mark.parametrize("type_id", [tf.GGML_TYPE_TQ1_0, tf.GGML_TYPE_TQ2_0])
def test_tq_packers_match_gguf_py(type_id):
    rng = np.random.default_rng(7)
    t = random_ternary(rng, 5, 768)
    t[2, :256] = 0  # an all-zero block gets d = 0 in both
    beta = np.float16(0.0478)
    mine = tf.pack_ternary(type_id, t, float(beta))
    theirs = gguf.quants.quantize(t.astype(np.float32) * np.float32(beta), GGMLQuantizationType(type_id))
    assert mine.tobytes() == theirs.tobytes()
    assert np.array_equal(gguf.quants.dequantize(mine.reshape(5, -1), GGMLQuantizationType(type_id)),
                          t.astype(np.float32) * np.float32(beta))


@pytest.mark.parametrize("rows, k", [(1, 128), (3, 384), (7, 640)])
def test_i2s_round_trip(rows, k):
    rng = np.random.default_rng(rows * k)
    t = random_ternary(rng, rows, k)
    data = tf.pack_i2s(t, 0.0712890625)
    assert data.size == rows * k // 4 + 32
    assert not data[-28:].any()
    back, scale = tf.unpack_i2s(data, rows, k)
    assert np.array_equal(back, t) and scale == np.float32(0.0712890625)
    # bytes -> values -> bytes, for random valid code bytes
    codes = rng.integers(0, 3, size=(rows * k // 4, 4)).astype(np.uint8)
    raw = (codes[:, 0] << 6) | (codes[:, 1] << 4) | (codes[:, 2] << 2) | codes[:, 3]
    data = np.concatenate([raw, tf.pack_i2s(np.zeros((1, 128), np.int8), 0.5)[-32:]])
    t2, s2 = tf.unpack_i2s(data, rows, k)
    assert np.array_equal(tf.pack_i2s(t2, s2), data)


def test_i2s_layout_single_element():
    # element 128b + 32j + k lives in byte 32b + k at bits (7-2j):(6-2j)
    for index in (0, 31, 32, 95, 96, 127, 128 + 33, 255):
        t = np.zeros((1, 256), np.int8)
        t[0, index] = 1  # code 2 among code-1 neighbours
        data = tf.pack_i2s(t, 1.0)
        block, rest = divmod(index, 128)
        j, k = divmod(rest, 32)
        expected = np.full(64, 0b01010101, np.uint8)
        expected[32 * block + k] = 0b01010101 & ~(3 << (6 - 2 * j)) | (2 << (6 - 2 * j))
        assert np.array_equal(data[:64], expected), index


@pytest.mark.parametrize("type_id", [tf.GGML_TYPE_TQ1_0, tf.GGML_TYPE_TQ2_0])
@pytest.mark.parametrize("rows, k", [(1, 256), (3, 768)])
def test_tq_round_trip(type_id, rows, k):
    rng = np.random.default_rng(rows + k + type_id)
    t = random_ternary(rng, rows, k)
    data = tf.pack_ternary(type_id, t, 0.25)
    unpack = tf.unpack_tq1_0 if type_id == tf.GGML_TYPE_TQ1_0 else tf.unpack_tq2_0
    back, d = unpack(data, rows, k)
    assert np.array_equal(back, t)
    assert np.all(d == np.float16(0.25))
    assert np.array_equal(tf.pack_ternary(type_id, back, 0.25), data)
    assert np.array_equal(tf.dequantize_ternary(type_id, data, rows, k), t * 0.25)


def test_tq1_0_every_trit_group_decodes():
    groups = np.array(list(itertools.product(range(3), repeat=5)), dtype=np.uint8)  # all 243
    packed = tf._pack_trits(groups)
    assert np.array_equal(tf._unpack_trits(packed, 5), groups)


def test_unpack_rejects_wrong_sizes():
    with pytest.raises(tf.FormatError):
        tf.unpack_i2s(np.zeros(10, np.uint8), 1, 128)
    with pytest.raises(tf.FormatError):
        tf.unpack_tq2_0(np.zeros(65, np.uint8), 1, 256)
    with pytest.raises(tf.FormatError):
        tf.pack_i2s(np.zeros((2, 100), np.int8), 1.0)


# MARK: - k-quants


@pytest.mark.parametrize("qtype, quantize, tolerance", [
    (GGMLQuantizationType.Q6_K, kquants.quantize_q6_k, 0.6 / 31),
    (GGMLQuantizationType.Q4_K, kquants.quantize_q4_k, 0.6 / 15 * 2),
])
def test_kquants_decode_with_gguf_py(qtype, quantize, tolerance):
    rng = np.random.default_rng(3)
    x = rng.normal(0, 0.1, size=(3, 512))
    x[1, 256:] = 0.0
    x[2, :256] += 0.5  # an all-positive block
    y = gguf.quants.dequantize(quantize(x), qtype)
    for block_x, block_y in zip(x.reshape(-1, 256), y.reshape(-1, 256)):
        span = block_x.max() - min(block_x.min(), 0.0)
        assert np.abs(block_x - block_y).max() <= tolerance * max(span, 1e-12) + 1e-6


# MARK: - make_model


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_deterministic(tmp_path, make_model):
    a = make_model(tmp_path / "a.gguf", seed=5, wtype="tq1_0")
    b = make_model(tmp_path / "b.gguf", seed=5, wtype="tq1_0")
    c = make_model(tmp_path / "c.gguf", seed=6, wtype="tq1_0")
    assert sha256(a) == sha256(b)
    assert sha256(a) != sha256(c)


def test_same_weights_in_every_storage_type(tmp_path, make_model):
    decoded = {}
    for wtype, embtype in [("i2_s", "f16"), ("tq1_0", "f32"), ("tq2_0", "q8_0"), ("f16", "f16"),
                           ("f32", "f32"), ("bf16", "f16")]:
        path = make_model(tmp_path / f"{wtype}.gguf", arch="bitnet", wtype=wtype, embtype=embtype)
        reader = RawGGUFReader(path)
        decoded[wtype] = {n: tensor_to_float64(t) for n, t in reader.raw_tensors.items()}
    first = decoded["i2_s"]
    for wtype, tensors in decoded.items():
        assert tensors.keys() == first.keys()
        for name, values in tensors.items():
            assert np.array_equal(values, first[name]), f"{wtype}: {name} differs"


def test_generated_contents(tmp_path, make_model):
    path = make_model(tmp_path / "m.gguf", arch="bitnet", act="relu2", wtype="tq2_0", n_vocab=600,
                      separate_output=True, scale_tensors=True)
    r = RawGGUFReader(path)
    assert r.value("general.architecture") == "bitnet"
    assert r.value("bitnet.hidden_activation") == "relu2"
    assert r.value("general.file_type") == 37
    assert r.value("bitnet.rope.dimension_count") == 64
    assert r.value("bitnet.attention.head_count_kv") == 2
    tokens = r.value("tokenizer.ggml.tokens")
    merges = r.value("tokenizer.ggml.merges")
    assert len(tokens) == 600 and len(set(tokens)) == 600 and len(merges) == 600 - 258
    assert tokens[32] == "Ġ" and tokens[-2:] == ["<s>", "</s>"]
    assert r.value("tokenizer.ggml.bos_token_id") == 598 and r.value("tokenizer.ggml.eos_token_id") == 599
    for merge in merges:  # every merge joins two existing tokens into the next one
        left, right = merge.split(" ")
        assert left in tokens and right in tokens and left + right in tokens
    t = r.raw_tensors
    assert t["token_embd.weight"].ne == (256, 600) and t["output.weight"].ne == (256, 600)
    assert t["blk.1.attn_k.weight"].ne == (256, 128) and t["blk.1.ffn_down.weight"].ne == (768, 256)
    assert t["blk.0.attn_q.scale"].ne == (1,)
    w = tensor_to_float64(t["blk.0.ffn_up.weight"])
    beta = np.abs(w).max()
    assert set(np.unique(w / beta)) == {-1.0, 0.0, 1.0}
    assert 0.29 < np.mean(w == 0) < 0.33
    assert np.float16(beta) == beta and float(np.float32(beta)) == beta
    norm = tensor_to_float64(t["blk.0.attn_norm.weight"])
    assert t["blk.0.attn_norm.weight"].ggml_type == 0 and 0.9 < norm.mean() < 1.1
    emb = tensor_to_float64(t["token_embd.weight"]).reshape(-1, 32)
    d = np.abs(emb).max(axis=1) / 127
    assert np.array_equal(np.rint(emb / d[:, None]), emb / d[:, None])  # integer multiples of d
    assert np.array_equal(d.astype(np.float16), d)


def test_silu_model_has_no_activation_key(tmp_path, make_model):
    r = RawGGUFReader(make_model(tmp_path / "m.gguf", arch="bitnet", act="silu", wtype="f32"))
    assert r.value("bitnet.hidden_activation") is None
    assert r.value("general.quantization_version") is None


def test_q4_k_and_q6_k_embeddings_are_close(tmp_path, make_model):
    exact = tensor_to_float64(RawGGUFReader(make_model(tmp_path / "f.gguf", embtype="f32")).raw_tensors["token_embd.weight"])
    for embtype, tolerance in (("q6_k", 0.02), ("q4_k", 0.08)):
        r = RawGGUFReader(make_model(tmp_path / f"{embtype}.gguf", embtype=embtype))
        emb = r.raw_tensors["token_embd.weight"]
        assert emb.ggml_type == {"q6_k": 14, "q4_k": 12}[embtype]
        assert np.abs(tensor_to_float64(emb) - exact).max() < tolerance


@pytest.mark.parametrize("argv", [
    ["--n-embd", "200", "--n-head", "4"],                     # I2_S needs K % 128
    ["--wtype", "tq2_0", "--n-ff", "640"],                    # TQ needs K % 256
    ["--n-head", "4", "--n-head-kv", "3"],                    # GQA groups
    ["--arch", "bitnet-b1.58", "--act", "silu"],              # b1.58 is always relu2
    ["--n-vocab", "100"],                                      # too small for the byte tokens
])
def test_cli_rejects_bad_shapes(tmp_path, argv):
    assert mm.main(["-o", str(tmp_path / "x.gguf"), *argv]) == 2
    assert not (tmp_path / "x.gguf").exists()


def test_cli_preset_overrides():
    cfg, _ = mm.parse_args(["-o", "x", "--preset", "2b4t", "--n-layer", "1", "--wtype", "tq2_0"])
    assert (cfg.n_embd, cfg.n_head, cfg.n_head_kv, cfg.n_ff, cfg.n_vocab) == (2560, 20, 5, 6912, 128256)
    assert cfg.n_layer == 1 and cfg.wtype == "tq2_0" and cfg.embtype == "f16"
