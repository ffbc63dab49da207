/* See reference.h: each function names the Swift reference it follows. */
#include "reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t to_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

float ref_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    if (exponent == 0) {
        float magnitude = ldexpf((float)mantissa, -24); /* zero or subnormal: exact */
        return sign ? -magnitude : magnitude;
    }
    if (exponent == 31) return from_bits(sign | 0x7f800000u | (mantissa ? 0x00400000u | (mantissa << 13) : 0));
    return from_bits(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
}

uint16_t ref_float_to_half(float f) {
    uint32_t bits = to_bits(f), magnitude = bits & 0x7fffffffu;
    uint16_t sign = (uint16_t)((bits >> 16) & 0x8000u);
    if (magnitude > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu)); /* NaN, quiet */
    if (magnitude >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 rounds to infinity */
    if (magnitude < 0x38800000u) { /* below 2^-14: a half subnormal, unit 2^-24 */
        float units = ldexpf(from_bits(magnitude), 24);  /* exact */
        return (uint16_t)(sign | (uint16_t)rintf(units)); /* ties to even; 0x400 is the smallest normal */
    }
    uint32_t half = ((((magnitude >> 23) - 127 + 15) << 10) | ((magnitude & 0x7fffffu) >> 13));
    uint32_t rest = magnitude & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1))) half++;
    return (uint16_t)(sign | half);
}

/* TernaryFormats.code(in:column:) */
static uint8_t ternary_code(const uint8_t *block, size_t k) { return (block[k & 31] >> (6 - 2 * (k >> 5))) & 3; }

void ref_ternary(const bnk_ternary_args *a) {
    if (a->row_begin >= a->row_end || a->n_tokens == 0) return;
    for (size_t t = 0; t < a->n_tokens; t++) {
        const int8_t *qt = a->q + t * a->q_stride;
        for (size_t r = a->row_begin; r < a->row_end; r++) {
            int32_t dot = 0;
            for (size_t b = a->block_begin; b < a->block_end; b++) {
                const uint8_t *block = a->packed + ((r / BNK_TILE_ROWS) * a->blocks_per_row + b) * 128 +
                                       (r % BNK_TILE_ROWS) * 32;
                const int8_t *qb = qt + b * 128;
                for (size_t k = 0; k < 128; k++) dot += (int32_t)ternary_code(block, k) * (int32_t)qb[k];
            }
            float v = (float)(dot - a->q_sum[t]) * a->row_scale[r * a->row_scale_stride];
            v = v * a->inv_scale[t];
            float *destination = a->y + t * a->y_stride + r;
            *destination = a->accumulate ? *destination + v : v;
        }
    }
}

double ref_sum_squares(const float *x, size_t n) {
    double lanes[16] = {0};
    size_t whole = n / 16 * 16, i = 0;
    for (; i < whole; i += 16)
        for (size_t j = 0; j < 16; j++) lanes[j] += (double)x[i + j] * (double)x[i + j];
    for (size_t width = 8; width >= 1; width /= 2)
        for (size_t j = 0; j < width; j++) lanes[j] += lanes[j + width];
    double sum = lanes[0];
    for (size_t k = whole; k < n; k++) sum += (double)x[k] * (double)x[k];
    return sum;
}

float ref_quantize_row(const float *v, size_t n, int8_t *q, int32_t *sum) {
    uint32_t max_bits = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits = to_bits(v[i]) & 0x7fffffffu;
        max_bits = bits > max_bits ? bits : max_bits;
    }
    float max_abs = from_bits(max_bits);
    float s = 127.0f / (max_abs > 1e-5f ? max_abs : 1e-5f);
    const float magic = 12582912.0f;
    int32_t total = 0;
    for (size_t i = 0; i < n; i++) {
        float x = v[i] * s;
        float high = x < 127.0f ? x : 127.0f;
        float clamped = high > -128.0f ? high : -128.0f;
        float rounded = (clamped + magic) - magic;
        int32_t value = (int32_t)rounded;
        q[i] = (int8_t)value;
        total += value;
    }
    *sum = total;
    return s;
}

