/* One key tile of online-softmax attention with AVX-512; see bitnet_attention.h. */
#include "bitnet_attention.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>

#include "attention_exp.h"
#include "stream_prefetch.h"

/* Prefetches rows first..first+count-1 of the next tile (keys and values),
 * every cache line they touch. Spread over the score loop, a few rows per
 * block of keys, so the loads stream at about memory speed behind the math. */
static inline void prefetch_next(const bnk_attention_prefetch *next, size_t first, size_t count) {
    if (next == NULL || next->row_bytes == 0) return;
    for (size_t i = first; i < first + count && i < next->rows; i++) {
        uintptr_t k = (uintptr_t)(next->keys + i * next->stride), v = (uintptr_t)(next->values + i * next->stride);
        uintptr_t k_end = k + next->row_bytes - 1, v_end = v + next->row_bytes - 1;
        for (uintptr_t line = k & ~(uintptr_t)63; line <= k_end; line += 64) _mm_prefetch((const char *)line, _MM_HINT_T0);
        for (uintptr_t line = v & ~(uintptr_t)63; line <= v_end; line += 64) _mm_prefetch((const char *)line, _MM_HINT_T0);
    }
}

/* s[j * rp + r] = sum_d k[j][d] * qt[d][r] for all j < keys, r < rp.
 * Register block: 4 keys x 64 rows (16 accumulators), then narrower tails. */
