/*
 * The tile step of bnk_attention_tile_avx512 (and _avx2) for decode-shaped calls with
 * four query rows (one position of a KV head shared by four query heads, as
 * in 2B4T and Llama 3): the same bits, a quarter of the score work.
 *
 * Why: the tile kernel puts query rows in vector lanes, so with four live
 * rows 12 of 16 lanes of every score FMA (and every exp) compute padding.
 * Here a lane is a (row, key) pair, lane = 4 * row + key-in-block, over
 * blocks of 4 keys: each key block is staged transposed (4 keys of one
 * dimension side by side, broadcast to the 4 rows' lane groups by a load),
 * the queries come repeated 4 times per row (qrep, built by the caller once
 * per position). Every (key, row) score is still
 * one FMA chain over d in increasing order from 0, every exp the same
 * polynomial, the row sum the same sequential adds over keys and the value
 * accumulation the same FMA chain, so the results equal the tile kernel's
 * and AttentionTile.stepReference's bit for bit (the running max too, up to
 * the sign of a zero, which no later operation can see).
 *
 * Contract: as bnk_attention_tile_avx512 with rows_padded = 16, rows 4..15
 * limit 0 (untouched), rows 0..3 one common `limit`, queries as qrep
 * (qrep[16 d + 4 r + j] = qt[16 d + r]); dim a multiple of 16;
 * scratch: bnk_attention_decode4_scratch(keys, dim) floats.
 */
#include "bitnet_attention.h"

size_t bnk_attention_decode4_scratch(size_t keys, size_t dim) {
    size_t blocks = (keys + 3) / 4;
    return blocks * 4 * dim + blocks * 16;
}

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>

#include "attention_exp.h"

/* Where a decode4 call reads its keys and values: staged f32 rows
 * (`stride` = dim floats apart) or, in place, the f16 cache rows of one KV
 * head (`stride` halves apart). The f16 -> f32 conversion is exact, so both
 * give the kernel the same floats and the same bits. */
typedef struct {
    const void *k, *v;
    size_t stride;
    int f16;
} decode4_rows;

/* Cache rows a caller wants read soon (bnk_attention_prefetch: decode
 * passes each call a share of the next tile), prefetched a line pair (key
 * and value) per step, spread over this call's score and value loops: a
 * 64-key tile of 128 dimensions has 128 steps in each (the AVX-512 kernel
 * takes two or four per loop step), which is 256 line pairs, the size of a
 * head's share. Why spread: a burst of hundreds of prefetches fills the miss
 * buffers and stalls the loads of the very loop that issues them (and on Zen
 * 3 every hint fills L1, where a whole tile of every head evicted the staged
 * keys); one pair every few vector steps keeps the memory stream going while
 * the arithmetic runs. What the loops do not
 * reach is prefetched at the end. Rows are read from their start in 64-byte
 * steps, so a row that does not start on a line leaves its last partial
 * line to the hardware. The hint is T1 (to L2), as for the far weight
 * prefetch (stream_prefetch.h). On Zen 4, T0 was the slower hint
 * (decode_attention 4096 2 15 30 rows 1 {avx512,avx2} ahead: 16.8-18.9 ->
 * 14.5-15.0 ms and 15.9-16.4 -> 14.8-15.6; a token at depth 4096 2.9-3.0 ms
 * and 2.0-2.1 ms faster, paired within one process, BENCHMARKS.md); not
 * profiled (no hardware counters in that guest), but a T0 prefetch holds an
 * L1 fill buffer until its line arrives, the likely cap on the stream. A
 * whole next tile (160 KB for 2B4T's five KV heads) fits in L2, not in L1. */
typedef struct {
    const char *keys, *values;  /* the current row */
    size_t offset;              /* of its next line */
    size_t row_bytes, stride, rows_left;
} prefetch_cursor;

static inline prefetch_cursor prefetch_cursor_make(const bnk_attention_prefetch *next) {
    prefetch_cursor c = {NULL, NULL, 0, 0, 0, 0};
    if (next != NULL && next->row_bytes > 0)
        c = (prefetch_cursor){(const char *)next->keys, (const char *)next->values, 0, next->row_bytes, next->stride,
                              next->rows};
    return c;
}

static inline __attribute__((always_inline)) void prefetch_step(prefetch_cursor *c) {
    if (c->rows_left == 0) return;
    _mm_prefetch(c->keys + c->offset, _MM_HINT_T1);
    _mm_prefetch(c->values + c->offset, _MM_HINT_T1);
    c->offset += 64;
    if (c->offset >= c->row_bytes) {
        c->offset = 0;
        c->keys += c->stride;
        c->values += c->stride;
        c->rows_left--;
    }
}

