/* AVX2 + FMA int8 × float helpers for the 8-bit KV cache; see bitnet_kv_q8.h. */
#include "bitnet_kv_q8.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define BNK_AVX2 __attribute__((target("avx2,fma")))

BNK_AVX2 static inline __m256 widen8(const int8_t *p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p)));
}

BNK_AVX2 float bnk_dot_i8_f32_avx2(const int8_t *a, const float *b, size_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(widen8(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(widen8(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(widen8(a + i), _mm256_loadu_ps(b + i), acc0);
    __m256 acc = _mm256_add_ps(acc0, acc1);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    float sum = _mm_cvtss_f32(s);
    for (; i < n; i++) sum += (float)a[i] * b[i];
    return sum;
}

BNK_AVX2 void bnk_axpy_i8_f32_avx2(float alpha, const int8_t *x, float *y, size_t n) {
    __m256 va = _mm256_set1_ps(alpha);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, widen8(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += alpha * (float)x[i];
}

BNK_AVX2 void bnk_scale_i8_f32_avx2(float scale, const int8_t *q, float *out, size_t n) {
    __m256 vs = _mm256_set1_ps(scale);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_mul_ps(vs, widen8(q + i)));
    for (; i < n; i++) out[i] = scale * (float)q[i];
}

#else
/* Non-x86 builds never call these (bnk_cpu_has_avx2() is 0); they exist so the symbols link. */
float bnk_dot_i8_f32_avx2(const int8_t *a, const float *b, size_t n) { (void)a; (void)b; (void)n; return 0; }
void bnk_axpy_i8_f32_avx2(float alpha, const int8_t *x, float *y, size_t n) { (void)alpha; (void)x; (void)y; (void)n; }
void bnk_scale_i8_f32_avx2(float scale, const int8_t *q, float *out, size_t n) { (void)scale; (void)q; (void)out; (void)n; }
#endif