BNK_AVX512 static void tile_scores(const float *qt, size_t rp, const float *k, size_t keys, size_t dim, float *s,
                                   const bnk_attention_prefetch *next) {
    size_t j = 0;
    if (rp < 64) {
        /* Decode-shaped calls (one position: a KV head's few query rows in
         * one or two vectors): 8 keys per block, so 8 independent FMA chains
         * cover the FMA latency. Each (key, row) chain is the same as below. */
        for (; j + 8 <= keys; j += 8) {
            prefetch_next(next, j, 8);
            const float *k0 = k + j * dim;
            for (size_t r = 0; r < rp; r += 16) {
                __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
                for (size_t d = 0; d < dim; d++) {
                    __m512 q = _mm512_loadu_ps(qt + d * rp + r);
                    a0 = _mm512_fmadd_ps(_mm512_set1_ps(k0[d]), q, a0);
                    a1 = _mm512_fmadd_ps(_mm512_set1_ps(k0[dim + d]), q, a1);
                    a2 = _mm512_fmadd_ps(_mm512_set1_ps(k0[2 * dim + d]), q, a2);
                    a3 = _mm512_fmadd_ps(_mm512_set1_ps(k0[3 * dim + d]), q, a3);
                    a4 = _mm512_fmadd_ps(_mm512_set1_ps(k0[4 * dim + d]), q, a4);
                    a5 = _mm512_fmadd_ps(_mm512_set1_ps(k0[5 * dim + d]), q, a5);
                    a6 = _mm512_fmadd_ps(_mm512_set1_ps(k0[6 * dim + d]), q, a6);
                    a7 = _mm512_fmadd_ps(_mm512_set1_ps(k0[7 * dim + d]), q, a7);
                }
                float *o = s + j * rp + r;
                _mm512_storeu_ps(o, a0); _mm512_storeu_ps(o + rp, a1);
                _mm512_storeu_ps(o + 2 * rp, a2); _mm512_storeu_ps(o + 3 * rp, a3);
                _mm512_storeu_ps(o + 4 * rp, a4); _mm512_storeu_ps(o + 5 * rp, a5);
                _mm512_storeu_ps(o + 6 * rp, a6); _mm512_storeu_ps(o + 7 * rp, a7);
            }
        }
    }
    for (; j + 4 <= keys; j += 4) {
        prefetch_next(next, j, 4);
        const float *k0 = k + j * dim, *k1 = k0 + dim, *k2 = k1 + dim, *k3 = k2 + dim;
        size_t r = 0;
        for (; r + 64 <= rp; r += 64) {
            __m512 a00 = _mm512_setzero_ps(), a01 = a00, a02 = a00, a03 = a00;
            __m512 a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            __m512 a20 = a00, a21 = a00, a22 = a00, a23 = a00;
            __m512 a30 = a00, a31 = a00, a32 = a00, a33 = a00;
            for (size_t d = 0; d < dim; d++) {
                const float *q = qt + d * rp + r;
                __m512 q0 = _mm512_loadu_ps(q), q1 = _mm512_loadu_ps(q + 16);
                __m512 q2 = _mm512_loadu_ps(q + 32), q3 = _mm512_loadu_ps(q + 48);
                __m512 b = _mm512_set1_ps(k0[d]);
                a00 = _mm512_fmadd_ps(b, q0, a00); a01 = _mm512_fmadd_ps(b, q1, a01);
                a02 = _mm512_fmadd_ps(b, q2, a02); a03 = _mm512_fmadd_ps(b, q3, a03);
                b = _mm512_set1_ps(k1[d]);
                a10 = _mm512_fmadd_ps(b, q0, a10); a11 = _mm512_fmadd_ps(b, q1, a11);
                a12 = _mm512_fmadd_ps(b, q2, a12); a13 = _mm512_fmadd_ps(b, q3, a13);
                b = _mm512_set1_ps(k2[d]);
                a20 = _mm512_fmadd_ps(b, q0, a20); a21 = _mm512_fmadd_ps(b, q1, a21);
                a22 = _mm512_fmadd_ps(b, q2, a22); a23 = _mm512_fmadd_ps(b, q3, a23);
                b = _mm512_set1_ps(k3[d]);
                a30 = _mm512_fmadd_ps(b, q0, a30); a31 = _mm512_fmadd_ps(b, q1, a31);
                a32 = _mm512_fmadd_ps(b, q2, a32); a33 = _mm512_fmadd_ps(b, q3, a33);
            }
            float *o = s + j * rp + r;
            _mm512_storeu_ps(o, a00); _mm512_storeu_ps(o + 16, a01);
            _mm512_storeu_ps(o + 32, a02); _mm512_storeu_ps(o + 48, a03);
            o += rp;
            _mm512_storeu_ps(o, a10); _mm512_storeu_ps(o + 16, a11);
            _mm512_storeu_ps(o + 32, a12); _mm512_storeu_ps(o + 48, a13);
            o += rp;
            _mm512_storeu_ps(o, a20); _mm512_storeu_ps(o + 16, a21);
            _mm512_storeu_ps(o + 32, a22); _mm512_storeu_ps(o + 48, a23);
            o += rp;
            _mm512_storeu_ps(o, a30); _mm512_storeu_ps(o + 16, a31);
            _mm512_storeu_ps(o + 32, a32); _mm512_storeu_ps(o + 48, a33);
        }
        for (; r < rp; r += 16) {
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            for (size_t d = 0; d < dim; d++) {
                __m512 q = _mm512_loadu_ps(qt + d * rp + r);
                a0 = _mm512_fmadd_ps(_mm512_set1_ps(k0[d]), q, a0);
                a1 = _mm512_fmadd_ps(_mm512_set1_ps(k1[d]), q, a1);
                a2 = _mm512_fmadd_ps(_mm512_set1_ps(k2[d]), q, a2);
                a3 = _mm512_fmadd_ps(_mm512_set1_ps(k3[d]), q, a3);
            }
            _mm512_storeu_ps(s + j * rp + r, a0);
            _mm512_storeu_ps(s + (j + 1) * rp + r, a1);
            _mm512_storeu_ps(s + (j + 2) * rp + r, a2);
            _mm512_storeu_ps(s + (j + 3) * rp + r, a3);
        }
    }
    prefetch_next(next, j, next != NULL && next->rows > j ? next->rows - j : 0);
    for (; j < keys; j++) {
        const float *k0 = k + j * dim;
        for (size_t r = 0; r < rp; r += 16) {
            __m512 a = _mm512_setzero_ps();
            for (size_t d = 0; d < dim; d++) {
                a = _mm512_fmadd_ps(_mm512_set1_ps(k0[d]), _mm512_loadu_ps(qt + d * rp + r), a);
            }
            _mm512_storeu_ps(s + j * rp + r, a);
        }
    }
}

