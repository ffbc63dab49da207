/* Ternary x int8 products with AVX-512 VNNI (vpdpbusd: u8 x s8, four products
 * summed straight into int32, no int16 saturation). See bitnet_kernels.h for
 * the packed layout and the exact result each kernel must produce. */
#include "bitnet_kernels.h"
#include "stream_prefetch.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include "x86_target.h"

/* Writes the 4 row dots of one tile for token t (rows outside the range are skipped). */
static inline void store_tile(const bnk_ternary_args *a, size_t tile, size_t t,
                              const int32_t dots[BNK_TILE_ROWS]) {
    size_t row0 = tile * BNK_TILE_ROWS;
    for (size_t i = 0; i < BNK_TILE_ROWS; i++) {
        size_t r = row0 + i;
        if (r < a->row_begin || r >= a->row_end) continue;
        float v = (float)(dots[i] - a->q_sum[t]) * a->row_scale[r * a->row_scale_stride];
        v = v * a->inv_scale[t];
        float *dst = a->y + t * a->y_stride + r;
        if (a->accumulate) {
            float old = *dst;
            *dst = old + v;
        } else {
            *dst = v;
        }
    }
}

/* The 4 row sums of a tile held as two zmm (rows 0|1 and 2|3, 8 partial
 * sums each) reduced to one xmm [r0 r1 r2 r3]. */
BNK_AVX512 static inline __m128i reduce_tile(__m512i s01, __m512i s23) {
    /* 128-bit lanes: row0 row0 row1 row1 | row2 row2 row3 row3 -> per-row pairs summed. */
    __m512i a = _mm512_add_epi32(_mm512_shuffle_i64x2(s01, s23, 0x88), _mm512_shuffle_i64x2(s01, s23, 0xDD));
    a = _mm512_add_epi32(a, _mm512_shuffle_epi32(a, (_MM_PERM_ENUM)0x4E));
    a = _mm512_add_epi32(a, _mm512_shuffle_epi32(a, (_MM_PERM_ENUM)0xB1));
    /* Every element of lane i now holds row i's total; after the 0x88 /
     * 0xDD shuffles the lanes are in row order 0, 1, 2, 3. */
    return _mm512_castsi512_si128(_mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), a));
}

/* The tile's rows inside [row_begin, row_end), as a lane mask. */
static inline __mmask8 tile_row_mask(const bnk_ternary_args *a, size_t tile) {
    size_t row0 = tile * BNK_TILE_ROWS;
    __mmask8 m = 0;
    for (size_t i = 0; i < BNK_TILE_ROWS; i++)
        if (row0 + i >= a->row_begin && row0 + i < a->row_end) m |= (__mmask8)(1u << i);
    return m;
}

/* store_tile for token t, in SIMD when there is one scale per row: the same
 * float operations in the same order, so bit-identical to the scalar epilogue. */
BNK_AVX512 static inline void store_tile_1(const bnk_ternary_args *a, size_t tile, size_t t, __m128i dots) {
    if (a->row_scale_stride != 1) {
        int32_t d[BNK_TILE_ROWS];
        _mm_storeu_si128((__m128i *)d, dots);
        store_tile(a, tile, t, d);
        return;
    }
    size_t row0 = tile * BNK_TILE_ROWS;
    __mmask8 m = tile_row_mask(a, tile);
    __m128 v = _mm_cvtepi32_ps(_mm_sub_epi32(dots, _mm_set1_epi32(a->q_sum[t])));
    v = _mm_mul_ps(v, _mm_maskz_loadu_ps(m, a->row_scale + row0));
    v = _mm_mul_ps(v, _mm_set1_ps(a->inv_scale[t]));
    float *dst = a->y + t * a->y_stride + row0;
    if (a->accumulate) v = _mm_add_ps(_mm_maskz_loadu_ps(m, dst), v);
    _mm_mask_storeu_ps(dst, m, v);
}

/* Sixteen (token, row) sums reduced together: lo[k] and hi[k] hold, in their
 * 256-bit halves, 8 partial sums of each of four (token, row) pairs, and
 * element e of the result is the total of the pair `order` sends there. A
 * transposing add tree shares its shuffles across the sums, where one
 * reduce_tile per token would repeat them. */
