/*
 * CBitNetKernels — the SIMD inner loops that Swift cannot express well
 * (int8 x ternary dot products with maddubs / vpdpbusd on x86, SMLAL / SDOT /
 * SMMLA on AArch64). Everything else
 * (tiling, repacking, threading, float math) lives in the Swift core.
 *
 * Each kernel is compiled with a per-function target attribute, never with a
 * global -march, and is only called after the matching bnk_cpu_has_* check
 * succeeded. Symbols use the internal prefix `bnk_`: libbitnet.so exports
 * only `bitnet_*`.
 */
#ifndef BITNET_KERNELS_H
#define BITNET_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** 1 when the CPU and OS support AVX2 (with FMA/F16C), else 0. */
int bnk_cpu_has_avx2(void);
/** 1 when the CPU and OS support AVX-512 F/BW/VL with VNNI, else 0. */
int bnk_cpu_has_avx512vnni(void);

/* AArch64 has three kernel levels, each including the one before:
 *   neon     Advanced SIMD (every AArch64 CPU we run on)
 *   dotprod  + SDOT (FEAT_DotProd: Apple M1, Neoverse N1, Cortex-A76 and later)
 *   i8mm     + SMMLA (FEAT_I8MM: Apple M2, Neoverse V1/N2, Cortex-A710 and later)
 * The `_neon*` kernels of a level are called only after its check succeeds;
 * on other architectures the checks return 0 and the kernels are empty stubs. */
/** 1 on AArch64 with Advanced SIMD, else 0. */
int bnk_cpu_has_neon(void);
/** 1 when NEON and the SDOT/UDOT dot-product instructions are available, else 0. */
int bnk_cpu_has_neon_dotprod(void);
/** 1 when, in addition, the int8 matrix multiply (SMMLA, FEAT_I8MM) is available, else 0. */
int bnk_cpu_has_neon_i8mm(void);

/* ---------------------------------------------------------------------------
 * Ternary x int8 matrix products.
 *
 * Packed weight layout (built by the Swift PackedTernaryMatrix):
 *   rows are grouped in tiles of BNK_TILE_ROWS; a tile stores, for each block
 *   of 128 columns, the 32-byte block of each of its rows one after another:
 *     tile t, block b, row i (0..3) -> packed + (t*blocks_per_row + b)*128 + i*32
 *   Inside a row's 32-byte block, byte k holds the codes of columns
 *   128b + k, 128b + 32 + k, 128b + 64 + k, 128b + 96 + k in bits 7:6, 5:4,
 *   3:2, 1:0 (I2_S's order). Code c = w + 1 in {0, 1, 2}.
 *   The buffer must be 64-byte aligned.
 *
 * Each kernel computes, for every token t and every row r in
 * [row_begin, row_end), over the column blocks [block_begin, block_end):
 *     dot  = sum_k c[r][k] * q[t][k]           (int32, exact)
 *     v    = (float)(dot - q_sum[t]) * row_scale[r * row_scale_stride] * inv_scale[t]
 *     y[t * y_stride + r] = v           (accumulate == 0)
 *     y[t * y_stride + r] = y[...] + v  (accumulate != 0)
 * q_sum[t] must be the sum of q[t][k] over the same column range, so that
 * dot - q_sum = sum w*q (the codes are w + 1).
 * ------------------------------------------------------------------------- */
#define BNK_TILE_ROWS 4
#define BNK_BLOCK_COLS 128

typedef struct bnk_ternary_args {
    const uint8_t *packed;     /* tiles, see above, 64-byte aligned */
    size_t blocks_per_row;     /* columns / 128 */
    size_t row_begin, row_end; /* rows to produce */
    size_t block_begin, block_end; /* column blocks to sum over */
    const int8_t *q;           /* token t's activations at q + t * q_stride (column 0) */
    size_t q_stride;
    const int32_t *q_sum;      /* per token: sum of q over the column range */
    const float *inv_scale;    /* per token: 1 / s */
    size_t n_tokens;
    const float *row_scale;    /* row r: row_scale[r * row_scale_stride] */
    size_t row_scale_stride;
    float *y;                  /* y[t * y_stride + r] */
    size_t y_stride;
    int accumulate;
} bnk_ternary_args;

void bnk_ternary_avx2(const bnk_ternary_args *args);
void bnk_ternary_avx512vnni(const bnk_ternary_args *args);
void bnk_ternary_neon(const bnk_ternary_args *args);
void bnk_ternary_neon_dotprod(const bnk_ternary_args *args);
/** Prompts (n_tokens >= 2) with SMMLA; one token runs the dotprod loop. Allocates
 *  a scratch copy of the activations; without memory it falls back to dotprod. */