/* Floats at..at+15 of row `row` (keys or values). */
BNK_AVX512 static inline __attribute__((always_inline)) __m512 load_row16(const decode4_rows *src, const void *base,
                                                                        size_t row, size_t at) {
    if (src->f16)
        return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)base + row * src->stride + at)));
    return _mm512_loadu_ps((const float *)base + row * src->stride + at);
}

/* Key block b (keys 4b..4b+3, zero rows past `keys`) transposed: for each
 * 16-dimension chunk c, 4 vectors whose 128-bit lane L holds dimension
 * 16c + 4L + i of the 4 keys (vector i). Dimension d of the block therefore
 * sits at kt + c * 64 + ((d % 4) * 4 + (d % 16) / 4) * 4. */
BNK_AVX512 static inline __attribute__((always_inline)) void stage_block(const decode4_rows *src, size_t keys,
                                                                       size_t dim, size_t b, float *kt) {
    const __m512 zero = _mm512_setzero_ps();
    int present[4];
    for (size_t i = 0; i < 4; i++) present[i] = 4 * b + i < keys;
    for (size_t c = 0; c < dim / 16; c++) {
        __m512 a0 = present[0] ? load_row16(src, src->k, 4 * b, 16 * c) : zero;
        __m512 a1 = present[1] ? load_row16(src, src->k, 4 * b + 1, 16 * c) : zero;
        __m512 a2 = present[2] ? load_row16(src, src->k, 4 * b + 2, 16 * c) : zero;
        __m512 a3 = present[3] ? load_row16(src, src->k, 4 * b + 3, 16 * c) : zero;
        __m512 t0 = _mm512_unpacklo_ps(a0, a1), t1 = _mm512_unpackhi_ps(a0, a1);
        __m512 t2 = _mm512_unpacklo_ps(a2, a3), t3 = _mm512_unpackhi_ps(a2, a3);
        float *out = kt + c * 64;
        _mm512_storeu_ps(out, _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t0), _mm512_castps_pd(t2))));
        _mm512_storeu_ps(out + 16, _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t0), _mm512_castps_pd(t2))));
        _mm512_storeu_ps(out + 32, _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t1), _mm512_castps_pd(t3))));
        _mm512_storeu_ps(out + 48, _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t1), _mm512_castps_pd(t3))));
    }
}

/* Offset of dimension d inside a staged block (see stage_block). */
static inline size_t staged_offset(size_t d) { return (d / 16) * 64 + ((d % 4) * 4 + (d % 16) / 4) * 4; }

#define BROADCAST4(p) _mm512_broadcast_f32x4(_mm_loadu_ps(p))