BNK_AVX512 static inline __m512i reduce_sums16(const __m512i lo[4], const __m512i hi[4], __m512i order) {
    __m512i x[4];
    for (int k = 0; k < 4; k++) /* 128-bit lane i: four partial sums of one (token, row) */
        x[k] = _mm512_add_epi32(_mm512_shuffle_i64x2(lo[k], hi[k], 0x88), _mm512_shuffle_i64x2(lo[k], hi[k], 0xDD));
    __m512i x01 = _mm512_add_epi32(_mm512_unpacklo_epi32(x[0], x[1]), _mm512_unpackhi_epi32(x[0], x[1]));
    __m512i x23 = _mm512_add_epi32(_mm512_unpacklo_epi32(x[2], x[3]), _mm512_unpackhi_epi32(x[2], x[3]));
    /* lane i, element k: x[k]'s lane i total */
    return _mm512_permutexvar_epi32(order, _mm512_add_epi32(_mm512_unpacklo_epi64(x01, x23), _mm512_unpackhi_epi64(x01, x23)));
}

/* store_tile for tokens t..t+3 (token k's row i at element 4k + i), in SIMD: the same
 * float operations in the same order as the scalar epilogue. */
BNK_AVX512 static inline void store_tiles4(const bnk_ternary_args *a, size_t tile, size_t t, __m512i dots) {
    if (a->row_scale_stride != 1) {
        int32_t d[4 * BNK_TILE_ROWS];
        _mm512_storeu_si512((void *)d, dots);
        for (size_t k = 0; k < 4; k++) store_tile(a, tile, t + k, d + k * BNK_TILE_ROWS);
        return;
    }
    size_t row0 = tile * BNK_TILE_ROWS;
    __mmask8 m = tile_row_mask(a, tile);
    const __m512i each_token = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    __m512i q_sum = _mm512_permutexvar_epi32(each_token, _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(a->q_sum + t))));
    __m512 inv = _mm512_permutexvar_ps(each_token, _mm512_castps128_ps512(_mm_loadu_ps(a->inv_scale + t)));
    __m512 v = _mm512_cvtepi32_ps(_mm512_sub_epi32(dots, q_sum));
    v = _mm512_mul_ps(v, _mm512_broadcast_f32x4(_mm_maskz_loadu_ps(m, a->row_scale + row0)));
    v = _mm512_mul_ps(v, inv);
    float *dst = a->y + t * a->y_stride + row0;
    __m128 v0 = _mm512_castps512_ps128(v), v1 = _mm512_extractf32x4_ps(v, 1);
    __m128 v2 = _mm512_extractf32x4_ps(v, 2), v3 = _mm512_extractf32x4_ps(v, 3);
    if (a->accumulate) {
        v0 = _mm_add_ps(_mm_maskz_loadu_ps(m, dst), v0);
        v1 = _mm_add_ps(_mm_maskz_loadu_ps(m, dst + a->y_stride), v1);
        v2 = _mm_add_ps(_mm_maskz_loadu_ps(m, dst + 2 * a->y_stride), v2);
        v3 = _mm_add_ps(_mm_maskz_loadu_ps(m, dst + 3 * a->y_stride), v3);
    }
    _mm_mask_storeu_ps(dst, m, v0);
    _mm_mask_storeu_ps(dst + a->y_stride, m, v1);
    _mm_mask_storeu_ps(dst + 2 * a->y_stride, m, v2);
    _mm_mask_storeu_ps(dst + 3 * a->y_stride, m, v3);
}

/* One token. The 2-bit fields are masked in place instead of shifted down:
 * (byte & 0xC0) = 64*c etc., so each field gets its own accumulator and the
 * shifts happen once per tile at the end (every lane is an exact multiple). */