/* Turns scores into probabilities in place (see the header) and leaves each
 * row's correction factor in corr[r]. Vectorized across 16 rows at a time. */
BNK_AVX512 static void tile_softmax(float *s, size_t rp, size_t keys, const int32_t *limit,
                                    float *row_max, float *row_sum, float *corr) {
    const __m512 minus_inf = _mm512_set1_ps(-INFINITY);
    for (size_t r = 0; r < rp; r += 16) {
        __m512i lim = _mm512_loadu_si512(limit + r);
        __m512 old_max = _mm512_loadu_ps(row_max + r), m = old_max;
        for (size_t j = 0; j < keys; j++) {
            __mmask16 valid = _mm512_cmpgt_epi32_mask(lim, _mm512_set1_epi32((int32_t)j));
            m = _mm512_mask_max_ps(m, valid, m, _mm512_loadu_ps(s + j * rp + r));
        }
        __mmask16 seen = _mm512_cmp_ps_mask(m, minus_inf, _CMP_NEQ_OQ);
        __m512 c = exp_nonpositive(_mm512_maskz_sub_ps(seen, old_max, m));
        __m512 total = _mm512_setzero_ps();
        for (size_t j = 0; j < keys; j++) {
            __mmask16 valid = _mm512_cmpgt_epi32_mask(lim, _mm512_set1_epi32((int32_t)j));
            __m512 x = _mm512_maskz_sub_ps(valid, _mm512_loadu_ps(s + j * rp + r), m);
            __m512 e = _mm512_maskz_mov_ps(valid, exp_nonpositive(x));
            _mm512_storeu_ps(s + j * rp + r, e);
            total = _mm512_add_ps(total, e);
        }
        _mm512_storeu_ps(row_sum + r, _mm512_fmadd_ps(_mm512_loadu_ps(row_sum + r), c, total));
        _mm512_storeu_ps(row_max + r, m);
        _mm512_storeu_ps(corr + r, c);
    }
}

/* o[r][:] = o[r][:] * corr[r] + sum_{j < jmax} p[j][r] * v[j][:], 4 rows at a
 * time; jmax is the largest limit of the 4 rows (p is 0 beyond a row's own). */
