"""Packers and unpackers for the three ternary weight layouts: I2_S, TQ1_0, TQ2_0.

Written from the layout descriptions in docs/ARCHITECTURE.md §3.3 "Ternary weight
layouts" and Tests/Fixtures/golden/README.md (not from any engine's code). All
functions are vectorised NumPy so that a 2B4T-sized model (about 2e9 weights)
packs in well under a minute.

Conventions:
  * `ternary` is an int8 array of shape (rows, K) with values in {-1, 0, +1},
    row-major, rows = ggml ne1 (output features), K = ne0 (input features).
  * I2_S stores one float32 scale per tensor; TQ1_0/TQ2_0 store one f16 scale per
    256-element block. The dequantized weight is ternary * scale.
"""

from __future__ import annotations

import numpy as np

GGML_TYPE_TQ1_0 = 34
GGML_TYPE_TQ2_0 = 35
GGML_TYPE_I2_S = 36  # bitnet.cpp's numbering; upstream ggml uses 36 for something else

QK_K = 256
I2S_BLOCK = 128
I2S_TAIL = 32  # float32 scale + 28 zero bytes of padding
TQ1_0_BLOCK_BYTES = 54
TQ2_0_BLOCK_BYTES = 66

_POW3 = np.array([81, 27, 9, 3, 1], dtype=np.uint16)  # first trit most significant


class FormatError(ValueError):
    """Raised when packed bytes cannot describe a tensor of the requested shape."""


def _check_ternary(ternary: np.ndarray) -> np.ndarray:
    t = np.asarray(ternary)
    if t.ndim != 2:
        raise FormatError(f"ternary weights must be 2-D (rows, K), got shape {t.shape}")
    return t.astype(np.int8, copy=False)


# MARK: - I2_S


def i2s_nbytes(n_elements: int) -> int:
    return n_elements // 4 + I2S_TAIL


def pack_i2s(ternary: np.ndarray, scale: float) -> np.ndarray:
    """Pack ternary weights into I2_S bytes: n/4 code bytes, float32 scale, 28 zero bytes.

    Over the flattened row-major tensor, block b of 128 elements lands in bytes
    32b..32b+31; byte 32b+k holds elements 128b+k, +32, +64, +96 in bits 7:6, 5:4, 3:2, 1:0.
    Codes: 0 = -1, 1 = 0, 2 = +1.
    """
    t = _check_ternary(ternary)
    if t.shape[1] % I2S_BLOCK != 0:
        raise FormatError(f"I2_S needs K % {I2S_BLOCK} == 0, got K = {t.shape[1]}")
    codes = (t.reshape(-1, 4, 32) + 1).astype(np.uint8)  # [block][quarter][k]
    packed = (codes[:, 0] << 6) | (codes[:, 1] << 4) | (codes[:, 2] << 2) | codes[:, 3]
    tail = np.zeros(I2S_TAIL, dtype=np.uint8)
    tail[:4] = np.frombuffer(np.float32(scale).astype("<f4").tobytes(), dtype=np.uint8)
    return np.concatenate([packed.reshape(-1), tail])