BNK_AVX512 static inline __attribute__((always_inline)) void
decode4_avx512(const float *qrep, const decode4_rows *src, size_t keys, size_t dim, int32_t limit, float *row_max,
               float *row_sum, float *o, float *scratch, const bnk_attention_prefetch *next) {
    if (keys == 0 || limit <= 0) return;
    const size_t blocks = (keys + 3) / 4, block_floats = 4 * dim;
    const size_t valid = (size_t)limit < keys ? (size_t)limit : keys;
    const __m512i repeat = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    /* Keys are staged 8 blocks (32 keys, the 8 FMA chains of a pass) at a
     * time, just before their scores: 16 KiB of staged floats instead of the
     * whole tile's 32, so that they stay in L1 beside the queries and the
     * prefetched rows (as the AVX2 kernel does with 16 keys). */
    const size_t staged_blocks = blocks < 8 ? blocks : 8;
    float *kt = scratch, *s = kt + staged_blocks * block_floats;
    prefetch_cursor ahead = prefetch_cursor_make(next);

    /* Scores s[b] lanes (r, j) = sum_d k[4b + j][d] * qrep[d][4r + j], 8 blocks (8 chains) at a time.
     * Dimensions d = 16c + 4a + i sit at constant offsets 16i from
     * staged_offset(16c + 4a), so the loop takes four per step (in increasing
     * order). Two prefetch steps per step: a pass does half as many steps as
     * the AVX2 kernel's, and the tile's share of the next rows is the same. */
    size_t b = 0;
    for (; b + 8 <= blocks; b += 8) {
        for (size_t i = 0; i < 8; i++) stage_block(src, keys, dim, b + i, kt + i * block_floats);
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (size_t d4 = 0; d4 < dim; d4 += 4) {
            prefetch_step(&ahead);
            prefetch_step(&ahead);
            const float *kd = kt + staged_offset(d4), *qd = qrep + d4 * 16;
#define SCORE_STEP(i) { \
            const __m512 q = _mm512_loadu_ps(qd + 16 * (i)); \
            const float *ki = kd + 16 * (i); \
            a0 = _mm512_fmadd_ps(BROADCAST4(ki), q, a0); \
            a1 = _mm512_fmadd_ps(BROADCAST4(ki + block_floats), q, a1); \
            a2 = _mm512_fmadd_ps(BROADCAST4(ki + 2 * block_floats), q, a2); \
            a3 = _mm512_fmadd_ps(BROADCAST4(ki + 3 * block_floats), q, a3); \
            a4 = _mm512_fmadd_ps(BROADCAST4(ki + 4 * block_floats), q, a4); \
            a5 = _mm512_fmadd_ps(BROADCAST4(ki + 5 * block_floats), q, a5); \
            a6 = _mm512_fmadd_ps(BROADCAST4(ki + 6 * block_floats), q, a6); \
            a7 = _mm512_fmadd_ps(BROADCAST4(ki + 7 * block_floats), q, a7); }
            SCORE_STEP(0) SCORE_STEP(1) SCORE_STEP(2) SCORE_STEP(3)
#undef SCORE_STEP
        }
        _mm512_storeu_ps(s + b * 16, a0); _mm512_storeu_ps(s + (b + 1) * 16, a1);
        _mm512_storeu_ps(s + (b + 2) * 16, a2); _mm512_storeu_ps(s + (b + 3) * 16, a3);
        _mm512_storeu_ps(s + (b + 4) * 16, a4); _mm512_storeu_ps(s + (b + 5) * 16, a5);
        _mm512_storeu_ps(s + (b + 6) * 16, a6); _mm512_storeu_ps(s + (b + 7) * 16, a7);
    }
    for (; b < blocks; b++) {
        stage_block(src, keys, dim, b, kt);
        __m512 a = _mm512_setzero_ps();
        for (size_t d = 0; d < dim; d++) a = _mm512_fmadd_ps(BROADCAST4(kt + staged_offset(d)), _mm512_loadu_ps(qrep + d * 16), a);
        _mm512_storeu_ps(s + b * 16, a);
    }

    /* Softmax: lanes (r, j); the 4 lanes of row r are its 128-bit lane. */
    const __m512i lane_key = _mm512_set_epi32(3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0);
    const __m512 old_max = _mm512_permutexvar_ps(repeat, _mm512_loadu_ps(row_max));
    __m512 m = old_max;
    for (b = 0; b < blocks; b++) {
        __mmask16 ok = _mm512_cmplt_epi32_mask(_mm512_add_epi32(lane_key, _mm512_set1_epi32((int32_t)(4 * b))),
                                               _mm512_set1_epi32((int32_t)valid));
        m = _mm512_mask_max_ps(m, ok, m, _mm512_loadu_ps(s + b * 16));
    }
    m = _mm512_max_ps(m, _mm512_permute_ps(m, 0xB1));  /* swap neighbours */
    m = _mm512_max_ps(m, _mm512_permute_ps(m, 0x4E));  /* swap pairs: every lane of a row holds its max */
    const __mmask16 seen = _mm512_cmp_ps_mask(m, _mm512_set1_ps(-INFINITY), _CMP_NEQ_OQ);
    const __m512 c = exp_nonpositive(_mm512_maskz_sub_ps(seen, old_max, m));
    __m512 total = _mm512_setzero_ps();
    for (b = 0; b < blocks; b++) {
        __mmask16 ok = _mm512_cmplt_epi32_mask(_mm512_add_epi32(lane_key, _mm512_set1_epi32((int32_t)(4 * b))),
                                               _mm512_set1_epi32((int32_t)valid));
        __m512 x = _mm512_maskz_sub_ps(ok, _mm512_loadu_ps(s + b * 16), m);
        __m512 e = _mm512_maskz_mov_ps(ok, exp_nonpositive(x));
        _mm512_storeu_ps(s + b * 16, e);
        /* The row sum in key order, as the tile kernel adds it (a key of
         * this tile past the limit adds an exact +0 there: skipped here). */
        if (4 * b + 0 < valid) total = _mm512_add_ps(total, _mm512_permute_ps(e, 0x00));
        if (4 * b + 1 < valid) total = _mm512_add_ps(total, _mm512_permute_ps(e, 0x55));
        if (4 * b + 2 < valid) total = _mm512_add_ps(total, _mm512_permute_ps(e, 0xAA));
        if (4 * b + 3 < valid) total = _mm512_add_ps(total, _mm512_permute_ps(e, 0xFF));
    }
    /* Lane 4r holds row r: compress rows 0..3 to lanes 0..3. */
    const __m512i pick = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 8, 4, 0);
    const __m512 sum = _mm512_fmadd_ps(_mm512_permutexvar_ps(repeat, _mm512_loadu_ps(row_sum)), c, total);
    _mm_storeu_ps(row_sum, _mm512_castps512_ps128(_mm512_permutexvar_ps(pick, sum)));
    _mm_storeu_ps(row_max, _mm512_castps512_ps128(_mm512_permutexvar_ps(pick, m)));
    float corr[16];
    _mm512_storeu_ps(corr, c);

    /* Values: the tile kernel's loop for rows 0..3, p of key j, row x at s[(j / 4) * 16 + 4x + j % 4];
     * four prefetch steps per 4 keys (a 64-column pass, a quarter of the AVX2 kernel's passes). */
    const __m512 c0 = _mm512_set1_ps(corr[0]), c1 = _mm512_set1_ps(corr[4]);
    const __m512 c2 = _mm512_set1_ps(corr[8]), c3 = _mm512_set1_ps(corr[12]);
    float *o0 = o, *o1 = o0 + dim, *o2 = o1 + dim, *o3 = o2 + dim;
    size_t col = 0;
    for (; col + 64 <= dim; col += 64) {
#define LOAD_ROW(i, oi, ci) \
        __m512 a##i##0 = _mm512_mul_ps(_mm512_loadu_ps(oi + col), ci); \
        __m512 a##i##1 = _mm512_mul_ps(_mm512_loadu_ps(oi + col + 16), ci); \
        __m512 a##i##2 = _mm512_mul_ps(_mm512_loadu_ps(oi + col + 32), ci); \
        __m512 a##i##3 = _mm512_mul_ps(_mm512_loadu_ps(oi + col + 48), ci);
        LOAD_ROW(0, o0, c0) LOAD_ROW(1, o1, c1) LOAD_ROW(2, o2, c2) LOAD_ROW(3, o3, c3)
#undef LOAD_ROW
#define ACC_ROW(i, pj) { __m512 bb = _mm512_set1_ps((pj)[4 * i]); \
            a##i##0 = _mm512_fmadd_ps(bb, v0, a##i##0); a##i##1 = _mm512_fmadd_ps(bb, v1, a##i##1); \
            a##i##2 = _mm512_fmadd_ps(bb, v2, a##i##2); a##i##3 = _mm512_fmadd_ps(bb, v3, a##i##3); }
#define VALUE_STEP(j, pj) { \
            __m512 v0 = load_row16(src, src->v, (j), col), v1 = load_row16(src, src->v, (j), col + 16); \
            __m512 v2 = load_row16(src, src->v, (j), col + 32), v3 = load_row16(src, src->v, (j), col + 48); \
            ACC_ROW(0, pj) ACC_ROW(1, pj) ACC_ROW(2, pj) ACC_ROW(3, pj) }
        size_t j = 0;
        for (; j + 4 <= valid; j += 4) {
            prefetch_step(&ahead); prefetch_step(&ahead); prefetch_step(&ahead); prefetch_step(&ahead);
            const float *pj = s + j * 4;
            VALUE_STEP(j, pj) VALUE_STEP(j + 1, pj + 1) VALUE_STEP(j + 2, pj + 2) VALUE_STEP(j + 3, pj + 3)
        }
        for (; j < valid; j++) VALUE_STEP(j, s + (j / 4) * 16 + j % 4)
