/* Requantization of F16 / F32 rows to Q8_0 on AArch64 (plain NEON): the same
 * encoding as quantize_q8_0.c, bit-exact with the Swift reference twin
 * (DenseMatrix.quantizeRowsToQ8_0Reference), whose rule is repeated there.
 *
 * NEON has the rounding the rule asks for as one instruction: FCVTAS converts
 * to an integer rounding half away from zero, so q = clamp(FCVTAS(x * inv))
 * (clamping after rounding is the same as before it, the bounds being
 * integers). f16(d) uses FCVTN, round to nearest even under the default FPCR. */
#include "bitnet_kernels.h"
#include "neon_target.h"
#include "q8_0_rows.h"

#if defined(__aarch64__)

/* quantize_q8_0.c's block_scale: the f16 scale from max|x| (as f32 bits, so NaN
 * fails the same compare as Inf); 0 when the block cannot be encoded. */
static inline int block_scale_neon(uint32_t max_abs_bits, uint8_t *out, float *inverse) {
    if (max_abs_bits >= F32_INF_BITS) return 0;
    float max_abs;
    memcpy(&max_abs, &max_abs_bits, sizeof max_abs);
    float d = max_abs / 127.0f;
    uint16_t half = vget_lane_u16(vreinterpret_u16_f16(vcvt_f16_f32(vdupq_n_f32(d))), 0);
    if ((half & 0x7fff) >= F16_INF_BITS) return 0;
    memcpy(out, &half, sizeof half);
    float reciprocal = 1.0f / d;
    *inverse = reciprocal < __builtin_inff() ? reciprocal : 0.0f;
    return 1;
}

/* A block is eight vectors of 4. */
static inline int quantize_block_neon(const float32x4_t x[8], uint8_t *out) {
    const uint32x4_t magnitude = vdupq_n_u32(0x7fffffff);
    uint32x4_t m = vandq_u32(vreinterpretq_u32_f32(x[0]), magnitude);
    for (int i = 1; i < 8; i++) m = vmaxq_u32(m, vandq_u32(vreinterpretq_u32_f32(x[i]), magnitude));
    float inverse;
    if (!block_scale_neon(vmaxvq_u32(m), out, &inverse)) return 0;
    const int32x4_t limit = vdupq_n_s32(127), neg_limit = vdupq_n_s32(-127);
    int16x8_t h[4];
    for (int i = 0; i < 4; i++) {
        int32x4_t a = vcvtaq_s32_f32(vmulq_n_f32(x[2 * i], inverse));
        int32x4_t b = vcvtaq_s32_f32(vmulq_n_f32(x[2 * i + 1], inverse));
        a = vmaxq_s32(vminq_s32(a, limit), neg_limit);
        b = vmaxq_s32(vminq_s32(b, limit), neg_limit);
        h[i] = vcombine_s16(vmovn_s32(a), vmovn_s32(b));
    }
    vst1q_s8((int8_t *)(out + 2), vcombine_s8(vmovn_s16(h[0]), vmovn_s16(h[1])));
    vst1q_s8((int8_t *)(out + 18), vcombine_s8(vmovn_s16(h[2]), vmovn_s16(h[3])));
    return 1;
}

/* Encodes n blocks starting at `row` into ggml blocks at `out`; 0 when one cannot be encoded. */
static inline int encode_f16_neon(const uint16_t *row, size_t n, uint8_t *out) {
    for (size_t b = 0; b < n; b++) {
        float32x4_t x[8];
        for (int i = 0; i < 4; i++) {
            float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(row + 32 * b + 8 * i));
            x[2 * i] = vcvt_f32_f16(vget_low_f16(h));
            x[2 * i + 1] = vcvt_high_f32_f16(h);
        }
        if (!quantize_block_neon(x, out + b * Q8_BLOCK_BYTES)) return 0;
    }
    return 1;
}

static inline int encode_f32_neon(const float *row, size_t n, uint8_t *out) {
    for (size_t b = 0; b < n; b++) {
        float32x4_t x[8];
        for (int i = 0; i < 8; i++) x[i] = vld1q_f32(row + 32 * b + 4 * i);
        if (!quantize_block_neon(x, out + b * Q8_BLOCK_BYTES)) return 0;
    }
    return 1;
}

#define BNK_NO_TARGET
BNK_QUANTIZE_ROWS(bnk_quantize_q8_0_f16_neon, BNK_NO_TARGET, uint16_t, encode_f16_neon)
BNK_QUANTIZE_ROWS(bnk_quantize_q8_0_f32_neon, BNK_NO_TARGET, float, encode_f32_neon)
BNK_QUANTIZE_ROWS_SPLIT(bnk_quantize_q8_0_split_f16_neon, BNK_NO_TARGET, uint16_t, encode_f16_neon)
BNK_QUANTIZE_ROWS_SPLIT(bnk_quantize_q8_0_split_f32_neon, BNK_NO_TARGET, float, encode_f32_neon)

#else
/* Not AArch64: never called (bnk_cpu_has_neon() is 0); they exist so the symbols link. */
size_t bnk_quantize_q8_0_f16_neon(const uint16_t *src, size_t cols, size_t row_begin, size_t row_end, uint8_t *dst) {
    (void)src; (void)cols; (void)dst; return row_begin < row_end ? row_begin : row_end;
}
size_t bnk_quantize_q8_0_f32_neon(const float *src, size_t cols, size_t row_begin, size_t row_end, uint8_t *dst) {
    (void)src; (void)cols; (void)dst; return row_begin < row_end ? row_begin : row_end;
}
size_t bnk_quantize_q8_0_split_f16_neon(const uint16_t *src, size_t cols, size_t row_begin, size_t row_end,
                                        int8_t *quants, uint16_t *scales) {
    (void)src; (void)cols; (void)quants; (void)scales; return row_begin < row_end ? row_begin : row_end;
}
size_t bnk_quantize_q8_0_split_f32_neon(const float *src, size_t cols, size_t row_begin, size_t row_end,
                                        int8_t *quants, uint16_t *scales) {
    (void)src; (void)cols; (void)quants; (void)scales; return row_begin < row_end ? row_begin : row_end;
}
#endif
