/* Float dot products of weight rows with an f32 vector, for embeddings and
 * the LM head (which the paper numerics leave unquantized). The rows are
 * F16 (converted with F16C), Q8_0 (int8 * f16 block scale) or F32; x stays
 * f32 and everything accumulates in f32 with FMA. Summation order differs
 * from the Swift reference, so results agree to rounding, not bit for bit. */
#include "bitnet_kernels.h"
#define BNK_F16_PREFETCH 8192



#if defined(__x86_64__)
#include <immintrin.h>

#define BNK_AVX2 __attribute__((target("avx2,fma,f16c")))
#define BNK_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma,f16c")))

BNK_AVX2 static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

BNK_AVX2 static inline float half_to_float(uint16_t h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

/* ---- F16 ---- */

BNK_AVX2 void bnk_dot_f16_avx2(const uint16_t *e, size_t cols, size_t row_begin, size_t row_end,
                               const float *x, float *y) {
    for (size_t r = row_begin; r < row_end; r++) {
        const uint16_t *row = e + r * cols;
        __m256 s0 = _mm256_setzero_ps(), s1 = s0;
        size_t k = 0;
        for (; k + 16 <= cols; k += 16) {
            __m256 e0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + k)));
            __m256 e1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + k + 8)));
            s0 = _mm256_fmadd_ps(e0, _mm256_loadu_ps(x + k), s0);
            s1 = _mm256_fmadd_ps(e1, _mm256_loadu_ps(x + k + 8), s1);
        }
        float sum = hsum8(_mm256_add_ps(s0, s1));
        for (; k < cols; k++) sum += half_to_float(row[k]) * x[k];
        y[r] = sum;
    }
}

BNK_AVX512 static inline float dot_f16_row_avx512(const uint16_t *row, size_t cols, const float *x) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0;
    size_t k = 0;
    for (; k + 32 <= cols; k += 32) {
        __m512 e0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + k)));
        __m512 e1 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + k + 16)));
        s0 = _mm512_fmadd_ps(e0, _mm512_loadu_ps(x + k), s0);
        s1 = _mm512_fmadd_ps(e1, _mm512_loadu_ps(x + k + 16), s1);
    }
    float sum = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
    for (; k < cols; k++) sum += half_to_float(row[k]) * x[k];
    return sum;
}

/* Two rows per pass: two independent DRAM streams keep more loads in flight,
   and the 4 KB-ahead prefetch of both keeps them ahead of the arithmetic. */
BNK_AVX512 void bnk_dot_f16_avx512(const uint16_t *e, size_t cols, size_t row_begin, size_t row_end,
                                   const float *x, float *y) {
    size_t r = row_begin;
    for (; r + 2 <= row_end; r += 2) {
        const uint16_t *row0 = e + r * cols, *row1 = row0 + cols;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, b0 = a0, b1 = a0;
        size_t k = 0;
        for (; k + 32 <= cols; k += 32) {
            _mm_prefetch((const char *)(row0 + k) + BNK_F16_PREFETCH, _MM_HINT_T0);
            _mm_prefetch((const char *)(row1 + k) + BNK_F16_PREFETCH, _MM_HINT_T0);
            __m512 x0 = _mm512_loadu_ps(x + k), x1 = _mm512_loadu_ps(x + k + 16);
            a0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row0 + k))), x0, a0);
            a1 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row0 + k + 16))), x1, a1);
            b0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row1 + k))), x0, b0);
            b1 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row1 + k + 16))), x1, b1);
        }
        float s0 = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
        float s1 = _mm512_reduce_add_ps(_mm512_add_ps(b0, b1));
        for (; k < cols; k++) {
            s0 += half_to_float(row0[k]) * x[k];
            s1 += half_to_float(row1[k]) * x[k];
        }
        y[r] = s0;
        y[r + 1] = s1;
    }
    for (; r < row_end; r++) y[r] = dot_f16_row_avx512(e + r * cols, cols, x);
}

/* ---- Q8_0: 34-byte blocks { f16 d; int8 q[32]; }, cols % 32 == 0 ---- */

BNK_AVX2 void bnk_dot_q8_0_avx2(const uint8_t *e, size_t cols, size_t row_begin, size_t row_end,
                                const float *x, float *y) {
    const size_t nb = cols / 32;
    for (size_t r = row_begin; r < row_end; r++) {
        const uint8_t *blk = e + r * nb * 34;
        __m256 acc = _mm256_setzero_ps();
        for (size_t b = 0; b < nb; b++, blk += 34) {
            uint16_t dh;
            __builtin_memcpy(&dh, blk, 2);
            const float *xb = x + b * 32;
            __m256 s = _mm256_setzero_ps();
            for (int j = 0; j < 32; j += 8) {
                __m128i q8 = _mm_loadl_epi64((const __m128i *)(blk + 2 + j));
                __m256 qf = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8));
                s = _mm256_fmadd_ps(qf, _mm256_loadu_ps(xb + j), s);
            }
            acc = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(dh)), s, acc);
        }
        y[r] = hsum8(acc);
    }
}