#undef VALUE_STEP
#undef ACC_ROW
#define STORE_ROW(i, oi) \
        _mm512_storeu_ps(oi + col, a##i##0); _mm512_storeu_ps(oi + col + 16, a##i##1); \
        _mm512_storeu_ps(oi + col + 32, a##i##2); _mm512_storeu_ps(oi + col + 48, a##i##3);
        STORE_ROW(0, o0) STORE_ROW(1, o1) STORE_ROW(2, o2) STORE_ROW(3, o3)
#undef STORE_ROW
    }
    for (; col < dim; col += 16) {
        __m512 a0 = _mm512_mul_ps(_mm512_loadu_ps(o0 + col), c0);
        __m512 a1 = _mm512_mul_ps(_mm512_loadu_ps(o1 + col), c1);
        __m512 a2 = _mm512_mul_ps(_mm512_loadu_ps(o2 + col), c2);
        __m512 a3 = _mm512_mul_ps(_mm512_loadu_ps(o3 + col), c3);
        for (size_t j = 0; j < valid; j++) {
            __m512 vj = load_row16(src, src->v, j, col);
            const float *pj = s + (j / 4) * 16 + j % 4;
            a0 = _mm512_fmadd_ps(_mm512_set1_ps(pj[0]), vj, a0);
            a1 = _mm512_fmadd_ps(_mm512_set1_ps(pj[4]), vj, a1);
            a2 = _mm512_fmadd_ps(_mm512_set1_ps(pj[8]), vj, a2);
            a3 = _mm512_fmadd_ps(_mm512_set1_ps(pj[12]), vj, a3);
        }
        _mm512_storeu_ps(o0 + col, a0); _mm512_storeu_ps(o1 + col, a1);
        _mm512_storeu_ps(o2 + col, a2); _mm512_storeu_ps(o3 + col, a3);
    }
    /* Whatever the loops did not reach (a short tile, or a head narrower than 64). */
    while (ahead.rows_left > 0) prefetch_step(&ahead);
}