BNK_AVX512 static void tile_values(const float *p, size_t rp, const float *v, size_t dim, const int32_t *limit,
                                   const float *corr, float *o) {
    for (size_t r = 0; r < rp; r += 4) {
        int32_t jmax = limit[r];
        for (size_t x = 1; x < 4; x++) jmax = limit[r + x] > jmax ? limit[r + x] : jmax;
        if (jmax <= 0) continue;  /* no row here sees this tile: corr is 1 */
        const __m512 c0 = _mm512_set1_ps(corr[r]), c1 = _mm512_set1_ps(corr[r + 1]);
        const __m512 c2 = _mm512_set1_ps(corr[r + 2]), c3 = _mm512_set1_ps(corr[r + 3]);
        float *o0 = o + r * dim, *o1 = o0 + dim, *o2 = o1 + dim, *o3 = o2 + dim;
        size_t c = 0;
        for (; c + 64 <= dim; c += 64) {
#define LOAD_ROW(i, oi, ci) \
            __m512 a##i##0 = _mm512_mul_ps(_mm512_loadu_ps(oi + c), ci); \
            __m512 a##i##1 = _mm512_mul_ps(_mm512_loadu_ps(oi + c + 16), ci); \
            __m512 a##i##2 = _mm512_mul_ps(_mm512_loadu_ps(oi + c + 32), ci); \
            __m512 a##i##3 = _mm512_mul_ps(_mm512_loadu_ps(oi + c + 48), ci);
            LOAD_ROW(0, o0, c0) LOAD_ROW(1, o1, c1) LOAD_ROW(2, o2, c2) LOAD_ROW(3, o3, c3)
#undef LOAD_ROW
            for (int32_t j = 0; j < jmax; j++) {
                const float *vj = v + (size_t)j * dim + c;
                __m512 v0 = _mm512_loadu_ps(vj), v1 = _mm512_loadu_ps(vj + 16);
                __m512 v2 = _mm512_loadu_ps(vj + 32), v3 = _mm512_loadu_ps(vj + 48);
                const float *pj = p + (size_t)j * rp + r;
#define ACC_ROW(i) { __m512 b = _mm512_set1_ps(pj[i]); \
                a##i##0 = _mm512_fmadd_ps(b, v0, a##i##0); a##i##1 = _mm512_fmadd_ps(b, v1, a##i##1); \
                a##i##2 = _mm512_fmadd_ps(b, v2, a##i##2); a##i##3 = _mm512_fmadd_ps(b, v3, a##i##3); }
                ACC_ROW(0) ACC_ROW(1) ACC_ROW(2) ACC_ROW(3)
#undef ACC_ROW
            }
#define STORE_ROW(i, oi) \
            _mm512_storeu_ps(oi + c, a##i##0); _mm512_storeu_ps(oi + c + 16, a##i##1); \
            _mm512_storeu_ps(oi + c + 32, a##i##2); _mm512_storeu_ps(oi + c + 48, a##i##3);
            STORE_ROW(0, o0) STORE_ROW(1, o1) STORE_ROW(2, o2) STORE_ROW(3, o3)
#undef STORE_ROW
        }
        for (; c < dim; c += 16) {
            __m512 a0 = _mm512_mul_ps(_mm512_loadu_ps(o0 + c), c0);
            __m512 a1 = _mm512_mul_ps(_mm512_loadu_ps(o1 + c), c1);
            __m512 a2 = _mm512_mul_ps(_mm512_loadu_ps(o2 + c), c2);
            __m512 a3 = _mm512_mul_ps(_mm512_loadu_ps(o3 + c), c3);
            for (int32_t j = 0; j < jmax; j++) {
                __m512 vj = _mm512_loadu_ps(v + (size_t)j * dim + c);
                const float *pj = p + (size_t)j * rp + r;
                a0 = _mm512_fmadd_ps(_mm512_set1_ps(pj[0]), vj, a0);
                a1 = _mm512_fmadd_ps(_mm512_set1_ps(pj[1]), vj, a1);
                a2 = _mm512_fmadd_ps(_mm512_set1_ps(pj[2]), vj, a2);
                a3 = _mm512_fmadd_ps(_mm512_set1_ps(pj[3]), vj, a3);
            }
            _mm512_storeu_ps(o0 + c, a0); _mm512_storeu_ps(o1 + c, a1);
            _mm512_storeu_ps(o2 + c, a2); _mm512_storeu_ps(o3 + c, a3);
        }
    }
}

BNK_AVX512 void bnk_attention_tile_avx512(const float *qt, size_t rows_padded, const float *k, const float *v,
                                          size_t keys, size_t dim, const int32_t *limit,
                                          float *row_max, float *row_sum, float *o, float *scratch,
                                          const bnk_attention_prefetch *next) {
    if (keys == 0) return;
    float *p = scratch, *corr = scratch + keys * rows_padded;
    tile_scores(qt, rows_padded, k, keys, dim, p, next);
    tile_softmax(p, rows_padded, keys, limit, row_max, row_sum, corr);
    tile_values(p, rows_padded, v, dim, limit, corr, o);
}

/* ---------------------------------------------------------------------------
 * The same kernel with AVX2 + FMA, 8 rows per vector. Every lane performs the
 * same operations as in the AVX-512 version (2^n is built from exponent bits
 * instead of scalef: n >= -126, so y * 2^n is the same single rounding), so
 * both kernels and the Swift twin agree bit for bit.
 * ------------------------------------------------------------------------- */

#define BNK_F16C __attribute__((target("avx2,f16c")))

/* Scores, 4 keys x 16 rows per block (8 accumulators). */
BNK_AVX2 static void tile_scores_avx2(const float *qt, size_t rp, const float *k, size_t keys, size_t dim, float *s,
                                      const bnk_attention_prefetch *next) {
    size_t j = 0;
    for (; j + 4 <= keys; j += 4) {
        prefetch_next(next, j, 4);
        const float *k0 = k + j * dim, *k1 = k0 + dim, *k2 = k1 + dim, *k3 = k2 + dim;
        for (size_t r = 0; r < rp; r += 16) {
            __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00;
            __m256 a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            for (size_t d = 0; d < dim; d++) {
                const float *q = qt + d * rp + r;
                __m256 q0 = _mm256_loadu_ps(q), q1 = _mm256_loadu_ps(q + 8);
                __m256 b = _mm256_broadcast_ss(k0 + d);
                a00 = _mm256_fmadd_ps(b, q0, a00); a01 = _mm256_fmadd_ps(b, q1, a01);
                b = _mm256_broadcast_ss(k1 + d);
                a10 = _mm256_fmadd_ps(b, q0, a10); a11 = _mm256_fmadd_ps(b, q1, a11);
                b = _mm256_broadcast_ss(k2 + d);
                a20 = _mm256_fmadd_ps(b, q0, a20); a21 = _mm256_fmadd_ps(b, q1, a21);
                b = _mm256_broadcast_ss(k3 + d);
                a30 = _mm256_fmadd_ps(b, q0, a30); a31 = _mm256_fmadd_ps(b, q1, a31);
            }
            float *o = s + j * rp + r;
            _mm256_storeu_ps(o, a00); _mm256_storeu_ps(o + 8, a01); o += rp;
            _mm256_storeu_ps(o, a10); _mm256_storeu_ps(o + 8, a11); o += rp;
            _mm256_storeu_ps(o, a20); _mm256_storeu_ps(o + 8, a21); o += rp;
            _mm256_storeu_ps(o, a30); _mm256_storeu_ps(o + 8, a31);
        }
    }
    prefetch_next(next, j, next != NULL && next->rows > j ? next->rows - j : 0);
    for (; j < keys; j++) {
        const float *k0 = k + j * dim;
        for (size_t r = 0; r < rp; r += 8) {
            __m256 a = _mm256_setzero_ps();
            for (size_t d = 0; d < dim; d++) {
                a = _mm256_fmadd_ps(_mm256_broadcast_ss(k0 + d), _mm256_loadu_ps(qt + d * rp + r), a);
            }
            _mm256_storeu_ps(s + j * rp + r, a);
        }
    }
}

BNK_AVX2 static void tile_softmax_avx2(float *s, size_t rp, size_t keys, const int32_t *limit,
                                       float *row_max, float *row_sum, float *corr) {
    const __m256 minus_inf = _mm256_set1_ps(-INFINITY);
    for (size_t r = 0; r < rp; r += 8) {
        __m256i lim = _mm256_loadu_si256((const __m256i *)(limit + r));
        __m256 old_max = _mm256_loadu_ps(row_max + r), m = old_max;
        for (size_t j = 0; j < keys; j++) {
            __m256 valid = _mm256_castsi256_ps(_mm256_cmpgt_epi32(lim, _mm256_set1_epi32((int32_t)j)));
            m = _mm256_blendv_ps(m, _mm256_max_ps(m, _mm256_loadu_ps(s + j * rp + r)), valid);
        }
        __m256 seen = _mm256_cmp_ps(m, minus_inf, _CMP_NEQ_OQ);
        __m256 c = exp_nonpositive_avx2(_mm256_and_ps(seen, _mm256_sub_ps(old_max, m)));
        __m256 total = _mm256_setzero_ps();
        for (size_t j = 0; j < keys; j++) {
            __m256 valid = _mm256_castsi256_ps(_mm256_cmpgt_epi32(lim, _mm256_set1_epi32((int32_t)j)));
            __m256 x = _mm256_and_ps(valid, _mm256_sub_ps(_mm256_loadu_ps(s + j * rp + r), m));
            __m256 e = _mm256_and_ps(valid, exp_nonpositive_avx2(x));
            _mm256_storeu_ps(s + j * rp + r, e);
            total = _mm256_add_ps(total, e);
        }
        _mm256_storeu_ps(row_sum + r, _mm256_fmadd_ps(_mm256_loadu_ps(row_sum + r), c, total));
        _mm256_storeu_ps(row_max + r, m);
        _mm256_storeu_ps(corr + r, c);
    }
}

/* Values, 4 rows x 16 columns per block (8 accumulators). */
BNK_AVX2 static void tile_values_avx2(const float *p, size_t rp, const float *v, size_t dim, const int32_t *limit,
                                      const float *corr, float *o) {
    for (size_t r = 0; r < rp; r += 4) {
        int32_t jmax = limit[r];
        for (size_t x = 1; x < 4; x++) jmax = limit[r + x] > jmax ? limit[r + x] : jmax;
        if (jmax <= 0) continue;
        const __m256 c0 = _mm256_set1_ps(corr[r]), c1 = _mm256_set1_ps(corr[r + 1]);
        const __m256 c2 = _mm256_set1_ps(corr[r + 2]), c3 = _mm256_set1_ps(corr[r + 3]);
        float *o0 = o + r * dim, *o1 = o0 + dim, *o2 = o1 + dim, *o3 = o2 + dim;
        for (size_t c = 0; c < dim; c += 16) {
            __m256 a00 = _mm256_mul_ps(_mm256_loadu_ps(o0 + c), c0), a01 = _mm256_mul_ps(_mm256_loadu_ps(o0 + c + 8), c0);
            __m256 a10 = _mm256_mul_ps(_mm256_loadu_ps(o1 + c), c1), a11 = _mm256_mul_ps(_mm256_loadu_ps(o1 + c + 8), c1);
            __m256 a20 = _mm256_mul_ps(_mm256_loadu_ps(o2 + c), c2), a21 = _mm256_mul_ps(_mm256_loadu_ps(o2 + c + 8), c2);
            __m256 a30 = _mm256_mul_ps(_mm256_loadu_ps(o3 + c), c3), a31 = _mm256_mul_ps(_mm256_loadu_ps(o3 + c + 8), c3);
            for (int32_t j = 0; j < jmax; j++) {
                const float *vj = v + (size_t)j * dim + c;
                __m256 v0 = _mm256_loadu_ps(vj), v1 = _mm256_loadu_ps(vj + 8);
                const float *pj = p + (size_t)j * rp + r;
                __m256 b = _mm256_broadcast_ss(pj);
                a00 = _mm256_fmadd_ps(b, v0, a00); a01 = _mm256_fmadd_ps(b, v1, a01);
                b = _mm256_broadcast_ss(pj + 1);
                a10 = _mm256_fmadd_ps(b, v0, a10); a11 = _mm256_fmadd_ps(b, v1, a11);
                b = _mm256_broadcast_ss(pj + 2);
                a20 = _mm256_fmadd_ps(b, v0, a20); a21 = _mm256_fmadd_ps(b, v1, a21);
                b = _mm256_broadcast_ss(pj + 3);
                a30 = _mm256_fmadd_ps(b, v0, a30); a31 = _mm256_fmadd_ps(b, v1, a31);
            }
            _mm256_storeu_ps(o0 + c, a00); _mm256_storeu_ps(o0 + c + 8, a01);
            _mm256_storeu_ps(o1 + c, a10); _mm256_storeu_ps(o1 + c + 8, a11);
            _mm256_storeu_ps(o2 + c, a20); _mm256_storeu_ps(o2 + c + 8, a21);
            _mm256_storeu_ps(o3 + c, a30); _mm256_storeu_ps(o3 + c + 8, a31);
        }
    }
}

BNK_AVX2 void bnk_attention_tile_avx2(const float *qt, size_t rows_padded, const float *k, const float *v,
                                      size_t keys, size_t dim, const int32_t *limit,
                                      float *row_max, float *row_sum, float *o, float *scratch,
                                      const bnk_attention_prefetch *next) {
    if (keys == 0) return;
    float *p = scratch, *corr = scratch + keys * rows_padded;
    tile_scores_avx2(qt, rows_padded, k, keys, dim, p, next);
    tile_softmax_avx2(p, rows_padded, keys, limit, row_max, row_sum, corr);
    tile_values_avx2(p, rows_padded, v, dim, limit, corr, o);
}

BNK_F16C static inline void convert_row_f16(const uint16_t *src, float *dst, size_t dim) {
    size_t d = 0;
    for (; d + 8 <= dim; d += 8) _mm256_storeu_ps(dst + d, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + d))));
    for (; d < dim; d++) dst[d] = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(src[d])));
}

