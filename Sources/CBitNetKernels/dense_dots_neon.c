/* Float dot products of weight rows with an f32 vector on AArch64 (plain NEON),
 * for embeddings and the LM head: the contract is in bitnet_kernels.h and the
 * numerics are dense_dots.c's. F16 / Q8_0 / F32 rows accumulate in f32 with
 * fused multiply-adds, in another order than the Swift reference, so results
 * agree to rounding, not bit for bit; the split Q8_0 layout sums each block
 * exactly in int32 (int8 weights x int16 x), then in f32. */
#include "bitnet_kernels.h"
#include "neon_target.h"
#include "stream_prefetch.h"

#if defined(__aarch64__)

/* ---- F16 ---- */

void bnk_dot_f16_neon(const uint16_t *e, size_t cols, size_t row_begin, size_t row_end, const float *x, float *y) {
    for (size_t r = row_begin; r < row_end; r++) {
        const uint16_t *row = e + r * cols;
        float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
        size_t k = 0;
        for (; k + 16 <= cols; k += 16) {
            bnk_prefetch_stream(row + k);
            float16x8_t h0 = vreinterpretq_f16_u16(vld1q_u16(row + k));
            float16x8_t h1 = vreinterpretq_f16_u16(vld1q_u16(row + k + 8));
            s0 = vfmaq_f32(s0, vcvt_f32_f16(vget_low_f16(h0)), vld1q_f32(x + k));
            s1 = vfmaq_f32(s1, vcvt_high_f32_f16(h0), vld1q_f32(x + k + 4));
            s2 = vfmaq_f32(s2, vcvt_f32_f16(vget_low_f16(h1)), vld1q_f32(x + k + 8));
            s3 = vfmaq_f32(s3, vcvt_high_f32_f16(h1), vld1q_f32(x + k + 12));
        }
        float sum = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
        for (; k < cols; k++) sum += bnk_half_to_float(row[k]) * x[k];
        y[r] = sum;
    }
}

/* ---- Q8_0: 34-byte blocks { f16 d; int8 q[32]; }, cols % 32 == 0 ---- */

/* acc + d * (q . x) for one block; the 32 products summed in two chains. */
static inline __attribute__((always_inline)) float32x4_t q8_0_block(const uint8_t *blk, const float *xb,
                                                                   float32x4_t acc) {
    const int8x16_t q0 = vld1q_s8((const int8_t *)blk + 2), q1 = vld1q_s8((const int8_t *)blk + 18);
    const int16x8_t w[4] = {vmovl_s8(vget_low_s8(q0)), vmovl_high_s8(q0), vmovl_s8(vget_low_s8(q1)),
                            vmovl_high_s8(q1)};
    float32x4_t sa = vdupq_n_f32(0.0f), sb = sa;
    for (int i = 0; i < 4; i++) {
        sa = vfmaq_f32(sa, vcvtq_f32_s32(vmovl_s16(vget_low_s16(w[i]))), vld1q_f32(xb + 8 * i));
        sb = vfmaq_f32(sb, vcvtq_f32_s32(vmovl_high_s16(w[i])), vld1q_f32(xb + 8 * i + 4));
    }
    uint16_t dh = (uint16_t)(blk[0] | (blk[1] << 8));
    return vfmaq_n_f32(acc, vaddq_f32(sa, sb), bnk_half_to_float(dh));
}

/* Two accumulators over alternating blocks, as in the AVX-512 kernel. */
void bnk_dot_q8_0_neon(const uint8_t *e, size_t cols, size_t row_begin, size_t row_end, const float *x, float *y) {
    const size_t nb = cols / 32;
    for (size_t r = row_begin; r < row_end; r++) {
        const uint8_t *blk = e + r * nb * 34;
        float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = acc0;
        size_t b = 0;
        for (; b + 2 <= nb; b += 2, blk += 68) {
            bnk_prefetch_stream(blk);
            acc0 = q8_0_block(blk, x + b * 32, acc0);
            acc1 = q8_0_block(blk + 34, x + b * 32 + 32, acc1);
        }
        if (b < nb) acc0 = q8_0_block(blk, x + b * 32, acc0);
        y[r] = vaddvq_f32(vaddq_f32(acc0, acc1));
    }
}

/* ---- Q8_0, split layout: int8 weights x int16 x (see bitnet_kernels.h) ---- */
#define BNK_SPLIT_GROUP 512

/* The row's trailing cols/32 % 16 blocks, each 32 quants in plain order. */
static inline float q8_0_split_tail(const int8_t *q, const uint16_t *d, size_t n, const int16_t *x) {
    float sum = 0.0f;
    for (size_t b = 0; b < n; b++) {
        int32x4_t s = vdupq_n_s32(0);
        for (int h = 0; h < 2; h++) {
            const int8x16_t w = vld1q_s8(q + 32 * b + 16 * h);
            const int16x8_t lo = vmovl_s8(vget_low_s8(w)), hi = vmovl_high_s8(w);
            const int16x8_t xl = vld1q_s16(x + 32 * b + 16 * h), xh = vld1q_s16(x + 32 * b + 16 * h + 8);
            s = vmlal_s16(s, vget_low_s16(lo), vget_low_s16(xl));
            s = vmlal_high_s16(s, lo, xl);
            s = vmlal_s16(s, vget_low_s16(hi), vget_low_s16(xh));
            s = vmlal_high_s16(s, hi, xh);
        }
        sum += (float)vaddvq_s32(s) * bnk_half_to_float(d[b]);
    }
    return sum;
}

