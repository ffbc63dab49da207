/* One key tile of online-softmax attention on AArch64 (plain NEON), 4 rows per
 * vector; see bitnet_attention.h. Every lane performs the operations of the
 * AVX2 kernel in the same order (FMLA/FMLS are the same single-rounding fused
 * operations, FRINTN the same round-to-nearest-even, 2^n built from exponent
 * bits), so it gives the same bits as the x86 kernels and the Swift twin
 * AttentionTile.stepReference. */
#include "bitnet_attention.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#include <math.h>

#include "stream_prefetch.h"

/* Prefetches rows first..first+count-1 of the next tile (keys and values),
 * every 64-byte line they touch, as attention_tile.c does on x86. */
static inline void prefetch_next(const bnk_attention_prefetch *next, size_t first, size_t count) {
    if (next == NULL || next->row_bytes == 0) return;
    for (size_t i = first; i < first + count && i < next->rows; i++) {
        uintptr_t k = (uintptr_t)(next->keys + i * next->stride), v = (uintptr_t)(next->values + i * next->stride);
        uintptr_t k_end = k + next->row_bytes - 1, v_end = v + next->row_bytes - 1;
        for (uintptr_t line = k & ~(uintptr_t)63; line <= k_end; line += 64) __builtin_prefetch((const void *)line, 0, 3);
        for (uintptr_t line = v & ~(uintptr_t)63; line <= v_end; line += 64) __builtin_prefetch((const void *)line, 0, 3);
    }
}

/* exp(x) for x <= 0: Cephes' expf as in attention_tile.c; exactly 0 below -87. */
static inline float32x4_t exp_nonpositive(float32x4_t x) {
    const float32x4_t lowest = vdupq_n_f32(-87.0f);
    uint32x4_t underflow = vcltq_f32(x, lowest);
    x = vmaxq_f32(x, lowest);
    float32x4_t n = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(1.44269504088896341f)));
    float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(0.693359375f));
    r = vfmsq_f32(r, n, vdupq_n_f32(-2.12194440e-4f));
    float32x4_t p = vdupq_n_f32(1.9875691500e-4f);
    p = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), p, r);
    p = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), p, r);
    float32x4_t y = vfmaq_f32(r, p, vmulq_f32(r, r));
    y = vaddq_f32(y, vdupq_n_f32(1.0f));
    /* n >= -126 here, so 2^n is a normal float and y * 2^n one rounding. */
    int32x4_t bits = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
    return vreinterpretq_f32_u32(
        vbicq_u32(vreinterpretq_u32_f32(vmulq_f32(y, vreinterpretq_f32_s32(bits))), underflow));
}

/* s[j * rp + r] = sum_d k[j][d] * qt[d][r]; 4 keys x 16 rows per block (16 accumulators). */
static void tile_scores(const float *qt, size_t rp, const float *k, size_t keys, size_t dim, float *s,
                        const bnk_attention_prefetch *next) {
    size_t j = 0;
    for (; j + 4 <= keys; j += 4) {
        prefetch_next(next, j, 4);
        const float *kj[4] = {k + j * dim, k + (j + 1) * dim, k + (j + 2) * dim, k + (j + 3) * dim};
        for (size_t r = 0; r < rp; r += 16) {
            float32x4_t a[4][4];
            for (int x = 0; x < 4; x++)
                for (int c = 0; c < 4; c++) a[x][c] = vdupq_n_f32(0.0f);
            for (size_t d = 0; d < dim; d++) {
                const float *q = qt + d * rp + r;
                const float32x4_t q0 = vld1q_f32(q), q1 = vld1q_f32(q + 4), q2 = vld1q_f32(q + 8), q3 = vld1q_f32(q + 12);
                for (int x = 0; x < 4; x++) {
                    const float b = kj[x][d];
                    a[x][0] = vfmaq_n_f32(a[x][0], q0, b);
                    a[x][1] = vfmaq_n_f32(a[x][1], q1, b);
                    a[x][2] = vfmaq_n_f32(a[x][2], q2, b);
                    a[x][3] = vfmaq_n_f32(a[x][3], q3, b);
                }
            }
            for (int x = 0; x < 4; x++)
                for (int c = 0; c < 4; c++) vst1q_f32(s + (j + x) * rp + r + 4 * c, a[x][c]);
        }
    }
    prefetch_next(next, j, next != NULL && next->rows > j ? next->rows - j : 0);
    for (; j < keys; j++) {
        const float *k0 = k + j * dim;
        for (size_t r = 0; r < rp; r += 4) {
            float32x4_t a = vdupq_n_f32(0.0f);
            for (size_t d = 0; d < dim; d++) a = vfmaq_n_f32(a, vld1q_f32(qt + d * rp + r), k0[d]);
            vst1q_f32(s + j * rp + r, a);
        }
    }
}

