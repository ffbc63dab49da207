"""From a training checkpoint to the shipped numbers: the GGUF file and its exact PyTorch twin.

`exported_model(ckpt)` returns the float64 eval-mode model that computes what the GGUF
stores: ternary weights with their float32 absmean scale (I2_S), the token embedding
rounded to float16 (the file's F16 tied embedding), norms in float32.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "Tests" / "tools"))

import ternary_formats as tf  # noqa: E402  (the project's own I2_S packer)
from gguf import GGUFWriter  # noqa: E402

from model import BitLinear, BitNetModel, ModelConfig, RMSNorm, ternarize  # noqa: E402

ARCH = "bitnet-b1.58"
FILE_TYPE_I2_S = 40  # general.file_type as bitnet.cpp numbers I2_S
TOKEN_TYPE_NORMAL, TOKEN_TYPE_CONTROL = 1, 3
LINEARS = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")
ORDER = ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "attn_sub_norm",
         "ffn_norm", "ffn_gate", "ffn_up", "ffn_down", "ffn_sub_norm")


def load_checkpoint(path: Path) -> tuple[BitNetModel, int]:
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = BitNetModel(ModelConfig(**state["config"]))
    model.load_state_dict(state["model"])
    return model, int(state["step"])


@torch.no_grad()
def exported_model(path: Path) -> tuple[BitNetModel, int]:
    """The checkpoint as float64 eval model holding exactly the exported values."""
    model, step = load_checkpoint(path)
    linears = {}
    for m in model.modules():
        if isinstance(m, BitLinear):
            t, beta = ternarize(m.weight.float())  # the float32 values training used
            linears[m] = (t.to(torch.float64), torch.tensor(float(np.float32(beta.item())), dtype=torch.float64))
    model = model.to(torch.float64).eval()
    for m, frozen in linears.items():
        m.frozen = frozen
    emb = model.token_embd.weight
    emb.copy_(emb.to(torch.float16).to(torch.float64))
    for m in model.modules():
        if isinstance(m, RMSNorm):
            m.weight.copy_(m.weight.to(torch.float32).to(torch.float64))
    return model, step


def tokenizer_tables(tokenizer_json: dict) -> tuple[list[str], list[int], list[str], int, int]:
    vocab = dict(tokenizer_json["model"]["vocab"])
    for added in tokenizer_json["added_tokens"]:
        vocab[added["content"]] = added["id"]
    n = len(vocab)
    tokens = [""] * n
    for text, i in vocab.items():
        if not 0 <= i < n or tokens[i]:
            raise ValueError(f"token ids are not 0..{n - 1} without gaps")
        tokens[i] = text
    special = {a["content"] for a in tokenizer_json["added_tokens"] if a["special"]}
    types = [TOKEN_TYPE_CONTROL if t in special else TOKEN_TYPE_NORMAL for t in tokens]
    merges = [m if isinstance(m, str) else " ".join(m) for m in tokenizer_json["model"]["merges"]]
    return tokens, types, merges, vocab["<s>"], vocab["</s>"]


@torch.no_grad()
def write_gguf(model: BitNetModel, tokenizer_json: dict, out: Path, name: str, description: str) -> None:
    cfg = model.cfg
    tokens, types, merges, bos, eos = tokenizer_tables(tokenizer_json)
    if len(tokens) != cfg.n_vocab:
        raise ValueError(f"tokenizer has {len(tokens)} tokens, model {cfg.n_vocab}")
    w = GGUFWriter(str(out), ARCH)
    w.add_name(name)
    w.add_description(description)
    w.add_uint32("general.file_type", FILE_TYPE_I2_S)
    w.add_uint32("general.quantization_version", 2)
    a = ARCH
    w.add_uint32(f"{a}.vocab_size", cfg.n_vocab)
    w.add_uint32(f"{a}.context_length", cfg.n_ctx)
    w.add_uint32(f"{a}.embedding_length", cfg.n_embd)
    w.add_uint32(f"{a}.block_count", cfg.n_layer)
    w.add_uint32(f"{a}.feed_forward_length", cfg.n_ff)
    w.add_uint32(f"{a}.rope.dimension_count", cfg.head_dim)
    w.add_uint32(f"{a}.attention.head_count", cfg.n_head)
    w.add_uint32(f"{a}.attention.head_count_kv", cfg.n_head_kv)
    w.add_float32(f"{a}.attention.layer_norm_rms_epsilon", cfg.eps)
    w.add_float32(f"{a}.rope.freq_base", cfg.rope_theta)
    w.add_string("tokenizer.ggml.model", "gpt2")
    w.add_string("tokenizer.ggml.pre", "gpt-2")  # HF ByteLevel(use_regex=True) = GPT-2's regex
    w.add_array("tokenizer.ggml.tokens", tokens)
    w.add_array("tokenizer.ggml.token_type", types)
    w.add_array("tokenizer.ggml.merges", merges)
    w.add_uint32("tokenizer.ggml.bos_token_id", bos)
    w.add_uint32("tokenizer.ggml.eos_token_id", eos)
    w.add_bool("tokenizer.ggml.add_bos_token", True)
    w.add_bool("tokenizer.ggml.add_eos_token", False)

    w.add_tensor("token_embd.weight", model.token_embd.weight.numpy().astype(np.float16))
    for i, block in enumerate(model.blocks):
        for part in ORDER:
            module = getattr(block, part)
            tname = f"blk.{i}.{part}.weight"
            if part in LINEARS:
                t, beta = module.frozen
                ternary = t.numpy().astype(np.int8)
                packed = tf.pack_i2s(ternary, float(beta))
                rows, k = ternary.shape
                w.add_tensor(tname, packed.view(np.int8), raw_shape=(rows, k), raw_dtype=tf.GGML_TYPE_I2_S)
            else:
                w.add_tensor(tname, module.weight.numpy().astype(np.float32))
    w.add_tensor("output_norm.weight", model.output_norm.weight.numpy().astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
