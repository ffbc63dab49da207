"""Reading GGUF files, including bitnet.cpp's I2_S (type 36), with the PyPI `gguf` package.

`gguf.GGUFReader` parses the header, metadata and tensor infos, but maps every tensor
type through `GGMLQuantizationType`, which has no I2_S (36 is unassigned upstream).
`RawGGUFReader` keeps the reader's metadata parsing and replaces only the tensor step:
it records each tensor's raw type id, ggml shape and byte range and decodes nothing.
Decoding lives in `tensor_to_float64`, which handles every type the engine supports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType
from gguf import quants as gguf_quants

import ternary_formats as tf

GGML_TYPE_F32 = 0
GGML_TYPE_F16 = 1
GGML_TYPE_Q4_0 = 2
GGML_TYPE_Q8_0 = 8
GGML_TYPE_Q4_K = 12
GGML_TYPE_Q5_K = 13
GGML_TYPE_Q6_K = 14
GGML_TYPE_BF16 = 30

# (elements per block, bytes per block) for the types a BitNet model uses.
BLOCK_LAYOUT = {
    GGML_TYPE_F32: (1, 4),
    GGML_TYPE_F16: (1, 2),
    GGML_TYPE_BF16: (1, 2),
    GGML_TYPE_Q4_0: (32, 18),
    GGML_TYPE_Q8_0: (32, 34),
    GGML_TYPE_Q4_K: (256, 144),
    GGML_TYPE_Q5_K: (256, 176),
    GGML_TYPE_Q6_K: (256, 210),
    tf.GGML_TYPE_TQ1_0: (256, 54),
    tf.GGML_TYPE_TQ2_0: (256, 66),
    tf.GGML_TYPE_Q2_0: (64, 18),
}

TYPE_NAMES = {
    GGML_TYPE_F32: "F32", GGML_TYPE_F16: "F16", GGML_TYPE_BF16: "BF16", GGML_TYPE_Q8_0: "Q8_0",
    GGML_TYPE_Q4_0: "Q4_0", GGML_TYPE_Q4_K: "Q4_K", GGML_TYPE_Q5_K: "Q5_K", GGML_TYPE_Q6_K: "Q6_K", tf.GGML_TYPE_TQ1_0: "TQ1_0",
    tf.GGML_TYPE_TQ2_0: "TQ2_0", tf.GGML_TYPE_I2_S: "I2_S", tf.GGML_TYPE_Q2_0: "Q2_0",
}


@dataclass(frozen=True)
class RawTensor:
    name: str
    ggml_type: int
    ne: tuple[int, ...]  # ggml order: ne[0] is the row length
    data: np.ndarray  # uint8 view of exactly the tensor's bytes

    @property
    def n_elements(self) -> int:
        return int(np.prod(self.ne, dtype=np.int64))

    @property
    def rows(self) -> int:
        return self.n_elements // self.ne[0] if self.ne[0] else 0


def tensor_nbytes(ggml_type: int, ne: tuple[int, ...]) -> int:
    n = int(np.prod(ne, dtype=np.int64))
    if ggml_type == tf.GGML_TYPE_I2_S:
        if ne[0] % tf.I2S_BLOCK != 0:
            raise ValueError(f"I2_S needs ne0 % 128 == 0, got {ne[0]}")
        return tf.i2s_nbytes(n)
    if ggml_type not in BLOCK_LAYOUT:
        raise ValueError(f"unsupported ggml type {ggml_type}")
    block, size = BLOCK_LAYOUT[ggml_type]
    if ne[0] % block != 0:
        raise ValueError(f"type {TYPE_NAMES[ggml_type]} needs ne0 % {block} == 0, got {ne[0]}")
    return n // block * size


class RawGGUFReader(GGUFReader):
    """GGUFReader that accepts any tensor type id and exposes `raw_tensors` by name."""

    raw_tensors: dict[str, RawTensor]

    def _build_tensors(self, start_offs: int, fields: list[Any]) -> None:
        self.tensors = []
        self.raw_tensors = {}
        file_size = len(self.data)
        for field in fields:
            _name_len, name_data, _n_dims, dims, raw_dtype, offset_tensor = field.parts
            name = str(bytes(name_data), encoding="utf-8")
            if name in self.raw_tensors:
                raise ValueError(f"duplicate tensor {name}")
            ne = tuple(int(d) for d in dims.tolist())
            ggml_type = int(raw_dtype[0])
            begin = int(start_offs) + int(offset_tensor[0])
            nbytes = tensor_nbytes(ggml_type, ne)
            if begin + nbytes > file_size:
                raise ValueError(f"tensor {name}: bytes {begin}..{begin + nbytes} beyond file size {file_size}")
            self.raw_tensors[name] = RawTensor(name, ggml_type, ne, self.data[begin : begin + nbytes])

    def value(self, key: str, default: Any = None) -> Any:
        """Scalar, string or array value of a metadata key (strings decoded as UTF-8)."""
        field = self.fields.get(key)
        if field is None:
            return default
        if field.types and field.types[0] == GGUFValueType.ARRAY:
            if field.types[-1] == GGUFValueType.STRING:
                return [bytes(field.parts[i]).decode("utf-8") for i in field.data]
            return [field.parts[i].tolist()[0] for i in field.data]
        if field.types and field.types[0] == GGUFValueType.STRING:
            return bytes(field.parts[-1]).decode("utf-8")
        return field.parts[-1].tolist()[0]


def tensor_to_float64(t: RawTensor) -> np.ndarray:
    """Decode any supported tensor to float64 with shape (rows, ne0), or (ne0,) for 1-D."""
    k = t.ne[0]
    rows = t.rows
    shape = (k,) if len(t.ne) == 1 else (rows, k)
    ty = t.ggml_type
    if ty == GGML_TYPE_F32:
        out = t.data.view("<f4").astype(np.float64)
    elif ty == GGML_TYPE_F16:
        out = t.data.view("<f2").astype(np.float64)
    elif ty == GGML_TYPE_BF16:
        out = (t.data.view("<u2").astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    elif ty in (tf.GGML_TYPE_I2_S, tf.GGML_TYPE_TQ1_0, tf.GGML_TYPE_TQ2_0, tf.GGML_TYPE_Q2_0):
        out = tf.dequantize_ternary(ty, t.data, rows, k)
    elif ty == GGML_TYPE_Q8_0:
        blocks = t.data.reshape(-1, 34)
        d = blocks[:, :2].copy().view("<f2").astype(np.float64)
        q = blocks[:, 2:].view(np.int8).astype(np.float64)
        out = q * d
    elif ty in (GGML_TYPE_Q4_0, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K):
        out = gguf_quants.dequantize(np.asarray(t.data).reshape(rows, -1), GGMLQuantizationType(ty)).astype(np.float64)
    else:
        raise ValueError(f"tensor {t.name}: unsupported ggml type {ty}")
    return out.reshape(shape)