/* Value pair t of the 16 blocks (32 quants at q, 32 x values at xg) into s[]. */
static inline __attribute__((always_inline)) void q8_0_split_pair(const int8_t *q, const int16_t *xg, int32x4_t s[8]) {
    const int8x16_t w0 = vld1q_s8(q), w1 = vld1q_s8(q + 16);
    const int16x8_t w[4] = {vmovl_s8(vget_low_s8(w0)), vmovl_high_s8(w0), vmovl_s8(vget_low_s8(w1)),
                            vmovl_high_s8(w1)};
    for (int i = 0; i < 4; i++) {
        const int16x8_t xv = vld1q_s16(xg + 8 * i);
        s[2 * i] = vmlal_s16(s[2 * i], vget_low_s16(w[i]), vget_low_s16(xv));
        s[2 * i + 1] = vmlal_high_s16(s[2 * i + 1], w[i], xv);
    }
}

/* One group of 16 blocks: a 16-byte load holds value pair t of 8 blocks
 * (byte 2i+e = block i, value 2t+e). Widened to int16 and multiplied with x
 * (permuted the same way), lane pairs of s[] collect one block each; after
 * the 16 pairs one pairwise add leaves the 16 exact block sums, which are
 * converted and scaled by the 16 f16 block scales. Int32 cannot overflow:
 * |sum| <= 32 * 128 * 32767 < 2^27. */
static inline __attribute__((always_inline)) float32x4_t q8_0_split_group(const int8_t *q, const uint16_t *d,
                                                                         const int16_t *xg, float32x4_t acc) {
    int32x4_t s[8];
    for (int i = 0; i < 8; i++) s[i] = vdupq_n_s32(0);
    for (size_t t = 0; t < 16; t += 2) {
        bnk_prefetch_stream(q + 32 * t);
        q8_0_split_pair(q + 32 * t, xg + 32 * t, s);
        q8_0_split_pair(q + 32 * t + 32, xg + 32 * t + 32, s);
    }
    for (int i = 0; i < 4; i++) {
        const float32x4_t sums = vcvtq_f32_s32(vpaddq_s32(s[2 * i], s[2 * i + 1])); /* blocks 4i .. 4i+3 */
        const float32x4_t scale = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(d + 4 * i)));
        acc = vfmaq_f32(acc, sums, scale);
    }
    return acc;
}

void bnk_dot_q8_0_split_neon(const int8_t *quants, const uint16_t *scales, size_t cols, size_t row_begin,
                             size_t row_end, const int16_t *x, float x_scale, float *y) {
    const size_t nb = cols / 32, groups = nb / 16, tail = nb - groups * 16;
    for (size_t r = row_begin; r < row_end; r++) {
        const int8_t *q = quants + r * cols;
        const uint16_t *d = scales + r * nb;
        float32x4_t acc = vdupq_n_f32(0.0f);
        for (size_t g = 0; g < groups; g++)
            acc = q8_0_split_group(q + g * BNK_SPLIT_GROUP, d + 16 * g, x + g * BNK_SPLIT_GROUP, acc);
        float t = q8_0_split_tail(q + groups * BNK_SPLIT_GROUP, d + 16 * groups, tail, x + groups * BNK_SPLIT_GROUP);
        y[r] = (vaddvq_f32(acc) + t) * x_scale;
    }
}

/* ---- F32 ---- */

void bnk_dot_f32_neon(const float *e, size_t cols, size_t row_begin, size_t row_end, const float *x, float *y) {
    for (size_t r = row_begin; r < row_end; r++) {
        const float *row = e + r * cols;
        float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
        size_t k = 0;
        for (; k + 16 <= cols; k += 16) {
            s0 = vfmaq_f32(s0, vld1q_f32(row + k), vld1q_f32(x + k));
            s1 = vfmaq_f32(s1, vld1q_f32(row + k + 4), vld1q_f32(x + k + 4));
            s2 = vfmaq_f32(s2, vld1q_f32(row + k + 8), vld1q_f32(x + k + 8));
            s3 = vfmaq_f32(s3, vld1q_f32(row + k + 12), vld1q_f32(x + k + 12));
        }
        float sum = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
        for (; k < cols; k++) sum += row[k] * x[k];
        y[r] = sum;
    }
}

#else
/* Not AArch64: never called (bnk_cpu_has_neon() is 0); they exist so the symbols link. */
void bnk_dot_f16_neon(const uint16_t *e, size_t c, size_t b, size_t n, const float *x, float *y) { (void)e; (void)c; (void)b; (void)n; (void)x; (void)y; }
void bnk_dot_q8_0_neon(const uint8_t *e, size_t c, size_t b, size_t n, const float *x, float *y) { (void)e; (void)c; (void)b; (void)n; (void)x; (void)y; }
void bnk_dot_q8_0_split_neon(const int8_t *q, const uint16_t *d, size_t c, size_t b, size_t n, const int16_t *x, float s, float *y) { (void)q; (void)d; (void)c; (void)b; (void)n; (void)x; (void)s; (void)y; }
void bnk_dot_f32_neon(const float *e, size_t c, size_t b, size_t n, const float *x, float *y) { (void)e; (void)c; (void)b; (void)n; (void)x; (void)y; }
#endif