/* Scores to probabilities in place, each row's correction factor into corr[r]. */
static void tile_softmax(float *s, size_t rp, size_t keys, const int32_t *limit, float *row_max, float *row_sum,
                         float *corr) {
    const float32x4_t minus_inf = vdupq_n_f32(-INFINITY);
    for (size_t r = 0; r < rp; r += 4) {
        const int32x4_t lim = vld1q_s32(limit + r);
        const float32x4_t old_max = vld1q_f32(row_max + r);
        float32x4_t m = old_max;
        for (size_t j = 0; j < keys; j++) {
            uint32x4_t valid = vcgtq_s32(lim, vdupq_n_s32((int32_t)j));
            float32x4_t sj = vld1q_f32(s + j * rp + r);
            float32x4_t larger = vbslq_f32(vcgtq_f32(m, sj), m, sj); /* x86 max_ps(m, s): m > s ? m : s */
            m = vbslq_f32(valid, larger, m);
        }
        uint32x4_t seen = vcgtq_f32(m, minus_inf); /* m != -inf, false for NaN (x86 _CMP_NEQ_OQ) */
        float32x4_t c = exp_nonpositive(vreinterpretq_f32_u32(vandq_u32(seen, vreinterpretq_u32_f32(vsubq_f32(old_max, m)))));
        float32x4_t total = vdupq_n_f32(0.0f);
        for (size_t j = 0; j < keys; j++) {
            uint32x4_t valid = vcgtq_s32(lim, vdupq_n_s32((int32_t)j));
            float32x4_t x = vreinterpretq_f32_u32(vandq_u32(valid, vreinterpretq_u32_f32(vsubq_f32(vld1q_f32(s + j * rp + r), m))));
            float32x4_t e = vreinterpretq_f32_u32(vandq_u32(valid, vreinterpretq_u32_f32(exp_nonpositive(x))));
            vst1q_f32(s + j * rp + r, e);
            total = vaddq_f32(total, e);
        }
        vst1q_f32(row_sum + r, vfmaq_f32(total, vld1q_f32(row_sum + r), c));
        vst1q_f32(row_max + r, m);
        vst1q_f32(corr + r, c);
    }
}

/* o[r][:] = o[r][:] * corr[r] + sum_{j < jmax} p[j][r] * v[j][:], 4 rows x 16
 * columns per block (16 accumulators); jmax is the largest limit of the 4 rows
 * (p is 0 beyond a row's own). */
