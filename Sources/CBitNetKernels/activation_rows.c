/* Per-row float work of the forward pass between two weight products: the
 * sum of squares of an RMS norm and the int8 quantization of activations.
 * At decode these run on one thread while the other waits, ~200 times per
 * token; the scalar Swift loops were latency-bound (one dependent add per
 * element) and cost ~3% of a token.
 *
 * Bit-exact twins of FloatOps.sumOfSquaresReference and
 * QuantizedActivations.quantizeRowReference (Swift), which are the spec:
 *
 * sum of squares: 16 double lanes, lane j += x[i]² for i = 16c + j over the
 *   whole 16-element chunks; the lanes folded in halves (j += j + 8, then
 *   + 4, + 2, + 1); then the tail elements added one by one. A float
 *   squared is exact in double, so fused or separate multiply-add agree.
 *
 * quantization: s = 127 / max(max|v|, 1e-5) (max|v| as an integer max of the
 *   sign-less bits, so NaN wins and gives s = 1.27e7); q = round-half-even of
 *   v·s clamped to [-128, 127] (a NaN product clamps to 127); returns s and
 *   Σq. */
#include "activation_rows_tail.h"
#include "bitnet_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define BNK_AVX2 __attribute__((target("avx2,fma")))

BNK_AVX2 double bnk_sum_squares_avx2(const float *x, size_t n) {
    __m256d lanes[4] = {_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd()};
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int k = 0; k < 4; k++) {
            __m256d v = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4 * k));
            lanes[k] = _mm256_add_pd(lanes[k], _mm256_mul_pd(v, v));
        }
    }
    __m256d folded = _mm256_add_pd(_mm256_add_pd(lanes[0], lanes[2]), _mm256_add_pd(lanes[1], lanes[3]));
    /* The line above is (l0 + l2) + (l1 + l3): the +8 fold, then the +4 fold. */
    __m128d half = _mm_add_pd(_mm256_castpd256_pd128(folded), _mm256_extractf128_pd(folded, 1));
    double sum = _mm_cvtsd_f64(half) + _mm_cvtsd_f64(_mm_unpackhi_pd(half, half));
    for (; i < n; i++) {
        double v = (double)x[i];
        sum += v * v;
    }
    return sum;
}

BNK_AVX2 float bnk_quantize_row_i8_avx2(const float *v, size_t n, int8_t *q, int32_t *sum) {
    const __m256i magnitude = _mm256_set1_epi32(0x7FFFFFFF);
    __m256i maxBits = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i bits = _mm256_and_si256(_mm256_castps_si256(_mm256_loadu_ps(v + i)), magnitude);
        maxBits = _mm256_max_epu32(maxBits, bits);
    }
    __m128i m = _mm_max_epu32(_mm256_castsi256_si128(maxBits), _mm256_extracti128_si256(maxBits, 1));
    m = _mm_max_epu32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
    m = _mm_max_epu32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
    uint32_t bitsMax = (uint32_t)_mm_cvtsi128_si32(m);
    for (; i < n; i++) {
        uint32_t bits;
        __builtin_memcpy(&bits, v + i, 4);
        bits &= 0x7FFFFFFF;
        if (bits > bitsMax) bitsMax = bits;
    }
    float maxAbs;
    __builtin_memcpy(&maxAbs, &bitsMax, 4);
    const float s = 127.0f / (maxAbs > 1e-5f ? maxAbs : 1e-5f);

    const __m256 scale = _mm256_set1_ps(s), high = _mm256_set1_ps(127.0f), low = _mm256_set1_ps(-128.0f);
    /* packs interleaves 128-bit lanes; this permutation restores element order. */
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    __m256i total = _mm256_setzero_si256();
    i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i w[4];
        for (int k = 0; k < 4; k++) {
            /* min/max return the second operand for NaN: NaN → 127, as the spec's compare-selects. */
            __m256 x = _mm256_mul_ps(_mm256_loadu_ps(v + i + 8 * k), scale);
            w[k] = _mm256_cvtps_epi32(_mm256_max_ps(_mm256_min_ps(x, high), low));
            total = _mm256_add_epi32(total, w[k]);
        }
        __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(w[0], w[1]), _mm256_packs_epi32(w[2], w[3]));
        _mm256_storeu_si256((__m256i *)(q + i), _mm256_permutevar8x32_epi32(packed, order));
    }
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(total), _mm256_extracti128_si256(total, 1));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(1, 0, 3, 2)));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(2, 3, 0, 1)));
    int32_t acc = _mm_cvtsi128_si32(t);
    acc += bnk_quantize_row_tail(v, i, n, s, q);
    *sum = acc;
    return s;
}

#else

double bnk_sum_squares_avx2(const float *x, size_t n) { (void)x; (void)n; return 0; }
float bnk_quantize_row_i8_avx2(const float *v, size_t n, int8_t *q, int32_t *sum) {
    (void)v; (void)n; (void)q; *sum = 0; return 0;
}

#endif
