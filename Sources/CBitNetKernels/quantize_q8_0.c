/* Requantization of F16 / F32 rows to Q8_0 (the LM head at load time).
 *
 * Bit-exact twin of DenseMatrix.quantizeRowsToQ8_0Reference (Swift), which is
 * the spec. Per block of 32 values x:
 *     d   = max|x| / 127                  (f32, correctly rounded)
 *     inv = 1 / d, or 0 when that is not finite (d == 0, or d so tiny that
 *           1/d overflows: such a block stores d = 0 anyway)
 *     q   = clamp(round_half_away(x * inv), -127, 127)
 *     stored: f16(d) rounded to nearest even, then the 32 int8 q.
 * A block holding NaN / ±Inf, or whose f16(d) overflows (max|x| above about
 * 8.3e6), cannot be encoded: the kernel stops and reports the row.
 *
 * Every step is an IEEE operation with one rounding (division, multiply,
 * truncation, an exact subtraction), so the SIMD result matches the scalar
 * Swift loop bit for bit; nothing here may be contracted or reassociated
 * (the target is built without -ffast-math). */
#include "bitnet_kernels.h"
#include "q8_0_rows.h"
#include <string.h>

#if defined(__x86_64__)
#include "x86_target.h"

#define BNK_AVX2 __attribute__((target("avx2,fma,f16c")))

/* The block scale from max|x| given as f32 bits (non-negative floats order
   like their bit patterns, so the maximum was taken on integers, which also
   lets NaN, whose bits exceed those of +Inf, be detected with the same
   compare). Writes f16(d) to out; returns 0 when the block cannot be encoded. */
BNK_AVX2 static inline int block_scale(int32_t max_abs_bits, uint8_t *out, float *inverse) {
    if (max_abs_bits >= F32_INF_BITS) return 0;
    float max_abs;
    memcpy(&max_abs, &max_abs_bits, sizeof max_abs);
    float d = max_abs / 127.0f;
    uint16_t half = (uint16_t)_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
    if ((half & 0x7fff) >= F16_INF_BITS) return 0;
    memcpy(out, &half, sizeof half);
    float reciprocal = 1.0f / d;
    *inverse = reciprocal < __builtin_inff() ? reciprocal : 0.0f;
    return 1;
}

/* ---- AVX2: a block is four vectors of 8 ---- */

/* round_half_away(x * inv) clamped to ±127, as int32. trunc(v) is exact and so
   is v - trunc(v), so the tie test |v - t| >= 0.5 is exact too. */
BNK_AVX2 static inline __m256i round_scaled_avx2(__m256 x, __m256 inv) {
    const __m256 sign_mask = _mm256_set1_ps(-0.0f), half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    const __m256 limit = _mm256_set1_ps(127.0f), neg_limit = _mm256_set1_ps(-127.0f);
    __m256 v = _mm256_mul_ps(x, inv);
    __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m256 frac = _mm256_andnot_ps(sign_mask, _mm256_sub_ps(v, t));
    __m256 step = _mm256_or_ps(one, _mm256_and_ps(v, sign_mask));
    t = _mm256_add_ps(t, _mm256_and_ps(_mm256_cmp_ps(frac, half, _CMP_GE_OQ), step));
    t = _mm256_min_ps(_mm256_max_ps(t, neg_limit), limit);
    return _mm256_cvttps_epi32(t);
}