BNK_AVX512 static void matvec(const bnk_ternary_args *a) {
    const size_t tile_begin = a->row_begin / BNK_TILE_ROWS;
    const size_t tile_end = (a->row_end + BNK_TILE_ROWS - 1) / BNK_TILE_ROWS;
    const __m512i m3 = _mm512_set1_epi8((char)0xC0), m2 = _mm512_set1_epi8(0x30);
    const __m512i m1 = _mm512_set1_epi8(0x0C), m0 = _mm512_set1_epi8(0x03);
    const int8_t *q = a->q;
    for (size_t tile = tile_begin; tile < tile_end; tile++) {
        const uint8_t *w = a->packed + (tile * a->blocks_per_row + a->block_begin) * 128;
        __m512i a3 = _mm512_setzero_si512(), a2 = a3, a1 = a3, a0 = a3;
        __m512i b3 = a3, b2 = a3, b1 = a3, b0 = a3;
        for (size_t blk = a->block_begin; blk < a->block_end; blk++, w += 128) {
            bnk_prefetch_stream(w);
            bnk_prefetch_stream(w + 64);
            const int8_t *qb = q + blk * 128;
            __m512i q0 = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)qb));
            __m512i q1 = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(qb + 32)));
            __m512i q2 = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(qb + 64)));
            __m512i q3 = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(qb + 96)));
            __m512i w01 = _mm512_load_si512((const void *)w);
            __m512i w23 = _mm512_load_si512((const void *)(w + 64));
            a3 = _mm512_dpbusd_epi32(a3, _mm512_and_si512(w01, m3), q0);
            a2 = _mm512_dpbusd_epi32(a2, _mm512_and_si512(w01, m2), q1);
            a1 = _mm512_dpbusd_epi32(a1, _mm512_and_si512(w01, m1), q2);
            a0 = _mm512_dpbusd_epi32(a0, _mm512_and_si512(w01, m0), q3);
            b3 = _mm512_dpbusd_epi32(b3, _mm512_and_si512(w23, m3), q0);
            b2 = _mm512_dpbusd_epi32(b2, _mm512_and_si512(w23, m2), q1);
            b1 = _mm512_dpbusd_epi32(b1, _mm512_and_si512(w23, m1), q2);
            b0 = _mm512_dpbusd_epi32(b0, _mm512_and_si512(w23, m0), q3);
        }
        __m512i s01 = _mm512_add_epi32(
            _mm512_add_epi32(_mm512_srai_epi32(a3, 6), _mm512_srai_epi32(a2, 4)),
            _mm512_add_epi32(_mm512_srai_epi32(a1, 2), a0));
        __m512i s23 = _mm512_add_epi32(
            _mm512_add_epi32(_mm512_srai_epi32(b3, 6), _mm512_srai_epi32(b2, 4)),
            _mm512_add_epi32(_mm512_srai_epi32(b1, 2), b0));
        store_tile_1(a, tile, 0, reduce_tile(s01, s23));
    }
}

/* The codes of field j (bits 7:6, 5:4, 3:2, 1:0) of packed bytes w. The
 * shift counts are literals, as immediate shifts require. */
BNK_AVX512 static inline __m512i field_codes(__m512i w, int j, __m512i mask) {
    switch (j) {
    case 0: return _mm512_and_si512(_mm512_srli_epi16(w, 6), mask);
    case 1: return _mm512_and_si512(_mm512_srli_epi16(w, 4), mask);
    case 2: return _mm512_and_si512(_mm512_srli_epi16(w, 2), mask);
    default: return _mm512_and_si512(w, mask);
    }
}

/* NT tokens (1..8) share every weight load: the codes are unpacked once per
 * block (shift + mask, 8 registers) and fed to NT x 2 accumulators (16 at
 * most), which fits the 32 zmm registers without spilling. */