void bnk_ternary_neon_i8mm(const bnk_ternary_args *args);

/* ---------------------------------------------------------------------------
 * Float dot products for embeddings / the LM head (not activation-quantized):
 *     y[r] = sum_k E[r][k] * x[k]   for r in [row_begin, row_end)
 * (e points at row 0, y at row 0's output).
 * F16 rows are `cols` halves; Q8_0 rows are cols/32 blocks of
 * { uint16 f16 scale; int8 q[32]; } (34 bytes); F32 rows are `cols` floats.
 * ------------------------------------------------------------------------- */
void bnk_dot_f16_avx2(const uint16_t *e, size_t cols, size_t row_begin, size_t row_end,
                      const float *x, float *y);
void bnk_dot_f16_avx512(const uint16_t *e, size_t cols, size_t row_begin, size_t row_end,
                        const float *x, float *y);
void bnk_dot_q8_0_avx2(const uint8_t *e, size_t cols, size_t row_begin, size_t row_end,
                       const float *x, float *y);
void bnk_dot_q8_0_avx512(const uint8_t *e, size_t cols, size_t row_begin, size_t row_end,
                         const float *x, float *y);
void bnk_dot_f32_avx2(const float *e, size_t cols, size_t row_begin, size_t row_end,
                      const float *x, float *y);
void bnk_dot_f32_avx512(const float *e, size_t cols, size_t row_begin, size_t row_end,
                        const float *x, float *y);
void bnk_dot_f16_neon(const uint16_t *e, size_t cols, size_t row_begin, size_t row_end,
                      const float *x, float *y);
void bnk_dot_q8_0_neon(const uint8_t *e, size_t cols, size_t row_begin, size_t row_end,
                       const float *x, float *y);
void bnk_dot_f32_neon(const float *e, size_t cols, size_t row_begin, size_t row_end,
                      const float *x, float *y);

/* ---------------------------------------------------------------------------
 * Q8_0 in the split layout (the requantized LM head; DenseMatrix+Q8_0Split.swift
 * defines it): the int8 quants of row r at quants + r*cols, the f16 block
 * scales of row r at scales + r*(cols/32). Within a row each group of 16
 * blocks (512 values) is interleaved so that one 32-byte load holds value
 * pair t of all 16 blocks:
 *     quants[g*512 + t*32 + 2*i + e] = q[block 16g+i][2t+e]   t, i < 16, e < 2
 * and the remaining cols/32 % 16 blocks follow in plain order (32 bytes each).
 * x is the prepared vector: int16, one scale for all of it (y is multiplied
 * by x_scale), permuted the same way. Computes
 *     y[r] = x_scale * sum_b f32(d[r][b]) * (sum_j q[r][b][j] * x16[b*32+j])
 * for r in [row_begin, row_end); the per-block sums are exact int32.
 * ------------------------------------------------------------------------- */
void bnk_dot_q8_0_split_avx2(const int8_t *quants, const uint16_t *scales, size_t cols, size_t row_begin,
                             size_t row_end, const int16_t *x, float x_scale, float *y);
void bnk_dot_q8_0_split_avx512vnni(const int8_t *quants, const uint16_t *scales, size_t cols, size_t row_begin,
                                   size_t row_end, const int16_t *x, float x_scale, float *y);
/* The AVX2 product for n prepared inputs (xs[i], x_scales[i] -> ys[i]), a
 * batched decode step's LM head: each weight is read and widened once per
 * chunk of up to BNK_Q8_0_SPLIT_MULTI_MAX inputs (fewer for long rows, so a
 * chunk's x stays in L1), and ys[i][r] is bit-identical to
 * bnk_dot_q8_0_split_avx2 with xs[i]. */
#define BNK_Q8_0_SPLIT_MULTI_MAX 8
void bnk_dot_q8_0_split_avx2_multi(const int8_t *quants, const uint16_t *scales, size_t cols, size_t row_begin,
                                   size_t row_end, size_t n, const int16_t *const *xs, const float *x_scales,
                                   float *const *ys);
/* The same for AVX-512 VNNI, each output bit-identical to bnk_dot_q8_0_split_avx512vnni. */
void bnk_dot_q8_0_split_avx512vnni_multi(const int8_t *quants, const uint16_t *scales, size_t cols,
                                         size_t row_begin, size_t row_end, size_t n, const int16_t *const *xs,
                                         const float *x_scales, float *const *ys);
void bnk_dot_q8_0_split_neon(const int8_t *quants, const uint16_t *scales, size_t cols, size_t row_begin,
                             size_t row_end, const int16_t *x, float x_scale, float *y);