BNK_AVX512 void bnk_attention_decode4_avx512(const float *qrep, const float *k, const float *v, size_t keys, size_t dim,
                                             int32_t limit, float *row_max, float *row_sum, float *o,
                                             float *scratch) {
    const decode4_rows src = {k, v, dim, 0};
    decode4_avx512(qrep, &src, keys, dim, limit, row_max, row_sum, o, scratch, NULL);
}

BNK_AVX512 void bnk_attention_decode4_f16_avx512(const float *qrep, const uint16_t *k, const uint16_t *v,
                                                 size_t stride, size_t keys, size_t dim, int32_t limit,
                                                 float *row_max, float *row_sum, float *o, float *scratch,
                                                 const bnk_attention_prefetch *next) {
    const decode4_rows src = {k, v, stride, 1};
    decode4_avx512(qrep, &src, keys, dim, limit, row_max, row_sum, o, scratch, next);
}

/* ---------------------------------------------------------------------------
 * The same with AVX2 + FMA: the 16 lanes of the AVX-512 version as two
 * vectors, rows 0-1 and rows 2-3 (the same staged key blocks, the same
 * score layout), every lane doing what the AVX2 tile kernel does for that
 * (row, key), so the bits are the same again.
 * ------------------------------------------------------------------------- */

/* F16C too: the in-place variant converts f16 rows, and the staged one shares its code. */
#define BNK_AVX2_F16C __attribute__((target("avx2,fma,f16c")))

/* Floats at..at+7 of row `row` (keys or values). */
BNK_AVX2_F16C static inline __attribute__((always_inline)) __m256 load_row8(const decode4_rows *src, const void *base,
                                                                        size_t row, size_t at) {
    if (src->f16)
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)base + row * src->stride + at)));
    return _mm256_loadu_ps((const float *)base + row * src->stride + at);
}

/* stage_block with 8-lane vectors: the unpacks work per 128-bit lane, so the
 * low half (dimensions 16c..16c+7) gives lanes L = 0, 1 and the high half L = 2, 3. */
BNK_AVX2_F16C static inline __attribute__((always_inline)) void stage_block_avx2(const decode4_rows *src, size_t keys,
                                                                             size_t dim, size_t b, float *kt) {
    const __m256 zero = _mm256_setzero_ps();
    int present[4];
    for (size_t i = 0; i < 4; i++) present[i] = 4 * b + i < keys;
    for (size_t c = 0; c < dim / 16; c++) {
        for (size_t half = 0; half < 2; half++) {
            size_t at = 16 * c + 8 * half;
            __m256 a0 = present[0] ? load_row8(src, src->k, 4 * b, at) : zero;
            __m256 a1 = present[1] ? load_row8(src, src->k, 4 * b + 1, at) : zero;
            __m256 a2 = present[2] ? load_row8(src, src->k, 4 * b + 2, at) : zero;
            __m256 a3 = present[3] ? load_row8(src, src->k, 4 * b + 3, at) : zero;
            __m256 t0 = _mm256_unpacklo_ps(a0, a1), t1 = _mm256_unpackhi_ps(a0, a1);
            __m256 t2 = _mm256_unpacklo_ps(a2, a3), t3 = _mm256_unpackhi_ps(a2, a3);
            float *out = kt + c * 64 + 8 * half;
            _mm256_storeu_ps(out, _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(t0), _mm256_castps_pd(t2))));
            _mm256_storeu_ps(out + 16, _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(t0), _mm256_castps_pd(t2))));
            _mm256_storeu_ps(out + 32, _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(t1), _mm256_castps_pd(t3))));
            _mm256_storeu_ps(out + 48, _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(t1), _mm256_castps_pd(t3))));
        }
    }
}

#define BROADCAST4_AVX2(p) _mm256_broadcast_ps((const __m128 *)(p))