BNK_AVX512 static inline __attribute__((always_inline)) void
matmul_tile(const bnk_ternary_args *a, size_t tile, size_t t0, const int NT) {
    const __m512i m = _mm512_set1_epi8(0x03);
    const uint8_t *w = a->packed + (tile * a->blocks_per_row + a->block_begin) * 128;
    __m512i acc01[8], acc23[8];
    for (int t = 0; t < NT; t++) acc01[t] = acc23[t] = _mm512_setzero_si512();
    for (size_t blk = a->block_begin; blk < a->block_end; blk++, w += 128) {
        /* The first token group streams the tile from memory (a batched
         * decode step of 2..8 rows is that group alone, and bandwidth-bound
         * like a one-token matvec); later groups find it in L1. */
        if (t0 == 0) {
            bnk_prefetch_stream(w);
            bnk_prefetch_stream(w + 64);
        }
        __m512i w01 = _mm512_load_si512((const void *)w);
        __m512i w23 = _mm512_load_si512((const void *)(w + 64));
        __m512i c01[4], c23[4];
        for (int j = 0; j < 4; j++) {
            c01[j] = field_codes(w01, j, m);
            c23[j] = field_codes(w23, j, m);
        }
        for (int t = 0; t < NT; t++) {
            const int8_t *qb = a->q + (t0 + t) * a->q_stride + blk * 128;
            for (int j = 0; j < 4; j++) {
                __m512i qj = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(qb + 32 * j)));
                acc01[t] = _mm512_dpbusd_epi32(acc01[t], c01[j], qj);
                acc23[t] = _mm512_dpbusd_epi32(acc23[t], c23[j], qj);
            }
        }
    }
    int t = 0;
    /* acc01[t + k] / acc23[t + k]: token k's rows 0|1 and 2|3; lane i of x[k] is row i. */
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    for (; t + 4 <= NT; t += 4) store_tiles4(a, tile, t0 + t, reduce_sums16(acc01 + t, acc23 + t, order));
    for (; t < NT; t++) store_tile_1(a, tile, t0 + t, reduce_tile(acc01[t], acc23[t]));
}

/* Eight tokens as four pairs. In
 * matmul_tile every 32 activations are broadcast to both halves of a zmm
 * (rows 0|1 share them), one shuffle per 2 vpdpbusd, and on Zen 4 those
 * shuffles cost the tile about 10% of its issue rate. Here a zmm of
 * activations holds two tokens' 32 columns, [token 2p | token 2p + 1], a plain
 * load from a pair-interleaved copy (interleave_pairs), and the shuffles move
 * to the codes instead: one per row and field, shared by every pair. The
 * accumulator of pair p and row i holds its two tokens' partial sums in its
 * halves. Same exact int32 dots, same reduction and epilogue (reduce_sums16, store_tiles4), so the same
 * bits. tools/bench/ternary_tile.c on Zen 4, 8 tokens: 1 thread in cache
 * +10% (2,560 and 6,912 columns), 2 threads streaming +7-10%. */
BNK_AVX512 static inline __attribute__((always_inline)) void
matmul_pairs_tile(const bnk_ternary_args *a, const int8_t *pairs, size_t chunks, size_t tile, size_t t0) {
    enum { NP = 4 };
    const __m512i m = _mm512_set1_epi8(0x03);
    const uint8_t *w = a->packed + (tile * a->blocks_per_row + a->block_begin) * 128;
    __m512i acc[NP][BNK_TILE_ROWS];
    for (int p = 0; p < NP; p++)
        for (int r = 0; r < BNK_TILE_ROWS; r++) acc[p][r] = _mm512_setzero_si512();
    for (size_t blk = 0; blk < a->block_end - a->block_begin; blk++, w += 128) {
        if (t0 == 0) { /* the first token group streams the tile, as in matmul_tile */
            bnk_prefetch_stream(w);
            bnk_prefetch_stream(w + 64);
        }
        const __m512i w01 = _mm512_load_si512((const void *)w);
        const __m512i w23 = _mm512_load_si512((const void *)(w + 64));
        for (int j = 0; j < 4; j++) {
            const __m512i c01 = field_codes(w01, j, m), c23 = field_codes(w23, j, m);
            const __m512i row[BNK_TILE_ROWS] = {
                _mm512_shuffle_i64x2(c01, c01, 0x44), _mm512_shuffle_i64x2(c01, c01, 0xEE),
                _mm512_shuffle_i64x2(c23, c23, 0x44), _mm512_shuffle_i64x2(c23, c23, 0xEE)};
            for (int p = 0; p < NP; p++) {
                const __m512i x = _mm512_load_si512((const void *)(pairs + (p * chunks + blk * 4 + (size_t)j) * 64));
                for (int r = 0; r < BNK_TILE_ROWS; r++) acc[p][r] = _mm512_dpbusd_epi32(acc[p][r], row[r], x);
            }
        }
    }
    /* Two pairs at a time: x[0] holds pair 0's rows 0 and 1, x[1] its rows 2
     * and 3, x[2] and x[3] pair 1's; lane 0 of the sums is then t0r0 t0r2
     * t2r0 t2r2, lane 1 t1r0 t1r2 t3r0 t3r2, lanes 2 and 3 the same for rows
     * 1 and 3, reordered token-major. */
    const __m512i order = _mm512_setr_epi32(0, 8, 1, 9, 4, 12, 5, 13, 2, 10, 3, 11, 6, 14, 7, 15);
    for (int g = 0; g < NP / 2; g++) {
        const __m512i *p0 = acc[2 * g], *p1 = acc[2 * g + 1];
        const __m512i lo[4] = {p0[0], p0[2], p1[0], p1[2]}, hi[4] = {p0[1], p0[3], p1[1], p1[3]};
        store_tiles4(a, tile, t0 + 4 * (size_t)g, reduce_sums16(lo, hi, order));
    }
}