BNK_F16C void bnk_attention_stage_f16(const uint16_t *k, const uint16_t *v, size_t stride, size_t rows, size_t dim,
                                      float *k_out, float *v_out, size_t out_stride) {
    for (size_t i = 0; i < rows; i++) {
        convert_row_f16(k + i * stride, k_out + i * out_stride, dim);
        convert_row_f16(v + i * stride, v_out + i * out_stride, dim);
    }
}

BNK_F16C void bnk_attention_stage_f16_heads(const uint16_t *k, const uint16_t *v, size_t stride, size_t rows,
                                            size_t heads, size_t dim, float *k_out, float *v_out, size_t out_stride,
                                            size_t head_stride) {
    for (size_t i = 0; i < rows; i++) {
        const uint16_t *kr = k + i * stride, *vr = v + i * stride;
        for (size_t line = 0; line < heads * dim * 2; line += 64) {
            bnk_prefetch_stream((const uint8_t *)kr + line);
            bnk_prefetch_stream((const uint8_t *)vr + line);
        }
        for (size_t g = 0; g < heads; g++) {
            convert_row_f16(kr + g * dim, k_out + g * head_stride + i * out_stride, dim);
            convert_row_f16(vr + g * dim, v_out + g * head_stride + i * out_stride, dim);
        }
    }
}