/* Lanes of key slot j (0..3) valid: 4b + j < valid, as an all-ones mask. */
BNK_AVX2 static inline __m256 keys_valid_avx2(size_t b, size_t valid) {
    const __m256i lane_key = _mm256_set_epi32(3, 2, 1, 0, 3, 2, 1, 0);
    __m256i key = _mm256_add_epi32(lane_key, _mm256_set1_epi32((int32_t)(4 * b)));
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)valid), key));
}

BNK_AVX2_F16C static inline __attribute__((always_inline)) void
decode4_avx2(const float *qrep, const decode4_rows *src, size_t keys, size_t dim, int32_t limit, float *row_max,
             float *row_sum, float *o, float *scratch, const bnk_attention_prefetch *next) {
    if (keys == 0 || limit <= 0) return;
    const size_t blocks = (keys + 3) / 4, block_floats = 4 * dim;
    const size_t valid = (size_t)limit < keys ? (size_t)limit : keys;
    /* Keys are staged 4 blocks (16 keys) at a time, just before their
     * scores: 8 KiB of staged floats instead of the whole tile's 32, which
     * with the prefetched rows would no longer fit in L1. */
    const size_t staged_blocks = blocks < 4 ? blocks : 4;
    float *kt = scratch, *s = kt + staged_blocks * block_floats;
    prefetch_cursor ahead = prefetch_cursor_make(next);
    const __m256i low = _mm256_set_epi32(1, 1, 1, 1, 0, 0, 0, 0), high = _mm256_set_epi32(3, 3, 3, 3, 2, 2, 2, 2);
    /* Scores, 4 blocks (16 keys, 8 chains) at a time; a prefetch step every 4 dimensions.
     * Dimensions d = 16c + 4a + i, i = 0..3, sit at constant offsets 16i from
     * staged_offset(16c + 4a), so the loop runs over (c, a) with the four
     * dimensions unrolled (still in increasing order): no index arithmetic per
     * dimension, 10-12% less time per key with the data in
     * cache (tools/bench/decode_attention.c, 1 thread, Zen 3). */
    size_t b = 0;
    for (; b + 4 <= blocks; b += 4) {
        for (size_t i = 0; i < 4; i++) stage_block_avx2(src, keys, dim, b + i, kt + i * block_floats);
        __m256 l0 = _mm256_setzero_ps(), l1 = l0, l2 = l0, l3 = l0, h0 = l0, h1 = l0, h2 = l0, h3 = l0;
        for (size_t d4 = 0; d4 < dim; d4 += 4) {
            prefetch_step(&ahead);
            const float *kd = kt + staged_offset(d4), *qd = qrep + d4 * 16;
#define SCORE_STEP(i) { \
            const __m256 ql = _mm256_loadu_ps(qd + 16 * (i)), qh = _mm256_loadu_ps(qd + 16 * (i) + 8); \
            __m256 kv = BROADCAST4_AVX2(kd + 16 * (i)); \
            l0 = _mm256_fmadd_ps(kv, ql, l0); h0 = _mm256_fmadd_ps(kv, qh, h0); \
            kv = BROADCAST4_AVX2(kd + 16 * (i) + block_floats); \
            l1 = _mm256_fmadd_ps(kv, ql, l1); h1 = _mm256_fmadd_ps(kv, qh, h1); \
            kv = BROADCAST4_AVX2(kd + 16 * (i) + 2 * block_floats); \
            l2 = _mm256_fmadd_ps(kv, ql, l2); h2 = _mm256_fmadd_ps(kv, qh, h2); \
            kv = BROADCAST4_AVX2(kd + 16 * (i) + 3 * block_floats); \
            l3 = _mm256_fmadd_ps(kv, ql, l3); h3 = _mm256_fmadd_ps(kv, qh, h3); }
            SCORE_STEP(0) SCORE_STEP(1) SCORE_STEP(2) SCORE_STEP(3)
#undef SCORE_STEP
        }
        float *out = s + b * 16;
        _mm256_storeu_ps(out, l0); _mm256_storeu_ps(out + 8, h0);
        _mm256_storeu_ps(out + 16, l1); _mm256_storeu_ps(out + 24, h1);
        _mm256_storeu_ps(out + 32, l2); _mm256_storeu_ps(out + 40, h2);
        _mm256_storeu_ps(out + 48, l3); _mm256_storeu_ps(out + 56, h3);
    }
    for (; b < blocks; b++) {
        stage_block_avx2(src, keys, dim, b, kt);
        __m256 l = _mm256_setzero_ps(), h = l;
        for (size_t d = 0; d < dim; d++) {
            __m256 kv = BROADCAST4_AVX2(kt + staged_offset(d));
            l = _mm256_fmadd_ps(kv, _mm256_loadu_ps(qrep + d * 16), l);
            h = _mm256_fmadd_ps(kv, _mm256_loadu_ps(qrep + d * 16 + 8), h);
        }
        _mm256_storeu_ps(s + b * 16, l);
        _mm256_storeu_ps(s + b * 16 + 8, h);
    }

    /* Softmax, as tile_softmax_avx2 per lane; half 0 = rows 0-1, half 1 = rows 2-3. */
    float corr[16], sums[16], maxes[16];
    for (size_t half = 0; half < 2; half++) {
        const __m256i pick = half == 0 ? low : high;
        const __m256 old_max = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(row_max)), pick);
        __m256 m = old_max;
        for (b = 0; b < blocks; b++) {
            __m256 ok = keys_valid_avx2(b, valid);
            m = _mm256_blendv_ps(m, _mm256_max_ps(m, _mm256_loadu_ps(s + b * 16 + 8 * half)), ok);
        }
        m = _mm256_max_ps(m, _mm256_permute_ps(m, 0xB1));
        m = _mm256_max_ps(m, _mm256_permute_ps(m, 0x4E));
        const __m256 seen = _mm256_cmp_ps(m, _mm256_set1_ps(-INFINITY), _CMP_NEQ_OQ);
        const __m256 c = exp_nonpositive_avx2(_mm256_and_ps(seen, _mm256_sub_ps(old_max, m)));
        __m256 total = _mm256_setzero_ps();
        for (b = 0; b < blocks; b++) {
            __m256 ok = keys_valid_avx2(b, valid);
            float *sb = s + b * 16 + 8 * half;
            __m256 x = _mm256_and_ps(ok, _mm256_sub_ps(_mm256_loadu_ps(sb), m));
            __m256 e = _mm256_and_ps(ok, exp_nonpositive_avx2(x));
            _mm256_storeu_ps(sb, e);
            if (4 * b + 0 < valid) total = _mm256_add_ps(total, _mm256_permute_ps(e, 0x00));
            if (4 * b + 1 < valid) total = _mm256_add_ps(total, _mm256_permute_ps(e, 0x55));
            if (4 * b + 2 < valid) total = _mm256_add_ps(total, _mm256_permute_ps(e, 0xAA));
            if (4 * b + 3 < valid) total = _mm256_add_ps(total, _mm256_permute_ps(e, 0xFF));
        }
        const __m256 old_sum = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(row_sum)), pick);
        _mm256_storeu_ps(sums + 8 * half, _mm256_fmadd_ps(old_sum, c, total));
        _mm256_storeu_ps(maxes + 8 * half, m);
        _mm256_storeu_ps(corr + 8 * half, c);
    }
    for (size_t r = 0; r < 4; r++) {
        row_sum[r] = sums[4 * r];
        row_max[r] = maxes[4 * r];
    }

    /* Values: tile_values_avx2's loop for rows 0..3; a prefetch step every 4 keys. */
    const __m256 c0 = _mm256_set1_ps(corr[0]), c1 = _mm256_set1_ps(corr[4]);
    const __m256 c2 = _mm256_set1_ps(corr[8]), c3 = _mm256_set1_ps(corr[12]);
    float *o0 = o, *o1 = o0 + dim, *o2 = o1 + dim, *o3 = o2 + dim;
    for (size_t col = 0; col < dim; col += 16) {
        __m256 a00 = _mm256_mul_ps(_mm256_loadu_ps(o0 + col), c0), a01 = _mm256_mul_ps(_mm256_loadu_ps(o0 + col + 8), c0);
        __m256 a10 = _mm256_mul_ps(_mm256_loadu_ps(o1 + col), c1), a11 = _mm256_mul_ps(_mm256_loadu_ps(o1 + col + 8), c1);
        __m256 a20 = _mm256_mul_ps(_mm256_loadu_ps(o2 + col), c2), a21 = _mm256_mul_ps(_mm256_loadu_ps(o2 + col + 8), c2);
        __m256 a30 = _mm256_mul_ps(_mm256_loadu_ps(o3 + col), c3), a31 = _mm256_mul_ps(_mm256_loadu_ps(o3 + col + 8), c3);
#define VALUE_STEP(j, pj) { \
            __m256 v0 = load_row8(src, src->v, (j), col), v1 = load_row8(src, src->v, (j), col + 8); \
            __m256 bb = _mm256_broadcast_ss(pj); \
            a00 = _mm256_fmadd_ps(bb, v0, a00); a01 = _mm256_fmadd_ps(bb, v1, a01); \
            bb = _mm256_broadcast_ss((pj) + 4); \
            a10 = _mm256_fmadd_ps(bb, v0, a10); a11 = _mm256_fmadd_ps(bb, v1, a11); \
            bb = _mm256_broadcast_ss((pj) + 8); \
            a20 = _mm256_fmadd_ps(bb, v0, a20); a21 = _mm256_fmadd_ps(bb, v1, a21); \
            bb = _mm256_broadcast_ss((pj) + 12); \
            a30 = _mm256_fmadd_ps(bb, v0, a30); a31 = _mm256_fmadd_ps(bb, v1, a31); }
        /* Keys in order, 4 at a time (p of key 4i + x, row r at s[16i + 4r + x]). */
        size_t j = 0;
        for (; j + 4 <= valid; j += 4) {
            prefetch_step(&ahead);
            const float *pj = s + j * 4;
            VALUE_STEP(j, pj) VALUE_STEP(j + 1, pj + 1) VALUE_STEP(j + 2, pj + 2) VALUE_STEP(j + 3, pj + 3)
        }
        for (; j < valid; j++) VALUE_STEP(j, s + (j / 4) * 16 + j % 4)