/* DenseMatrix.row(_:into:) for the ggml layouts. */
static void dense_row(int kind, const void *e, size_t cols, size_t r, float *out) {
    if (kind == 0) {
        memcpy(out, (const float *)e + r * cols, cols * sizeof(float));
    } else if (kind == 1) {
        const uint16_t *row = (const uint16_t *)e + r * cols;
        for (size_t k = 0; k < cols; k++) out[k] = ref_half_to_float(row[k]);
    } else {
        const uint8_t *row = (const uint8_t *)e + r * (cols / 32) * 34;
        for (size_t b = 0; b < cols / 32; b++) {
            const uint8_t *block = row + b * 34;
            float d = ref_half_to_float((uint16_t)(block[0] | (block[1] << 8)));
            for (size_t j = 0; j < 32; j++) out[b * 32 + j] = (float)(int8_t)block[2 + j] * d;
        }
    }
}

void ref_dense_dot(int kind, const void *e, size_t cols, size_t row_begin, size_t row_end, const float *x, float *y) {
    float *row = malloc(cols * sizeof(float) + 1);
    for (size_t r = row_begin; r < row_end; r++) {
        dense_row(kind, e, cols, r, row);
        float sum = 0.0f;
        for (size_t k = 0; k < cols; k++) sum += row[k] * x[k];
        y[r] = sum;
    }
    free(row);
}

size_t ref_split_offset(size_t k, size_t interleaved_blocks) {
    size_t block = k >> 5;
    if (block >= interleaved_blocks) return k;
    size_t t = (k & 31) >> 1, e = k & 1;
    return (block >> 4) * 512 + t * 32 + (block & 15) * 2 + e;
}

void ref_dot_q8_0_split(const int8_t *quants, const uint16_t *scales, size_t cols, size_t row_begin, size_t row_end,
                        const int16_t *x, float x_scale, float *y) {
    size_t blocks = cols / 32, interleaved = cols / 512 * 16;
    for (size_t r = row_begin; r < row_end; r++) {
        const int8_t *q = quants + r * cols;
        const uint16_t *d = scales + r * blocks;
        float sum = 0.0f;
        for (size_t b = 0; b < blocks; b++) {
            int32_t block_sum = 0;
            for (size_t k = b * 32; k < b * 32 + 32; k++) {
                size_t at = ref_split_offset(k, interleaved);
                block_sum += (int32_t)q[at] * (int32_t)x[at];
            }
            sum += (float)block_sum * ref_half_to_float(d[b]);
        }
        y[r] = sum * x_scale;
    }
}

/* DenseMatrix.encodeQ8_0Block: one block of 32 values; 0 when it has no encoding. */
static int encode_block(const float *x, uint8_t *block) {
    float max_abs = 0.0f;
    for (int j = 0; j < 32; j++) {
        if (!isfinite(x[j])) return 0;
        float a = fabsf(x[j]);
        max_abs = a >= max_abs ? a : max_abs;
    }
    float d = max_abs / 127.0f;
    uint16_t stored = ref_float_to_half(d);
    if ((stored & 0x7c00u) == 0x7c00u) return 0;
    float reciprocal = 1.0f / d;
    float inverse = isfinite(reciprocal) ? reciprocal : 0.0f;
    block[0] = (uint8_t)stored;
    block[1] = (uint8_t)(stored >> 8);
    for (int j = 0; j < 32; j++) {
        float scaled = roundf(x[j] * inverse); /* half away from zero */
        float clamped = scaled < -127.0f ? -127.0f : (scaled > 127.0f ? 127.0f : scaled);
        block[2 + j] = (uint8_t)(int8_t)clamped;
    }
    return 1;
}

static int encode_row(const void *src, int is_f16, size_t cols, size_t r, float *scratch, uint8_t *blocks) {
    dense_row(is_f16 ? 1 : 0, src, cols, r, scratch);
    for (size_t b = 0; b < cols / 32; b++)
        if (!encode_block(scratch + b * 32, blocks + b * 34)) return 0;
    return 1;
}

size_t ref_quantize_q8_0(const void *src, int is_f16, size_t cols, size_t row_begin, size_t row_end, uint8_t *dst) {
    float *scratch = malloc(cols * sizeof(float) + 1);
    size_t result = row_end;
    for (size_t r = row_begin; r < row_end; r++)
        if (!encode_row(src, is_f16, cols, r, scratch, dst + r * (cols / 32) * 34)) { result = r; break; }
    free(scratch);
    return result;
}