#else

/* Not x86: the CPU checks fail, so these are never called (the Swift twin runs). */
void bnk_attention_tile_avx512(const float *qt, size_t rows_padded, const float *k, const float *v,
                               size_t keys, size_t dim, const int32_t *limit,
                               float *row_max, float *row_sum, float *o, float *scratch,
                               const bnk_attention_prefetch *next) {
    (void)qt; (void)rows_padded; (void)k; (void)v; (void)keys; (void)dim; (void)limit;
    (void)row_max; (void)row_sum; (void)o; (void)scratch; (void)next;
}

void bnk_attention_tile_avx2(const float *qt, size_t rows_padded, const float *k, const float *v,
                             size_t keys, size_t dim, const int32_t *limit,
                             float *row_max, float *row_sum, float *o, float *scratch,
                             const bnk_attention_prefetch *next) {
    bnk_attention_tile_avx512(qt, rows_padded, k, v, keys, dim, limit, row_max, row_sum, o, scratch, next);
}

#if !defined(__aarch64__) /* AArch64 has a real one in attention_tile_neon.c */
void bnk_attention_stage_f16(const uint16_t *k, const uint16_t *v, size_t stride, size_t rows, size_t dim,
                             float *k_out, float *v_out, size_t out_stride) {
    (void)k; (void)v; (void)stride; (void)rows; (void)dim; (void)k_out; (void)v_out; (void)out_stride;
}
void bnk_attention_stage_f16_heads(const uint16_t *k, const uint16_t *v, size_t stride, size_t rows,
                                   size_t heads, size_t dim, float *k_out, float *v_out, size_t out_stride,
                                   size_t head_stride) {
    (void)k; (void)v; (void)stride; (void)rows; (void)heads; (void)dim; (void)k_out; (void)v_out;
    (void)out_stride; (void)head_stride;
}
#endif

#endif