#undef VALUE_STEP
        _mm256_storeu_ps(o0 + col, a00); _mm256_storeu_ps(o0 + col + 8, a01);
        _mm256_storeu_ps(o1 + col, a10); _mm256_storeu_ps(o1 + col + 8, a11);
        _mm256_storeu_ps(o2 + col, a20); _mm256_storeu_ps(o2 + col + 8, a21);
        _mm256_storeu_ps(o3 + col, a30); _mm256_storeu_ps(o3 + col + 8, a31);
    }
    /* Whatever the loops did not reach (a short tile before a full one). */
    while (ahead.rows_left > 0) prefetch_step(&ahead);
}

BNK_AVX2_F16C void bnk_attention_decode4_avx2(const float *qrep, const float *k, const float *v, size_t keys, size_t dim,
                                         int32_t limit, float *row_max, float *row_sum, float *o, float *scratch) {
    const decode4_rows src = {k, v, dim, 0};
    decode4_avx2(qrep, &src, keys, dim, limit, row_max, row_sum, o, scratch, NULL);
}

BNK_AVX2_F16C void bnk_attention_decode4_f16_avx2(const float *qrep, const uint16_t *k, const uint16_t *v, size_t stride,
                                             size_t keys, size_t dim, int32_t limit, float *row_max, float *row_sum,
                                             float *o, float *scratch, const bnk_attention_prefetch *next) {
    const decode4_rows src = {k, v, stride, 1};
    decode4_avx2(qrep, &src, keys, dim, limit, row_max, row_sum, o, scratch, next);
}