size_t ref_quantize_q8_0_split(const void *src, int is_f16, size_t cols, size_t row_begin, size_t row_end,
                               int8_t *quants, uint16_t *scales) {
    size_t per_row = cols / 32, interleaved = cols / 512 * 16, result = row_end;
    float *scratch = malloc(cols * sizeof(float) + 1);
    uint8_t *blocks = malloc(per_row * 34 + 1);
    for (size_t r = row_begin; r < row_end; r++) {
        if (!encode_row(src, is_f16, cols, r, scratch, blocks)) { result = r; break; }
        for (size_t b = 0; b < per_row; b++) { /* rearrangeQ8_0Blocks */
            scales[r * per_row + b] = (uint16_t)(blocks[b * 34] | (blocks[b * 34 + 1] << 8));
            for (size_t j = 0; j < 32; j++)
                quants[r * cols + ref_split_offset(b * 32 + j, interleaved)] = (int8_t)blocks[b * 34 + 2 + j];
        }
    }
    free(blocks);
    free(scratch);
    return result;
}

float ref_dot_f16(const uint16_t *a, const float *b, size_t n) {
    float sum = 0.0f;
    for (size_t i = 0; i < n; i++) sum += ref_half_to_float(a[i]) * b[i];
    return sum;
}

void ref_axpy_f16(float alpha, const uint16_t *x, float *y, size_t n, int fused) {
    for (size_t i = 0; i < n; i++)
        y[i] = fused ? fmaf(alpha, ref_half_to_float(x[i]), y[i]) : y[i] + alpha * ref_half_to_float(x[i]);
}

float ref_dot_i8(const int8_t *a, const float *b, size_t n) {
    float sum = 0.0f;
    for (size_t i = 0; i < n; i++) sum += (float)a[i] * b[i];
    return sum;
}

void ref_axpy_i8(float alpha, const int8_t *x, float *y, size_t n, int fused) {
    for (size_t i = 0; i < n; i++) y[i] = fused ? fmaf(alpha, (float)x[i], y[i]) : y[i] + alpha * (float)x[i];
}

float ref_exp_nonpositive(float x) {
    if (x < -87.0f) return 0.0f;
    float n = rintf(x * 1.44269504088896341f);
    float r = fmaf(-n, 0.693359375f, x);
    r = fmaf(-n, -2.12194440e-4f, r);
    float p = 1.9875691500e-4f;
    p = fmaf(p, r, 1.3981999507e-3f);
    p = fmaf(p, r, 8.3334519073e-3f);
    p = fmaf(p, r, 4.1665795894e-2f);
    p = fmaf(p, r, 1.6666665459e-1f);
    p = fmaf(p, r, 5.0000001201e-1f);
    float y = fmaf(p, r * r, r) + 1.0f;
    return ldexpf(y, (int)n); /* Float(sign: .plus, exponent: n, significand: y) */
}

void ref_attention_step(const float *qt, size_t rp, const float *k, const float *v, size_t count, size_t dim,
                        const int32_t *limit, float *row_max, float *row_sum, float *output, float *p) {
    for (size_t r = 0; r < rp; r++) {
        size_t n = limit[r] <= 0 ? 0 : ((size_t)limit[r] < count ? (size_t)limit[r] : count);
        if (n == 0) continue;
        float m = row_max[r];
        for (size_t j = 0; j < n; j++) {
            float s = 0.0f;
            for (size_t d = 0; d < dim; d++) s = fmaf(k[j * dim + d], qt[d * rp + r], s);
            p[j] = s;
            m = s >= m ? s : m; /* Swift.max(m, s) */
        }
        float c = ref_exp_nonpositive(row_max[r] - m);
        float total = 0.0f;
        for (size_t j = 0; j < n; j++) {
            float e = ref_exp_nonpositive(p[j] - m);
            p[j] = e;
            total += e;
        }
        row_sum[r] = fmaf(row_sum[r], c, total);
        float *out = output + r * dim;
        for (size_t d = 0; d < dim; d++) {
            float acc = out[d] * c;
            for (size_t j = 0; j < n; j++) acc = fmaf(p[j], v[j * dim + d], acc);
            out[d] = acc;
        }
        row_max[r] = m;
    }
}

uint64_t ref_sum_words(const uint64_t *p, size_t n) {
    uint64_t a[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) a[j] += p[i + j];
    for (; i < n; i++) a[0] += p[i];
    return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
}
