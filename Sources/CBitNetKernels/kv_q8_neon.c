/* The 8-bit KV cache helpers of kv_q8.c on AArch64 (plain NEON); see
 * bitnet_kv_q8.h. axpy is one fused multiply-add per element, like the AVX2
 * version; dot sums in its own order (agrees with the reference to rounding). */
#include "bitnet_kv_q8.h"
#include "neon_target.h"

#if defined(__aarch64__)

/* Eight int8 values as two float vectors (exact). */
static inline void widen8(const int8_t *p, float32x4_t *lo, float32x4_t *hi) {
    int16x8_t w = vmovl_s8(vld1_s8(p));
    *lo = vcvtq_f32_s32(vmovl_s16(vget_low_s16(w)));
    *hi = vcvtq_f32_s32(vmovl_high_s16(w));
}

float bnk_dot_i8_f32_neon(const int8_t *a, const float *b, size_t n) {
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t a0, a1, a2, a3;
        widen8(a + i, &a0, &a1);
        widen8(a + i + 8, &a2, &a3);
        acc0 = vfmaq_f32(acc0, a0, vld1q_f32(b + i));
        acc1 = vfmaq_f32(acc1, a1, vld1q_f32(b + i + 4));
        acc2 = vfmaq_f32(acc2, a2, vld1q_f32(b + i + 8));
        acc3 = vfmaq_f32(acc3, a3, vld1q_f32(b + i + 12));
    }
    for (; i + 8 <= n; i += 8) {
        float32x4_t a0, a1;
        widen8(a + i, &a0, &a1);
        acc0 = vfmaq_f32(acc0, a0, vld1q_f32(b + i));
        acc1 = vfmaq_f32(acc1, a1, vld1q_f32(b + i + 4));
    }
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3)));
    for (; i < n; i++) sum = __builtin_fmaf((float)a[i], b[i], sum);
    return sum;
}

void bnk_axpy_i8_f32_neon(float alpha, const int8_t *x, float *y, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float32x4_t lo, hi;
        widen8(x + i, &lo, &hi);
        vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), lo, alpha));
        vst1q_f32(y + i + 4, vfmaq_n_f32(vld1q_f32(y + i + 4), hi, alpha));
    }
    for (; i < n; i++) y[i] = __builtin_fmaf(alpha, (float)x[i], y[i]);
}

void bnk_scale_i8_f32_neon(float scale, const int8_t *x, float *out, size_t n) {
    const float32x4_t vs = vdupq_n_f32(scale);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float32x4_t lo, hi;
        widen8(x + i, &lo, &hi);
        vst1q_f32(out + i, vmulq_f32(vs, lo));
        vst1q_f32(out + i + 4, vmulq_f32(vs, hi));
    }
    for (; i < n; i++) out[i] = scale * (float)x[i];
}

#else
/* Not AArch64: never called (bnk_cpu_has_neon() is 0); they exist so the symbols link. */
float bnk_dot_i8_f32_neon(const int8_t *a, const float *b, size_t n) { (void)a; (void)b; (void)n; return 0; }
void bnk_axpy_i8_f32_neon(float alpha, const int8_t *x, float *y, size_t n) { (void)alpha; (void)x; (void)y; (void)n; }
void bnk_scale_i8_f32_neon(float scale, const int8_t *x, float *out, size_t n) { (void)scale; (void)x; (void)out; (void)n; }
#endif