BNK_AVX2 static inline int quantize_block_avx2(const __m256 x[4], uint8_t *out) {
    const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff);
    __m256i m = _mm256_max_epi32(
        _mm256_max_epi32(_mm256_and_si256(_mm256_castps_si256(x[0]), abs_mask),
                         _mm256_and_si256(_mm256_castps_si256(x[1]), abs_mask)),
        _mm256_max_epi32(_mm256_and_si256(_mm256_castps_si256(x[2]), abs_mask),
                         _mm256_and_si256(_mm256_castps_si256(x[3]), abs_mask)));
    __m128i m4 = _mm_max_epi32(_mm256_castsi256_si128(m), _mm256_extracti128_si256(m, 1));
    m4 = _mm_max_epi32(m4, _mm_shuffle_epi32(m4, _MM_SHUFFLE(1, 0, 3, 2)));
    m4 = _mm_max_epi32(m4, _mm_shuffle_epi32(m4, _MM_SHUFFLE(2, 3, 0, 1)));
    float inverse;
    if (!block_scale(_mm_cvtsi128_si32(m4), out, &inverse)) return 0;
    __m256 inv = _mm256_set1_ps(inverse);
    __m256i q01 = _mm256_packs_epi32(round_scaled_avx2(x[0], inv), round_scaled_avx2(x[1], inv));
    __m256i q23 = _mm256_packs_epi32(round_scaled_avx2(x[2], inv), round_scaled_avx2(x[3], inv));
    /* The packs work per 128-bit lane: dwords come out as 0,2,4,6,1,3,5,7 of the wanted order. */
    __m256i q = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(q01, q23), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)(out + 2), q);
    return 1;
}

/* Encodes n blocks starting at `row` into ggml blocks at `out`; 0 when one cannot be encoded. */
BNK_AVX2 static inline int encode_f16_avx2(const uint16_t *row, size_t n, uint8_t *out) {
    for (size_t b = 0; b < n; b++) {
        __m256 x[4];
        for (int i = 0; i < 4; i++) x[i] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + 32 * b + 8 * i)));
        if (!quantize_block_avx2(x, out + b * Q8_BLOCK_BYTES)) return 0;
    }
    return 1;
}

BNK_AVX2 static inline int encode_f32_avx2(const float *row, size_t n, uint8_t *out) {
    for (size_t b = 0; b < n; b++) {
        __m256 x[4];
        for (int i = 0; i < 4; i++) x[i] = _mm256_loadu_ps(row + 32 * b + 8 * i);
        if (!quantize_block_avx2(x, out + b * Q8_BLOCK_BYTES)) return 0;
    }
    return 1;
}

/* ---- AVX-512: a block is two vectors of 16 ---- */

BNK_AVX512 static inline __m128i round_scaled_avx512(__m512 x, __m512 inv) {
    const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
    const __m512 limit = _mm512_set1_ps(127.0f), neg_limit = _mm512_set1_ps(-127.0f);
    const __m512i sign_mask = _mm512_set1_epi32((int)0x80000000u);
    __m512 v = _mm512_mul_ps(x, inv);
    __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __mmask16 away = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(v, t)), half, _CMP_GE_OQ);
    __m512 step = _mm512_castsi512_ps(
        _mm512_or_si512(_mm512_castps_si512(one), _mm512_and_si512(_mm512_castps_si512(v), sign_mask)));
    t = _mm512_mask_add_ps(t, away, t, step);
    t = _mm512_min_ps(_mm512_max_ps(t, neg_limit), limit);
    return _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(t));
}

BNK_AVX512 static inline int quantize_block_avx512(__m512 x0, __m512 x1, uint8_t *out) {
    const __m512i abs_mask = _mm512_set1_epi32(0x7fffffff);
    __m512i m = _mm512_max_epi32(_mm512_and_si512(_mm512_castps_si512(x0), abs_mask),
                                 _mm512_and_si512(_mm512_castps_si512(x1), abs_mask));
    float inverse;
    if (!block_scale(_mm512_reduce_max_epi32(m), out, &inverse)) return 0;
    __m512 inv = _mm512_set1_ps(inverse);
    _mm_storeu_si128((__m128i *)(out + 2), round_scaled_avx512(x0, inv));
    _mm_storeu_si128((__m128i *)(out + 18), round_scaled_avx512(x1, inv));
    return 1;
}

BNK_AVX512 static inline int encode_f16_avx512(const uint16_t *row, size_t n, uint8_t *out) {
    for (size_t b = 0; b < n; b++) {
        __m512 x0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + 32 * b)));
        __m512 x1 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + 32 * b + 16)));
        if (!quantize_block_avx512(x0, x1, out + b * Q8_BLOCK_BYTES)) return 0;
    }
    return 1;
}

