/* The activation-row kernels of activation_rows.c on AArch64 (plain NEON),
 * bit-exact twins of the same Swift references (FloatOps.sumOfSquaresReference,
 * QuantizedActivations.quantizeRowReference), whose rules activation_rows.c
 * spells out. */
#include "activation_rows_tail.h"
#include "bitnet_kernels.h"
#include "neon_target.h"

#if defined(__aarch64__)
#include <string.h>

/* The 16 double lanes of the spec as 8 vectors of 2: lanes[k] holds lanes 2k
 * and 2k+1, so folding j += j + 8, + 4, + 2 is lanes[k] += lanes[k + 4], + 2,
 * + 1, and the last fold adds the two halves of lanes[0]. A float squared is
 * exact in double, so the fused multiply-add equals the spec's multiply, add. */
double bnk_sum_squares_neon(const float *x, size_t n) {
    float64x2_t lanes[8];
    for (int k = 0; k < 8; k++) lanes[k] = vdupq_n_f64(0.0);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int k = 0; k < 4; k++) {
            float32x4_t v = vld1q_f32(x + i + 4 * k);
            float64x2_t lo = vcvt_f64_f32(vget_low_f32(v)), hi = vcvt_high_f64_f32(v);
            lanes[2 * k] = vfmaq_f64(lanes[2 * k], lo, lo);
            lanes[2 * k + 1] = vfmaq_f64(lanes[2 * k + 1], hi, hi);
        }
    }
    for (int width = 4; width >= 1; width /= 2)
        for (int k = 0; k < width; k++) lanes[k] = vaddq_f64(lanes[k], lanes[k + width]);
    double sum = vgetq_lane_f64(lanes[0], 0) + vgetq_lane_f64(lanes[0], 1);
    for (; i < n; i++) {
        double v = (double)x[i];
        sum += v * v;
    }
    return sum;
}

/* The clamps are the spec's compare-selects (a NaN product fails `x < 127`
 * and becomes 127); FCVTNS rounds half to even like the spec's 1.5·2^23
 * add/subtract. */
float bnk_quantize_row_i8_neon(const float *v, size_t n, int8_t *q, int32_t *sum) {
    const uint32x4_t magnitude = vdupq_n_u32(0x7FFFFFFF);
    uint32x4_t maxBits = vdupq_n_u32(0);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) maxBits = vmaxq_u32(maxBits, vandq_u32(vreinterpretq_u32_f32(vld1q_f32(v + i)), magnitude));
    uint32_t bitsMax = vmaxvq_u32(maxBits);
    for (; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, v + i, 4);
        bits &= 0x7FFFFFFF;
        if (bits > bitsMax) bitsMax = bits;
    }
    float maxAbs;
    memcpy(&maxAbs, &bitsMax, 4);
    const float s = 127.0f / (maxAbs > 1e-5f ? maxAbs : 1e-5f);

    const float32x4_t high = vdupq_n_f32(127.0f), low = vdupq_n_f32(-128.0f);
    int32x4_t total = vdupq_n_s32(0);
    i = 0;
    for (; i + 16 <= n; i += 16) {
        int32x4_t w[4];
        for (int k = 0; k < 4; k++) {
            float32x4_t x = vmulq_n_f32(vld1q_f32(v + i + 4 * k), s);
            float32x4_t clampedHigh = vbslq_f32(vcltq_f32(x, high), x, high);
            float32x4_t clamped = vbslq_f32(vcgtq_f32(clampedHigh, low), clampedHigh, low);
            w[k] = vcvtnq_s32_f32(clamped);
            total = vaddq_s32(total, w[k]);
        }
        int16x8_t h0 = vcombine_s16(vmovn_s32(w[0]), vmovn_s32(w[1]));
        int16x8_t h1 = vcombine_s16(vmovn_s32(w[2]), vmovn_s32(w[3]));
        vst1q_s8(q + i, vcombine_s8(vmovn_s16(h0), vmovn_s16(h1)));
    }
    int32_t acc = vaddvq_s32(total);
    acc += bnk_quantize_row_tail(v, i, n, s, q);
    *sum = acc;
    return s;
}

#else
/* Not AArch64: never called (bnk_cpu_has_neon() is 0); they exist so the symbols link. */
double bnk_sum_squares_neon(const float *x, size_t n) { (void)x; (void)n; return 0; }
float bnk_quantize_row_i8_neon(const float *v, size_t n, int8_t *q, int32_t *sum) {
    (void)v; (void)n; (void)q; *sum = 0; return 0;
}
#endif