#else
/* Not x86: the CPU checks fail, so these are never called. */
void bnk_attention_decode4_f16_avx512(const float *qrep, const uint16_t *k, const uint16_t *v, size_t stride,
                                      size_t keys, size_t dim, int32_t limit, float *row_max, float *row_sum,
                                      float *o, float *scratch, const bnk_attention_prefetch *next) {
    (void)qrep; (void)k; (void)v; (void)stride; (void)keys; (void)dim; (void)limit; (void)row_max; (void)row_sum;
    (void)o; (void)scratch; (void)next;
}
void bnk_attention_decode4_avx2(const float *qrep, const float *k, const float *v, size_t keys, size_t dim,
                                int32_t limit, float *row_max, float *row_sum, float *o, float *scratch) {
    (void)qrep; (void)k; (void)v; (void)keys; (void)dim; (void)limit; (void)row_max; (void)row_sum; (void)o;
    (void)scratch;
}
void bnk_attention_decode4_avx512(const float *qrep, const float *k, const float *v, size_t keys, size_t dim,
                                  int32_t limit, float *row_max, float *row_sum, float *o, float *scratch) {
    (void)qrep; (void)k; (void)v; (void)keys; (void)dim; (void)limit; (void)row_max; (void)row_sum; (void)o;
    (void)scratch;
}
void bnk_attention_decode4_f16_avx2(const float *qrep, const uint16_t *k, const uint16_t *v, size_t stride,
                                    size_t keys, size_t dim, int32_t limit, float *row_max, float *row_sum,
                                    float *o, float *scratch, const bnk_attention_prefetch *next) {
    (void)qrep; (void)k; (void)v; (void)stride; (void)keys; (void)dim; (void)limit; (void)row_max; (void)row_sum;
    (void)o; (void)scratch; (void)next;
}
#endif