BNK_AVX512 static inline int encode_f32_avx512(const float *row, size_t n, uint8_t *out) {
    for (size_t b = 0; b < n; b++) {
        __m512 x0 = _mm512_loadu_ps(row + 32 * b), x1 = _mm512_loadu_ps(row + 32 * b + 16);
        if (!quantize_block_avx512(x0, x1, out + b * Q8_BLOCK_BYTES)) return 0;
    }
    return 1;
}

BNK_QUANTIZE_ROWS(bnk_quantize_q8_0_f16_avx2, BNK_AVX2, uint16_t, encode_f16_avx2)
BNK_QUANTIZE_ROWS(bnk_quantize_q8_0_f32_avx2, BNK_AVX2, float, encode_f32_avx2)
BNK_QUANTIZE_ROWS(bnk_quantize_q8_0_f16_avx512, BNK_AVX512, uint16_t, encode_f16_avx512)
BNK_QUANTIZE_ROWS(bnk_quantize_q8_0_f32_avx512, BNK_AVX512, float, encode_f32_avx512)
BNK_QUANTIZE_ROWS_SPLIT(bnk_quantize_q8_0_split_f16_avx2, BNK_AVX2, uint16_t, encode_f16_avx2)
BNK_QUANTIZE_ROWS_SPLIT(bnk_quantize_q8_0_split_f32_avx2, BNK_AVX2, float, encode_f32_avx2)
BNK_QUANTIZE_ROWS_SPLIT(bnk_quantize_q8_0_split_f16_avx512, BNK_AVX512, uint16_t, encode_f16_avx512)
BNK_QUANTIZE_ROWS_SPLIT(bnk_quantize_q8_0_split_f32_avx512, BNK_AVX512, float, encode_f32_avx512)

#else
/* Non-x86 builds never call these (bnk_cpu_has_avx2() is 0; AArch64 has quantize_q8_0_neon.c); they exist so the symbols link. */
size_t bnk_quantize_q8_0_f16_avx2(const uint16_t *src, size_t cols, size_t row_begin, size_t row_end, uint8_t *dst) {
    (void)src; (void)cols; (void)dst; return row_begin < row_end ? row_begin : row_end;
}
size_t bnk_quantize_q8_0_f32_avx2(const float *src, size_t cols, size_t row_begin, size_t row_end, uint8_t *dst) {
    (void)src; (void)cols; (void)dst; return row_begin < row_end ? row_begin : row_end;
}
size_t bnk_quantize_q8_0_f16_avx512(const uint16_t *src, size_t cols, size_t row_begin, size_t row_end, uint8_t *dst) {
    (void)src; (void)cols; (void)dst; return row_begin < row_end ? row_begin : row_end;
}
size_t bnk_quantize_q8_0_f32_avx512(const float *src, size_t cols, size_t row_begin, size_t row_end, uint8_t *dst) {
    (void)src; (void)cols; (void)dst; return row_begin < row_end ? row_begin : row_end;
}
size_t bnk_quantize_q8_0_split_f16_avx2(const uint16_t *src, size_t cols, size_t row_begin, size_t row_end, int8_t *quants,
                                   uint16_t *scales) {
    (void)src; (void)cols; (void)quants; (void)scales; return row_begin < row_end ? row_begin : row_end;
}
size_t bnk_quantize_q8_0_split_f16_avx512(const uint16_t *src, size_t cols, size_t row_begin, size_t row_end, int8_t *quants,
                                   uint16_t *scales) {
    (void)src; (void)cols; (void)quants; (void)scales; return row_begin < row_end ? row_begin : row_end;
}
size_t bnk_quantize_q8_0_split_f32_avx2(const float *src, size_t cols, size_t row_begin, size_t row_end, int8_t *quants,
                                   uint16_t *scales) {
    (void)src; (void)cols; (void)quants; (void)scales; return row_begin < row_end ? row_begin : row_end;
}
size_t bnk_quantize_q8_0_split_f32_avx512(const float *src, size_t cols, size_t row_begin, size_t row_end, int8_t *quants,
                                   uint16_t *scales) {
    (void)src; (void)cols; (void)quants; (void)scales; return row_begin < row_end ? row_begin : row_end;
}
#endif