static void tile_values(const float *p, size_t rp, size_t keys, const float *v, size_t dim, const int32_t *limit,
                        const float *corr, float *o) {
    for (size_t r = 0; r < rp; r += 4) {
        int32_t jmax = limit[r];
        for (size_t x = 1; x < 4; x++) jmax = limit[r + x] > jmax ? limit[r + x] : jmax;
        if (jmax <= 0) continue;
        /* A limit beyond the tile sees the whole tile (as in the reference): never read past it. */
        if ((size_t)jmax > keys) jmax = (int32_t)keys;
        for (size_t c = 0; c < dim; c += 16) {
            float32x4_t a[4][4];
            for (int x = 0; x < 4; x++)
                for (int i = 0; i < 4; i++) a[x][i] = vmulq_n_f32(vld1q_f32(o + (r + x) * dim + c + 4 * i), corr[r + x]);
            for (int32_t j = 0; j < jmax; j++) {
                const float *vj = v + (size_t)j * dim + c;
                const float32x4_t v0 = vld1q_f32(vj), v1 = vld1q_f32(vj + 4), v2 = vld1q_f32(vj + 8), v3 = vld1q_f32(vj + 12);
                const float32x4_t pj = vld1q_f32(p + (size_t)j * rp + r);
#define ACC_ROW(x)                                           \
    a[x][0] = vfmaq_laneq_f32(a[x][0], v0, pj, x);           \
    a[x][1] = vfmaq_laneq_f32(a[x][1], v1, pj, x);           \
    a[x][2] = vfmaq_laneq_f32(a[x][2], v2, pj, x);           \
    a[x][3] = vfmaq_laneq_f32(a[x][3], v3, pj, x);
                ACC_ROW(0) ACC_ROW(1) ACC_ROW(2) ACC_ROW(3)
#undef ACC_ROW
            }
            for (int x = 0; x < 4; x++)
                for (int i = 0; i < 4; i++) vst1q_f32(o + (r + x) * dim + c + 4 * i, a[x][i]);
        }
    }
}

void bnk_attention_tile_neon(const float *qt, size_t rows_padded, const float *k, const float *v, size_t keys,
                             size_t dim, const int32_t *limit, float *row_max, float *row_sum, float *o,
                             float *scratch, const bnk_attention_prefetch *next) {
    if (keys == 0) return;
    float *p = scratch, *corr = scratch + keys * rows_padded;
    tile_scores(qt, rows_padded, k, keys, dim, p, next);
    tile_softmax(p, rows_padded, keys, limit, row_max, row_sum, corr);
    tile_values(p, rows_padded, keys, v, dim, limit, corr, o);
}

static inline void convert_row_f16(const uint16_t *src, float *dst, size_t dim) {
    size_t d = 0;
    for (; d + 4 <= dim; d += 4) vst1q_f32(dst + d, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(src + d))));
    for (; d < dim; d++) dst[d] = vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(src[d]))), 0);
}

void bnk_attention_stage_f16(const uint16_t *k, const uint16_t *v, size_t stride, size_t rows, size_t dim,
                             float *k_out, float *v_out, size_t out_stride) {
    for (size_t i = 0; i < rows; i++) {
        convert_row_f16(k + i * stride, k_out + i * out_stride, dim);
        convert_row_f16(v + i * stride, v_out + i * out_stride, dim);
    }
}

void bnk_attention_stage_f16_heads(const uint16_t *k, const uint16_t *v, size_t stride, size_t rows,
                                   size_t heads, size_t dim, float *k_out, float *v_out, size_t out_stride,
                                   size_t head_stride) {
    for (size_t i = 0; i < rows; i++) {
        const uint16_t *kr = k + i * stride, *vr = v + i * stride;
        for (size_t line = 0; line < heads * dim * 2; line += 64) {
            bnk_prefetch_stream((const uint8_t *)kr + line);
            bnk_prefetch_stream((const uint8_t *)vr + line);
        }
        for (size_t g = 0; g < heads; g++) {
            convert_row_f16(kr + g * dim, k_out + g * head_stride + i * out_stride, dim);
            convert_row_f16(vr + g * dim, v_out + g * head_stride + i * out_stride, dim);
        }
    }
}

#else
/* Not AArch64: never called (bnk_cpu_has_neon() is 0); it exists so the symbol links. */
void bnk_attention_tile_neon(const float *qt, size_t rows_padded, const float *k, const float *v, size_t keys,
                             size_t dim, const int32_t *limit, float *row_max, float *row_sum, float *o,
                             float *scratch, const bnk_attention_prefetch *next) {
    (void)qt; (void)rows_padded; (void)k; (void)v; (void)keys; (void)dim; (void)limit;
    (void)row_max; (void)row_sum; (void)o; (void)scratch; (void)next;
}
#endif
