"""Simple Q4_K, Q5_K and Q6_K quantizers (gguf-py 0.19 only dequantizes these types).

They follow the block layouts of ggml's k-quants (256 elements per super-block) with
a plain absmax / min-max choice of scales, not llama.cpp's error-minimising search:
good enough for test embeddings, and the bytes are checked against
`gguf.quants.dequantize` in the tests.
"""

from __future__ import annotations

import numpy as np

QK_K = 256
Q4_K_BLOCK_BYTES = 144  # f16 d, f16 dmin, scales[12], qs[128]
Q6_K_BLOCK_BYTES = 210  # ql[128], qh[64], scales[16] int8, f16 d
Q5_K_BLOCK_BYTES = 176  # f16 d, f16 dmin, scales[12], qh[32], qs[128]


def _f16(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float16).astype(np.float64)


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros(np.broadcast_shapes(a.shape, b.shape)), where=b != 0)


def quantize_q6_k(values: np.ndarray) -> np.ndarray:
    """values: float [rows][K], K % 256 == 0 -> uint8 [rows][K/256*210]."""
    x = np.asarray(values, dtype=np.float64)
    rows, k = x.shape
    if k % QK_K != 0:
        raise ValueError(f"Q6_K needs K % 256 == 0, got {k}")
    blocks = x.reshape(-1, 16, 16)  # [block][sub-block][element]
    sub_scale = np.abs(blocks).max(axis=2) / 31.0
    d = _f16(sub_scale.max(axis=1) / 127.0)  # [block]
    sc = np.clip(np.rint(_safe_div(sub_scale, d[:, None])), 0, 127)
    step = (d[:, None] * sc)[:, :, None]
    q = np.clip(np.rint(_safe_div(blocks, step)), -32, 31).astype(np.int16) + 32  # 0..63
    q = q.reshape(-1, 2, 4, 32).astype(np.uint8)  # [block][half][quarter][l]
    low, high = q & 0xF, q >> 4
    ql = np.concatenate([low[:, :, 0] | (low[:, :, 2] << 4), low[:, :, 1] | (low[:, :, 3] << 4)], axis=2)
    qh = high[:, :, 0] | (high[:, :, 1] << 2) | (high[:, :, 2] << 4) | (high[:, :, 3] << 6)
    n_blocks = blocks.shape[0]
    out = np.concatenate(
        [
            ql.reshape(n_blocks, 128),
            qh.reshape(n_blocks, 64),
            sc.astype(np.int8).view(np.uint8),
            d.astype("<f2").view(np.uint8).reshape(n_blocks, 2),
        ],
        axis=1,
    )
    return out.reshape(rows, -1)


def _min_max_blocks(values: np.ndarray, name: str, levels: int):
    """Shared Q4_K / Q5_K quantization: (quants [block][8][32], 12 packed scale bytes, d/dmin bytes)."""
    x = np.asarray(values, dtype=np.float64)
    rows, k = x.shape
    if k % QK_K != 0:
        raise ValueError(f"{name} needs K % 256 == 0, got {k}")
    blocks = x.reshape(-1, 8, 32)
    lo = np.minimum(blocks.min(axis=2), 0.0)
    hi = blocks.max(axis=2)
    sub_scale = (hi - lo) / levels
    sub_min = -lo
    d = _f16(sub_scale.max(axis=1) / 63.0)
    dmin = _f16(sub_min.max(axis=1) / 63.0)
    sc = np.clip(np.rint(_safe_div(sub_scale, d[:, None])), 0, 63).astype(np.uint8)
    mn = np.clip(np.ceil(_safe_div(sub_min, dmin[:, None])), 0, 63).astype(np.uint8)
    step = (d[:, None] * sc)[:, :, None]
    offset = (dmin[:, None] * mn)[:, :, None]
    q = np.clip(np.rint(_safe_div(blocks + offset, step)), 0, levels).astype(np.uint8)
    scales = np.concatenate(
        [
            sc[:, :4] | ((sc[:, 4:] >> 4) << 6),
            mn[:, :4] | ((mn[:, 4:] >> 4) << 6),
            (sc[:, 4:] & 0xF) | ((mn[:, 4:] & 0xF) << 4),
        ],
        axis=1,
    )
    n_blocks = blocks.shape[0]
    dd = np.stack([d, dmin], axis=1).astype("<f2").view(np.uint8).reshape(n_blocks, 4)
    return q, scales, dd, rows


def _nibbles(q: np.ndarray) -> np.ndarray:
    """Low 4 bits of [block][8][32] quants: sub-block 2c in the low, 2c+1 in the high nibble of chunk c."""
    low = (q & 0xF).reshape(-1, 4, 2, 32)
    return (low[:, :, 0] | (low[:, :, 1] << 4)).reshape(-1, 128)


def quantize_q4_k(values: np.ndarray) -> np.ndarray:
    """values: float [rows][K], K % 256 == 0 -> uint8 [rows][K/256*144]."""
    q, scales, dd, rows = _min_max_blocks(values, "Q4_K", 15)
    return np.concatenate([dd, scales, _nibbles(q)], axis=1).reshape(rows, -1)


def quantize_q5_k(values: np.ndarray) -> np.ndarray:
    """values: float [rows][K], K % 256 == 0 -> uint8 [rows][K/256*176]; bit 4 of sub-block j's
    element l is bit j of qh[l]."""
    q, scales, dd, rows = _min_max_blocks(values, "Q5_K", 31)
    high = (q >> 4) & 1  # [block][8][32]
    qh = np.zeros((q.shape[0], 32), dtype=np.uint8)
    for j in range(8):
        qh |= (high[:, j, :] << j).astype(np.uint8)
    return np.concatenate([dd, scales, qh, _nibbles(q)], axis=1).reshape(rows, -1)