/* The pair-interleaved copy of tokens 0..n-1 (n even) over the call's column
 * blocks: pair p's chunk c (32 columns) is 64 bytes, token 2p's then token
 * 2p + 1's, at (p * chunks + c) * 64. NULL when memory is short (the caller
 * then runs matmul_tile alone). */
static int8_t *interleave_pairs(const bnk_ternary_args *a, size_t n, size_t chunks) {
    int8_t *pairs = aligned_alloc(64, n / 2 * chunks * 64);
    if (!pairs) return NULL;
    const int8_t *q = a->q + a->block_begin * BNK_BLOCK_COLS;
    for (size_t p = 0; p < n / 2; p++)
        for (size_t c = 0; c < chunks; c++) {
            memcpy(pairs + (p * chunks + c) * 64, q + 2 * p * a->q_stride + 32 * c, 32);
            memcpy(pairs + (p * chunks + c) * 64 + 32, q + (2 * p + 1) * a->q_stride + 32 * c, 32);
        }
    return pairs;
}

BNK_AVX512 static void matmul(const bnk_ternary_args *a) {
    const size_t tile_begin = a->row_begin / BNK_TILE_ROWS;
    const size_t tile_end = (a->row_end + BNK_TILE_ROWS - 1) / BNK_TILE_ROWS;
    /* Whole groups of 8 tokens run in pairs (at 4 tokens the codes' shuffles
     * would be as many as the broadcasts they replace). */
    const size_t paired = a->n_tokens / 8 * 8, chunks = (a->block_end - a->block_begin) * 4;
    int8_t *pairs = paired > 0 ? interleave_pairs(a, paired, chunks) : NULL;
    for (size_t tile = tile_begin; tile < tile_end; tile++) {
        size_t t = 0;
        if (pairs)
            for (; t < paired; t += 8) matmul_pairs_tile(a, pairs + t / 2 * chunks * 64, chunks, tile, t);
        for (; t + 8 <= a->n_tokens; t += 8) matmul_tile(a, tile, t, 8);
        switch (a->n_tokens - t) {
        case 7: matmul_tile(a, tile, t, 7); break;
        case 6: matmul_tile(a, tile, t, 6); break;
        case 5: matmul_tile(a, tile, t, 5); break;
        case 4: matmul_tile(a, tile, t, 4); break;
        case 3: matmul_tile(a, tile, t, 3); break;
        case 2: matmul_tile(a, tile, t, 2); break;
        case 1: matmul_tile(a, tile, t, 1); break;
        default: break;
        }
    }
    free(pairs);
}

void bnk_ternary_avx512vnni(const bnk_ternary_args *a) {
    if (a->row_begin >= a->row_end || a->n_tokens == 0) return;
    if (a->n_tokens == 1) matvec(a);
    else matmul(a);
}

#else
void bnk_ternary_avx512vnni(const bnk_ternary_args *a) { (void)a; }
#endif