/* ---------------------------------------------------------------------------
 * Requantization to Q8_0 (the LM head at load; see quantize_q8_0.c for the
 * exact rule, bit-exact with the Swift reference twin). Encodes rows
 * [row_begin, row_end) of `src` (row r at src + r*cols, cols a multiple of
 * 32) into dst (row r at dst + r*(cols/32)*34, blocks as above).
 * Returns row_end, or the first row holding a value Q8_0 cannot encode
 * (NaN, +-Inf, or a block scale max|x|/127 beyond f16): the kernel stops
 * there and that row's output is incomplete.
 * ------------------------------------------------------------------------- */
size_t bnk_quantize_q8_0_f16_avx2(const uint16_t *src, size_t cols, size_t row_begin, size_t row_end,
                                  uint8_t *dst);
size_t bnk_quantize_q8_0_f16_avx512(const uint16_t *src, size_t cols, size_t row_begin, size_t row_end,
                                    uint8_t *dst);
size_t bnk_quantize_q8_0_f32_avx2(const float *src, size_t cols, size_t row_begin, size_t row_end,
                                  uint8_t *dst);
size_t bnk_quantize_q8_0_f32_avx512(const float *src, size_t cols, size_t row_begin, size_t row_end,
                                    uint8_t *dst);
size_t bnk_quantize_q8_0_f16_neon(const uint16_t *src, size_t cols, size_t row_begin, size_t row_end,
                                  uint8_t *dst);
size_t bnk_quantize_q8_0_f32_neon(const float *src, size_t cols, size_t row_begin, size_t row_end,
                                  uint8_t *dst);
/* The same encoding written in the split layout above (quants + r*cols,
 * scales + r*(cols/32)); same return value. */
size_t bnk_quantize_q8_0_split_f16_avx2(const uint16_t *src, size_t cols, size_t row_begin, size_t row_end,
                                        int8_t *quants, uint16_t *scales);
size_t bnk_quantize_q8_0_split_f16_avx512(const uint16_t *src, size_t cols, size_t row_begin, size_t row_end,
                                          int8_t *quants, uint16_t *scales);
size_t bnk_quantize_q8_0_split_f32_avx2(const float *src, size_t cols, size_t row_begin, size_t row_end,
                                        int8_t *quants, uint16_t *scales);
size_t bnk_quantize_q8_0_split_f32_avx512(const float *src, size_t cols, size_t row_begin, size_t row_end,
                                          int8_t *quants, uint16_t *scales);
size_t bnk_quantize_q8_0_split_f16_neon(const uint16_t *src, size_t cols, size_t row_begin, size_t row_end,
                                        int8_t *quants, uint16_t *scales);
size_t bnk_quantize_q8_0_split_f32_neon(const float *src, size_t cols, size_t row_begin, size_t row_end,
                                        int8_t *quants, uint16_t *scales);

/* ---------------------------------------------------------------------------
 * Activation rows (activation_rows.c): bit-exact twins of
 * FloatOps.sumOfSquaresReference and QuantizedActivations.quantizeRowReference.
 * ------------------------------------------------------------------------- */
/** Σ x[i]² in double, in the 16-lane order the Swift reference defines. */
double bnk_sum_squares_avx2(const float *x, size_t n);
/** q = round(v·s) clamped to int8 with s = 127 / max|v|; stores Σq, returns s. */
float bnk_quantize_row_i8_avx2(const float *v, size_t n, int8_t *q, int32_t *sum);
/* The same two, bit-exact too, for AArch64 (plain NEON). */
double bnk_sum_squares_neon(const float *x, size_t n);
float bnk_quantize_row_i8_neon(const float *v, size_t n, int8_t *q, int32_t *sum);

/* ---------------------------------------------------------------------------
 * Threading helpers the Swift side cannot reach (macros / inline asm).
 * ------------------------------------------------------------------------- */
/** Pins the calling thread to `cpu`; returns 0 on success (best effort). */
int bnk_pin_current_thread(int cpu);
/** A spin-wait hint (`pause` on x86, `yield` on AArch64). */
void bnk_cpu_relax(void);

/* ---------------------------------------------------------------------------
 * Bandwidth probe: wrapping sum of n 64-bit words (only the reads matter).
 * ------------------------------------------------------------------------- */
uint64_t bnk_sum_words_avx512(const uint64_t *p, size_t n);
uint64_t bnk_sum_words_avx2(const uint64_t *p, size_t n);
uint64_t bnk_sum_words_neon(const uint64_t *p, size_t n);

#ifdef __cplusplus
}
#endif

#endif
