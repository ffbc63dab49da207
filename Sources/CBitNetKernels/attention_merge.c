/*
 * Merging two online-softmax states of one attention row (see
 * bitnet_attention.h, bnk_attention_merge_*). Decode attention splits the key
 * range into fixed 256-key superblocks whose states are computed apart (by
 * either thread) and merged in superblock order; the prompt path merges at
 * the same boundaries, so a position's output has the same bits however it
 * was batched and however many threads ran. The element operation is one
 * multiply and one fused multiply-add, so every version here and the Swift
 * twin (AttentionTile.mergeRowReference) agree bit for bit.
 */
#include "bitnet_attention.h"

#if defined(__x86_64__)
#include "x86_target.h"

BNK_AVX512 void bnk_attention_merge_avx512(float *a, float scale_a, const float *b, float scale_b, size_t dim) {
    const __m512 ca = _mm512_set1_ps(scale_a), cb = _mm512_set1_ps(scale_b);
    size_t d = 0;
    for (; d + 16 <= dim; d += 16) {
        __m512 x = _mm512_mul_ps(_mm512_loadu_ps(a + d), ca);
        _mm512_storeu_ps(a + d, _mm512_fmadd_ps(_mm512_loadu_ps(b + d), cb, x));
    }
    if (d < dim) {
        __mmask16 m = (__mmask16)((1u << (dim - d)) - 1);
        __m512 x = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, a + d), ca);
        _mm512_mask_storeu_ps(a + d, m, _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, b + d), cb, x));
    }
}

__attribute__((target("avx2,fma")))
void bnk_attention_merge_avx2(float *a, float scale_a, const float *b, float scale_b, size_t dim) {
    const __m256 ca = _mm256_set1_ps(scale_a), cb = _mm256_set1_ps(scale_b);
    size_t d = 0;
    for (; d + 8 <= dim; d += 8) {
        __m256 x = _mm256_mul_ps(_mm256_loadu_ps(a + d), ca);
        _mm256_storeu_ps(a + d, _mm256_fmadd_ps(_mm256_loadu_ps(b + d), cb, x));
    }
    for (; d < dim; d++) {
        __m128 x = _mm_mul_ss(_mm_set_ss(a[d]), _mm_set_ss(scale_a));
        a[d] = _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(b[d]), _mm_set_ss(scale_b), x));
    }
}

#else
/* Not x86: the CPU checks fail, so these are never called. */
void bnk_attention_merge_avx512(float *a, float scale_a, const float *b, float scale_b, size_t dim) {
    (void)a; (void)scale_a; (void)b; (void)scale_b; (void)dim;
}
void bnk_attention_merge_avx2(float *a, float scale_a, const float *b, float scale_b, size_t dim) {
    (void)a; (void)scale_a; (void)b; (void)scale_b; (void)dim;
}
#endif

#if defined(__aarch64__)
#include <arm_neon.h>

void bnk_attention_merge_neon(float *a, float scale_a, const float *b, float scale_b, size_t dim) {
    const float32x4_t ca = vdupq_n_f32(scale_a), cb = vdupq_n_f32(scale_b);
    size_t d = 0;
    for (; d + 4 <= dim; d += 4) {
        float32x4_t x = vmulq_f32(vld1q_f32(a + d), ca);
        vst1q_f32(a + d, vfmaq_f32(x, vld1q_f32(b + d), cb));
    }
    for (; d < dim; d++) a[d] = __builtin_fmaf(b[d], scale_b, a[d] * scale_a);
}
#else
void bnk_attention_merge_neon(float *a, float scale_a, const float *b, float scale_b, size_t dim) {
    (void)a; (void)scale_a; (void)b; (void)scale_b; (void)dim;
}
#endif
