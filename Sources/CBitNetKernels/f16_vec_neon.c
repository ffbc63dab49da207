/* The half-precision vector helpers of f16_vec.c on AArch64 (plain NEON:
 * FCVTL/FCVTN convert four halves at a time and are baseline there); see
 * bitnet_f16.h. Results are those of the F16C versions: conversions exact or
 * rounded to nearest even, axpy one fused multiply-add per element (tails
 * included, so nothing depends on n % 4), dot in its own summation order. */
#include "bitnet_f16.h"
#include "neon_target.h"

#if defined(__aarch64__)

float bnk_dot_f16_f32_neon(const uint16_t *a, const float *b, size_t n) {
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float16x8_t h0 = vreinterpretq_f16_u16(vld1q_u16(a + i)), h1 = vreinterpretq_f16_u16(vld1q_u16(a + i + 8));
        acc0 = vfmaq_f32(acc0, vcvt_f32_f16(vget_low_f16(h0)), vld1q_f32(b + i));
        acc1 = vfmaq_f32(acc1, vcvt_high_f32_f16(h0), vld1q_f32(b + i + 4));
        acc2 = vfmaq_f32(acc2, vcvt_f32_f16(vget_low_f16(h1)), vld1q_f32(b + i + 8));
        acc3 = vfmaq_f32(acc3, vcvt_high_f32_f16(h1), vld1q_f32(b + i + 12));
    }
    for (; i + 4 <= n; i += 4)
        acc0 = vfmaq_f32(acc0, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(a + i))), vld1q_f32(b + i));
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3)));
    for (; i < n; i++) sum = __builtin_fmaf(bnk_half_to_float(a[i]), b[i], sum);
    return sum;
}

void bnk_axpy_f16_f32_neon(float alpha, const uint16_t *x, float *y, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t vx = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(x + i)));
        vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vx, alpha));
    }
    for (; i < n; i++) y[i] = __builtin_fmaf(alpha, bnk_half_to_float(x[i]), y[i]);
}

void bnk_f32_to_f16_neon(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1_u16(dst + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(src + i))));
    for (; i < n; i++) dst[i] = vget_lane_u16(vreinterpret_u16_f16(vcvt_f16_f32(vdupq_n_f32(src[i]))), 0);
}

void bnk_f16_to_f32_neon(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(dst + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(src + i))));
    for (; i < n; i++) dst[i] = bnk_half_to_float(src[i]);
}

#else
/* Not AArch64: never called (bnk_cpu_has_neon() is 0); they exist so the symbols link. */
float bnk_dot_f16_f32_neon(const uint16_t *a, const float *b, size_t n) { (void)a; (void)b; (void)n; return 0; }
void bnk_axpy_f16_f32_neon(float alpha, const uint16_t *x, float *y, size_t n) { (void)alpha; (void)x; (void)y; (void)n; }
void bnk_f32_to_f16_neon(const float *src, uint16_t *dst, size_t n) { (void)src; (void)dst; (void)n; }
void bnk_f16_to_f32_neon(const uint16_t *src, float *dst, size_t n) { (void)src; (void)dst; (void)n; }
#endif