def unpack_i2s(data: np.ndarray, rows: int, k: int) -> tuple[np.ndarray, float]:
    """Inverse of pack_i2s: returns (codes - 1 as int8 [rows][k], float32 scale).

    Code 3 never occurs in valid files; it decodes to +2 (code - 1), which is what an
    unsigned-code dot product (sum c*q - sum q) would compute for it.
    """
    data = np.asarray(data, dtype=np.uint8).reshape(-1)
    n = rows * k
    if k % I2S_BLOCK != 0:
        raise FormatError(f"I2_S needs K % {I2S_BLOCK} == 0, got K = {k}")
    if data.size != i2s_nbytes(n):
        raise FormatError(f"I2_S tensor of {n} elements needs {i2s_nbytes(n)} bytes, got {data.size}")
    packed = data[: n // 4].reshape(-1, 1, 32)
    shifts = np.array([6, 4, 2, 0], dtype=np.uint8).reshape(1, 4, 1)
    codes = (packed >> shifts) & 3
    scale = float(data[n // 4 : n // 4 + 4].view("<f4")[0])
    return (codes.astype(np.int8) - 1).reshape(rows, k), scale


# MARK: - TQ2_0


def _block_scales(ternary_blocks: np.ndarray, scale: float) -> np.ndarray:
    """Per-256-block f16 scale as ggml's TQ quantizers compute it: max |w| of the block
    (so an all-zero block gets d = 0; its codes still decode to 0)."""
    nonzero = np.any(ternary_blocks != 0, axis=1)
    return np.where(nonzero, np.float16(scale), np.float16(0)).astype("<f2")


def pack_tq2_0(ternary: np.ndarray, scale: float) -> np.ndarray:
    """Pack ternary weights into TQ2_0: per 256 elements qs[64] then f16 d (66 bytes).

    In each 32-byte half j, byte m holds elements 128j + m + 32n at bits 2n+1:2n.
    """
    t = _check_ternary(ternary)
    if t.shape[1] % QK_K != 0:
        raise FormatError(f"TQ2_0 needs K % {QK_K} == 0, got K = {t.shape[1]}")
    blocks = t.reshape(-1, QK_K)
    codes = (blocks.reshape(-1, 2, 4, 32) + 1).astype(np.uint8)  # [block][half][n][m]
    qs = codes[:, :, 0] | (codes[:, :, 1] << 2) | (codes[:, :, 2] << 4) | (codes[:, :, 3] << 6)
    d = _block_scales(blocks, scale).view(np.uint8).reshape(-1, 2)
    return np.concatenate([qs.reshape(-1, 64), d], axis=1).reshape(-1)


def unpack_tq2_0(data: np.ndarray, rows: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of pack_tq2_0: returns (ternary int8 [rows][k], f16 d per block [rows*k/256])."""
    data = np.asarray(data, dtype=np.uint8).reshape(-1)
    if k % QK_K != 0:
        raise FormatError(f"TQ2_0 needs K % {QK_K} == 0, got K = {k}")
    n_blocks = rows * k // QK_K
    if data.size != n_blocks * TQ2_0_BLOCK_BYTES:
        raise FormatError(f"TQ2_0 tensor of {rows * k} elements needs {n_blocks * TQ2_0_BLOCK_BYTES} bytes, got {data.size}")
    blocks = data.reshape(n_blocks, TQ2_0_BLOCK_BYTES)
    qs = blocks[:, :64].reshape(n_blocks, 2, 1, 32)
    shifts = np.array([0, 2, 4, 6], dtype=np.uint8).reshape(1, 1, 4, 1)
    codes = (qs >> shifts) & 3  # [block][half][n][m]
    d = blocks[:, 64:66].copy().view("<f2").reshape(-1)
    return (codes.astype(np.int8) - 1).reshape(rows, k), d


# MARK: - TQ1_0


def _pack_trits(trits: np.ndarray) -> np.ndarray:
    """trits: uint8 [..., 5] in {0,1,2}, first most significant -> bytes ceil(v*256/243)."""
    v = (trits.astype(np.uint16) * _POW3).sum(axis=-1, dtype=np.uint16)
    return ((v * 256 + 242) // 243).astype(np.uint8)


def _unpack_trits(q: np.ndarray, count: int) -> np.ndarray:
    """q: uint8 [...] -> trits uint8 [..., count]: trit n = ((uint8)(q * 3^n) * 3) >> 8."""
    q16 = q.astype(np.uint16)[..., None]
    pow3 = np.array([1, 3, 9, 27, 81][:count], dtype=np.uint16)
    shifted = (q16 * pow3) & 0xFF  # the uint8 wrap-around is intended
    return ((shifted * 3) >> 8).astype(np.uint8)


def pack_tq1_0(ternary: np.ndarray, scale: float) -> np.ndarray:
    """Pack ternary weights into TQ1_0: per 256 elements qs[48], qh[4], f16 d (54 bytes).

    qs[0..31]: byte m packs elements m + 32n (n = 0..4); qs[32..47]: byte m packs elements
    160 + m + 16n; qh[0..3]: byte j packs elements 240 + j + 4n (n = 0..3) plus a zero trit.
    """
    t = _check_ternary(ternary)
    if t.shape[1] % QK_K != 0:
        raise FormatError(f"TQ1_0 needs K % {QK_K} == 0, got K = {t.shape[1]}")
    blocks = t.reshape(-1, QK_K)
    trits = (blocks + 1).astype(np.uint8)
    n_blocks = blocks.shape[0]
    head = trits[:, :160].reshape(n_blocks, 5, 32).transpose(0, 2, 1)  # [block][m][n]
    mid = trits[:, 160:240].reshape(n_blocks, 5, 16).transpose(0, 2, 1)
    tail4 = trits[:, 240:256].reshape(n_blocks, 4, 4).transpose(0, 2, 1)
    tail = np.concatenate([tail4, np.zeros((n_blocks, 4, 1), dtype=np.uint8)], axis=2)
    d = _block_scales(blocks, scale).view(np.uint8).reshape(-1, 2)
    return np.concatenate([_pack_trits(head), _pack_trits(mid), _pack_trits(tail), d], axis=1).reshape(-1)


def unpack_tq1_0(data: np.ndarray, rows: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of pack_tq1_0: returns (ternary int8 [rows][k], f16 d per block)."""
    data = np.asarray(data, dtype=np.uint8).reshape(-1)
    if k % QK_K != 0:
        raise FormatError(f"TQ1_0 needs K % {QK_K} == 0, got K = {k}")
    n_blocks = rows * k // QK_K
    if data.size != n_blocks * TQ1_0_BLOCK_BYTES:
        raise FormatError(f"TQ1_0 tensor of {rows * k} elements needs {n_blocks * TQ1_0_BLOCK_BYTES} bytes, got {data.size}")
    blocks = data.reshape(n_blocks, TQ1_0_BLOCK_BYTES)
    head = _unpack_trits(blocks[:, 0:32], 5).transpose(0, 2, 1).reshape(n_blocks, 160)
    mid = _unpack_trits(blocks[:, 32:48], 5).transpose(0, 2, 1).reshape(n_blocks, 80)
    tail = _unpack_trits(blocks[:, 48:52], 4).transpose(0, 2, 1).reshape(n_blocks, 16)
    trits = np.concatenate([head, mid, tail], axis=1)
    d = blocks[:, 52:54].copy().view("<f2").reshape(-1)
    return (trits.astype(np.int8) - 1).reshape(rows, k), d


# MARK: - Q2_0 (mainline ggml type 42)

GGML_TYPE_Q2_0 = 42
QK2_0 = 64
Q2_0_BLOCK_BYTES = 18  # f16 d, qs[16]: element j at qs[j // 4] bits 2*(j % 4); value (q - 1) * d


def pack_q2_0(ternary: np.ndarray, scale: float) -> np.ndarray:
    """Ternary int8 [rows][k] (k % 64 == 0) with one scale -> Q2_0 bytes (codes 0..2 only)."""
    rows, k = ternary.shape
    if k % QK2_0 != 0:
        raise FormatError(f"Q2_0 needs K % {QK2_0} == 0, got K = {k}")
    codes = (ternary.astype(np.int16) + 1).astype(np.uint8).reshape(-1, QK2_0 // 4, 4)
    qs = codes[:, :, 0] | (codes[:, :, 1] << 2) | (codes[:, :, 2] << 4) | (codes[:, :, 3] << 6)
    d = np.full((qs.shape[0], 1), scale, dtype="<f2").view(np.uint8)
    return np.concatenate([d, qs], axis=1).reshape(-1)


def dequantize_q2_0(data: np.ndarray, rows: int, k: int) -> np.ndarray:
    blocks = np.asarray(data, dtype=np.uint8).reshape(-1, Q2_0_BLOCK_BYTES)
    d = blocks[:, 0:2].copy().view("<f2").astype(np.float64)  # [n][1]
    qs = blocks[:, 2:]
    q = np.stack([(qs >> (2 * i)) & 3 for i in range(4)], axis=2).reshape(-1, QK2_0)
    return ((q.astype(np.float64) - 1) * d).reshape(rows, k)


# MARK: - dispatch


def pack_ternary(ggml_type: int, ternary: np.ndarray, scale: float) -> np.ndarray:
    if ggml_type == GGML_TYPE_I2_S:
        return pack_i2s(ternary, scale)
    if ggml_type == GGML_TYPE_TQ1_0:
        return pack_tq1_0(ternary, scale)
    if ggml_type == GGML_TYPE_TQ2_0:
        return pack_tq2_0(ternary, scale)
    if ggml_type == GGML_TYPE_Q2_0:
        return pack_q2_0(ternary, scale)
    raise FormatError(f"not a ternary type: {ggml_type}")


def dequantize_ternary(ggml_type: int, data: np.ndarray, rows: int, k: int) -> np.ndarray:
    """Dequantize a ternary tensor to float64 [rows][k]."""
    if ggml_type == GGML_TYPE_I2_S:
        t, scale = unpack_i2s(data, rows, k)
        return t.astype(np.float64) * scale
    if ggml_type == GGML_TYPE_Q2_0:
        return dequantize_q2_0(data, rows, k)
    if ggml_type == GGML_TYPE_TQ1_0:
        t, d = unpack_tq1_0(data, rows, k)
    elif ggml_type == GGML_TYPE_TQ2_0:
        t, d = unpack_tq2_0(data, rows, k)
    else:
        raise FormatError(f"not a ternary type: {ggml_type}")
    per_block = t.reshape(-1, QK_K).astype(np.float64) * d.astype(np.float64)[:, None]
    return per_block.reshape(rows, k)
