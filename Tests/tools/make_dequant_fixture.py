#!/usr/bin/env python3
"""Writes Tests/Fixtures/dequant.gguf: random quantized tensors and their
dequantization by the PyPI `gguf` package (gguf.quants.dequantize), the
independent reference for Sources/BitNet/GGUF/Dequantize.swift.

For each type T there is a tensor `T` (2 rows) and `T.expected` (F32, same
shape). Block scales are set to finite random halves so no value is NaN/inf.

    pip install gguf numpy && python3 Tests/tools/make_dequant_fixture.py
"""
import os
import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q
from gguf.quants import dequantize

rng = np.random.default_rng(1234)
here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "Fixtures", "dequant.gguf")

# type, row length, offsets of f16 scale fields inside a block
cases = [
    (Q.Q8_0, 64, [0]),
    (Q.Q4_K, 512, [0, 2]),
    (Q.Q6_K, 512, [208]),
    (Q.TQ1_0, 256, [52]),
    (Q.TQ2_0, 512, [64]),
]
rows = 2

w = gguf.GGUFWriter(out, "dequant-fixture")
for qtype, row_len, scale_offsets in cases:
    block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
    n_blocks = rows * row_len // block_size
    blocks = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    for off in scale_offsets:
        halves = rng.uniform(-2.0, 2.0, size=n_blocks).astype(np.float16)
        blocks[:, off:off + 2] = halves.view(np.uint8).reshape(n_blocks, 2)
    raw = blocks.reshape(rows, -1)
    expected = dequantize(raw, qtype).astype(np.float32).reshape(rows, row_len)
    w.add_tensor(qtype.name, raw, raw_dtype=qtype)
    w.add_tensor(qtype.name + ".expected", expected)

f16 = rng.normal(0, 3, size=(rows, 40)).astype(np.float16)
w.add_tensor("F16", f16)
w.add_tensor("F16.expected", f16.astype(np.float32))
bf16_source = rng.normal(0, 3, size=(rows, 40)).astype(np.float32)
bf16_bits = (bf16_source.view(np.uint32) >> 16).astype(np.uint16)
w.add_tensor("BF16", bf16_bits.view(np.uint8).reshape(rows, -1), raw_dtype=Q.BF16)
w.add_tensor("BF16.expected", dequantize(bf16_bits.view(np.uint8).reshape(rows, -1), Q.BF16).astype(np.float32))

w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
print("wrote", out, os.path.getsize(out), "bytes")