BNK_AVX512 static inline __m512 q8_0_block_avx512(const uint8_t *blk, const float *xb, __m512 acc) {
    __m512 q0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(blk + 2))));
    __m512 q1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(blk + 18))));
    __m512 s = _mm512_fmadd_ps(q1, _mm512_loadu_ps(xb + 16), _mm512_mul_ps(q0, _mm512_loadu_ps(xb)));
    uint16_t dh;
    __builtin_memcpy(&dh, blk, 2);
    return _mm512_fmadd_ps(_mm512_set1_ps(half_to_float(dh)), s, acc);
}

/* Two accumulators over alternating blocks: one chain of dependent FMAs per
   34-byte block capped the stream at ~8 bytes per cycle. Prefetching 8 KB
   ahead keeps DRAM busy, as in the F16 kernel. */
BNK_AVX512 void bnk_dot_q8_0_avx512(const uint8_t *e, size_t cols, size_t row_begin, size_t row_end,
                                    const float *x, float *y) {
    const size_t nb = cols / 32;
    for (size_t r = row_begin; r < row_end; r++) {
        const uint8_t *blk = e + r * nb * 34;
        __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0;
        size_t b = 0;
        for (; b + 2 <= nb; b += 2, blk += 68) {
            _mm_prefetch((const char *)blk + 8192, _MM_HINT_T0);
            acc0 = q8_0_block_avx512(blk, x + b * 32, acc0);
            acc1 = q8_0_block_avx512(blk + 34, x + b * 32 + 32, acc1);
        }
        if (b < nb) acc0 = q8_0_block_avx512(blk, x + b * 32, acc0);
        y[r] = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    }
}

/* ---- F32 ---- */

BNK_AVX2 void bnk_dot_f32_avx2(const float *e, size_t cols, size_t row_begin, size_t row_end,
                               const float *x, float *y) {
    for (size_t r = row_begin; r < row_end; r++) {
        const float *row = e + r * cols;
        __m256 s0 = _mm256_setzero_ps(), s1 = s0;
        size_t k = 0;
        for (; k + 16 <= cols; k += 16) {
            s0 = _mm256_fmadd_ps(_mm256_loadu_ps(row + k), _mm256_loadu_ps(x + k), s0);
            s1 = _mm256_fmadd_ps(_mm256_loadu_ps(row + k + 8), _mm256_loadu_ps(x + k + 8), s1);
        }
        float sum = hsum8(_mm256_add_ps(s0, s1));
        for (; k < cols; k++) sum += row[k] * x[k];
        y[r] = sum;
    }
}

BNK_AVX512 void bnk_dot_f32_avx512(const float *e, size_t cols, size_t row_begin, size_t row_end,
                                   const float *x, float *y) {
    for (size_t r = row_begin; r < row_end; r++) {
        const float *row = e + r * cols;
        __m512 s0 = _mm512_setzero_ps(), s1 = s0;
        size_t k = 0;
        for (; k + 32 <= cols; k += 32) {
            s0 = _mm512_fmadd_ps(_mm512_loadu_ps(row + k), _mm512_loadu_ps(x + k), s0);
            s1 = _mm512_fmadd_ps(_mm512_loadu_ps(row + k + 16), _mm512_loadu_ps(x + k + 16), s1);
        }
        float sum = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
        for (; k < cols; k++) sum += row[k] * x[k];
        y[r] = sum;
    }
}

#else
void bnk_dot_f16_avx2(const uint16_t *e, size_t c, size_t b, size_t n, const float *x, float *y) { (void)e; (void)c; (void)b; (void)n; (void)x; (void)y; }
void bnk_dot_f16_avx512(const uint16_t *e, size_t c, size_t b, size_t n, const float *x, float *y) { (void)e; (void)c; (void)b; (void)n; (void)x; (void)y; }
void bnk_dot_q8_0_avx2(const uint8_t *e, size_t c, size_t b, size_t n, const float *x, float *y) { (void)e; (void)c; (void)b; (void)n; (void)x; (void)y; }
void bnk_dot_q8_0_avx512(const uint8_t *e, size_t c, size_t b, size_t n, const float *x, float *y) { (void)e; (void)c; (void)b; (void)n; (void)x; (void)y; }
void bnk_dot_f32_avx2(const float *e, size_t c, size_t b, size_t n, const float *x, float *y) { (void)e; (void)c; (void)b; (void)n; (void)x; (void)y; }
void bnk_dot_f32_avx512(const float *e, size_t c, size_t b, size_t n, const float *x, float *y) { (void)e; (void)c; (void)b; (void)n; (void)x; (void)y; }
#endif
