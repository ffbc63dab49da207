/* The LM-head / embedding kernels: F16, Q8_0 and F32 row dots and the split
 * Q8_0 dot against the reference within f32 summation error (the kernels sum
 * in another order: |y - reference| <= 2^-14 * sum_k |e_k * x_k|), and the Q8_0
 * requantization (ggml and split layouts, F16 and F32 sources) bit for bit,
 * including rows that have no encoding. */
#include <math.h>

#include "bitnet_kernels.h"
#include "check.h"
#include "reference.h"

#define TOLERANCE (1.0f / 16384.0f)

/* sum_k |E[r][k] * x[k]| for the tolerance, from the dequantized row. */
static double magnitude(const float *row, const float *x, size_t cols) {
    double m = 0;
    for (size_t k = 0; k < cols; k++) m += fabs((double)row[k] * (double)x[k]);
    return m;
}

static const char *compare_within(const float *y, const float *expected, const double *bound, size_t rows,
                                  const char *what, char *note, size_t size) {
    for (size_t r = 0; r < rows; r++)
        if (!(fabs((double)y[r] - (double)expected[r]) <= TOLERANCE * bound[r] + 1e-30))
            return check_note(note, size, "%s row %zu: %.9g, reference %.9g (bound %.3g)", what, r, y[r], expected[r],
                              TOLERANCE * bound[r]);
    return NULL;
}

/* kind 0 F32, 1 F16, 2 Q8_0: random rows, a partial row range, every column count in `cols`. */
static const char *dense_case(int kind, const size_t *col_list, size_t ncols, char *note, size_t size) {
    check_rng rng = {(uint64_t)kind + 11};
    for (size_t c = 0; c < ncols; c++) {
        const size_t cols = col_list[c], rows = 7, begin = 1, end = 6;
        const size_t row_bytes = kind == 0 ? cols * 4 : kind == 1 ? cols * 2 : cols / 32 * 34;
        uint8_t *e = check_alloc(rows * row_bytes);
        float *x = check_alloc(cols * sizeof(float)), *row = check_alloc(cols * sizeof(float));
        for (size_t k = 0; k < cols; k++) x[k] = rng_float(&rng, -2.0f, 2.0f);
        for (size_t r = 0; r < rows; r++) {
            uint8_t *p = e + r * row_bytes;
            if (kind == 0) for (size_t k = 0; k < cols; k++) ((float *)p)[k] = rng_float(&rng, -1.0f, 1.0f);
            if (kind == 1) for (size_t k = 0; k < cols; k++) ((uint16_t *)p)[k] = ref_float_to_half(rng_float(&rng, -1.0f, 1.0f));
            if (kind == 2)
                for (size_t b = 0; b < cols / 32; b++) {
                    uint16_t d = ref_float_to_half(rng_float(&rng, 1e-4f, 0.05f));
                    p[b * 34] = (uint8_t)d;
                    p[b * 34 + 1] = (uint8_t)(d >> 8);
                    for (int j = 0; j < 32; j++) p[b * 34 + 2 + j] = (uint8_t)rng_int(&rng, -128, 127);
                }
        }
        float y[7], expected[7];
        double bound[7] = {0};
        for (size_t r = 0; r < rows; r++) y[r] = expected[r] = -7.0f;
        if (kind == 0) bnk_dot_f32_neon((const float *)e, cols, begin, end, x, y);
        if (kind == 1) bnk_dot_f16_neon((const uint16_t *)e, cols, begin, end, x, y);
        if (kind == 2) bnk_dot_q8_0_neon(e, cols, begin, end, x, y);
        ref_dense_dot(kind, e, cols, begin, end, x, expected);
        for (size_t r = begin; r < end; r++) {
            /* the reference's own dequantized row */
            if (kind == 0) memcpy(row, e + r * row_bytes, cols * 4);
            if (kind == 1) for (size_t k = 0; k < cols; k++) row[k] = ref_half_to_float(((const uint16_t *)(e + r * row_bytes))[k]);
            if (kind == 2)
                for (size_t k = 0; k < cols; k++) {
                    const uint8_t *blk = e + r * row_bytes + (k / 32) * 34;
                    row[k] = (float)(int8_t)blk[2 + k % 32] * ref_half_to_float((uint16_t)(blk[0] | blk[1] << 8));
                }
            bound[r] = magnitude(row, x, cols);
        }
        char what[64];
        snprintf(what, sizeof what, "cols %zu", cols);
        const char *bad = compare_within(y, expected, bound, rows, what, note, size);
        if (bad == NULL && (y[0] != -7.0f || y[6] != -7.0f)) bad = check_note(note, size, "cols %zu: wrote outside the rows", cols);
        free(e); free(x); free(row);
        if (bad) return bad;
    }
    return NULL;
}

static const char *split_dot_case(char *note, size_t size) {
    static const size_t col_list[] = {32, 96, 480, 512, 544, 1120, 2560};
    check_rng rng = {99};
    for (size_t c = 0; c < sizeof col_list / sizeof col_list[0]; c++) {
        const size_t cols = col_list[c], rows = 6, blocks = cols / 32, interleaved = cols / 512 * 16;
        int8_t *quants = check_alloc(rows * cols);
        uint16_t *scales = check_alloc(rows * blocks * 2);
        int16_t *x = check_alloc(cols * 2);
        for (size_t i = 0; i < rows * cols; i++) quants[i] = (int8_t)rng_int(&rng, -128, 127);
        for (size_t i = 0; i < rows * blocks; i++) scales[i] = ref_float_to_half(rng_float(&rng, 1e-4f, 0.05f));
        for (size_t i = 0; i < cols; i++) x[i] = (int16_t)rng_int(&rng, -32767, 32767);
        const float x_scale = 3.0f / 32767.0f;
        float y[6], expected[6];
        double bound[6] = {0};
        for (size_t r = 0; r < rows; r++) y[r] = expected[r] = -7.0f;
        bnk_dot_q8_0_split_neon(quants, scales, cols, 0, rows, x, x_scale, y);
        ref_dot_q8_0_split(quants, scales, cols, 0, rows, x, x_scale, expected);
        for (size_t r = 0; r < rows; r++)
            for (size_t b = 0; b < blocks; b++) {
                int64_t block = 0;
                for (size_t k = b * 32; k < b * 32 + 32; k++) {
                    size_t at = ref_split_offset(k, interleaved);
                    block += (int64_t)quants[r * cols + at] * x[at];
                }
                bound[r] += fabs((double)block * ref_half_to_float(scales[r * blocks + b]) * x_scale);
            }
        char what[64];
        snprintf(what, sizeof what, "split cols %zu", cols);
        const char *bad = compare_within(y, expected, bound, rows, what, note, size);
        free(quants); free(scales); free(x);
        if (bad) return bad;
    }
    return NULL;
}

/* Source rows for the requantization: random magnitudes per row (tiny to
 * near the f16 limit of the scale), exact ties of the rounding, extremes, and
 * (when `bad_row` < rows) a row with no encoding: NaN, Inf, or too large. */
static void fill_source(void *src, int is_f16, size_t rows, size_t cols, size_t bad_row, int bad_kind, check_rng *rng) {
    for (size_t r = 0; r < rows; r++)
        for (size_t k = 0; k < cols; k++) {
            float v;
            switch (r % 5) {
            case 0: v = rng_float(rng, -1.0f, 1.0f); break;
            case 1: v = (float)((int)(k % 255) - 127) + 0.5f * (float)(k % 2); break; /* d = 1: ties */
            case 2: v = rng_float(rng, -1.0f, 1.0f) * (is_f16 ? 60000.0f : 8.0e6f); break;
            case 3: v = rng_float(rng, -1.0f, 1.0f) * (is_f16 ? 6e-5f : 1e-38f); break; /* subnormal scales */
            default: v = (k % 32 == 5) ? 0.0f : rng_float(rng, -3.0f, 3.0f); break;
            }
            if (r % 5 == 4 && k % 64 < 32) v = 0.0f; /* all-zero blocks */
            if (r == bad_row && k == cols / 2) v = bad_kind == 0 ? NAN : bad_kind == 1 ? -INFINITY : 9.0e6f;
            if (is_f16) ((uint16_t *)src)[r * cols + k] = ref_float_to_half(v);
            else ((float *)src)[r * cols + k] = v;
        }
}

static const char *quantize_case(int is_f16, int split, char *note, size_t size) {
    static const size_t col_list[] = {32, 64, 512, 544, 1056, 2560};
    check_rng rng = {(uint64_t)(7 + is_f16 + 2 * split)};
    for (size_t c = 0; c < sizeof col_list / sizeof col_list[0]; c++) {
        for (int bad_kind = -1; bad_kind < (is_f16 ? 2 : 3); bad_kind++) {
            const size_t cols = col_list[c], rows = 10, begin = 1, end = 9;
            const size_t bad_row = bad_kind < 0 ? rows : 6;
            void *src = check_alloc(rows * cols * (is_f16 ? 2 : 4));
            fill_source(src, is_f16, rows, cols, bad_row, bad_kind, &rng);
            const size_t out_bytes = split ? rows * cols + rows * (cols / 32) * 2 : rows * (cols / 32) * 34;
            uint8_t *out = check_alloc(out_bytes), *expected = check_alloc(out_bytes);
            memset(out, 0xA5, out_bytes);
            memset(expected, 0xA5, out_bytes);
            size_t got, want;
            if (split) {
                int8_t *q = (int8_t *)out, *eq = (int8_t *)expected;
                uint16_t *s = (uint16_t *)(out + rows * cols), *es = (uint16_t *)(expected + rows * cols);
                got = is_f16 ? bnk_quantize_q8_0_split_f16_neon(src, cols, begin, end, q, s)
                             : bnk_quantize_q8_0_split_f32_neon(src, cols, begin, end, q, s);
                want = ref_quantize_q8_0_split(src, is_f16, cols, begin, end, eq, es);
            } else {
                got = is_f16 ? bnk_quantize_q8_0_f16_neon(src, cols, begin, end, out)
                             : bnk_quantize_q8_0_f32_neon(src, cols, begin, end, out);
                want = ref_quantize_q8_0(src, is_f16, cols, begin, end, expected);
            }
            const char *bad = NULL;
            if (got != want) {
                bad = check_note(note, size, "cols %zu bad kind %d: returned row %zu, reference %zu", cols, bad_kind, got, want);
            } else {
                /* Rows before the first unencodable one must be identical (that row's own output is unspecified). */
                const size_t done = want;
                if (split) {
                    for (size_t r = 0; r < done && bad == NULL; r++)
                        if (memcmp(out + r * cols, expected + r * cols, cols) != 0 ||
                            memcmp(out + rows * cols + r * (cols / 32) * 2, expected + rows * cols + r * (cols / 32) * 2,
                                   (cols / 32) * 2) != 0)
                            bad = check_note(note, size, "split cols %zu: row %zu differs", cols, r);
                } else {
                    for (size_t r = 0; r < done && bad == NULL; r++)
                        if (memcmp(out + r * (cols / 32) * 34, expected + r * (cols / 32) * 34, (cols / 32) * 34) != 0)
                            bad = check_note(note, size, "cols %zu: row %zu differs", cols, r);
                }
                if (bad == NULL && bad_kind < 0 && memcmp(out, expected, out_bytes) != 0)
                    bad = check_note(note, size, "cols %zu: bytes outside the rows differ", cols);
            }
            free(src); free(out); free(expected);
            if (bad) return bad;
        }
    }
    return NULL;
}

int main(void) {
    char note[512];
    static const size_t float_cols[] = {1, 7, 15, 16, 17, 33, 100, 2560, 2561};
    static const size_t q8_cols[] = {32, 64, 96, 512, 544, 2560};
    check_case("dot F32 rows (neon), 9 column counts", dense_case(0, float_cols, 9, note, sizeof note));
    check_case("dot F16 rows (neon), 9 column counts", dense_case(1, float_cols, 9, note, sizeof note));
    check_case("dot Q8_0 rows (neon), 6 column counts", dense_case(2, q8_cols, 6, note, sizeof note));
    check_case("dot split Q8_0 rows (neon), groups and tails", split_dot_case(note, sizeof note));
    check_case("requantize F16 -> Q8_0 (neon), bit-exact", quantize_case(1, 0, note, sizeof note));
    check_case("requantize F32 -> Q8_0 (neon), bit-exact", quantize_case(0, 0, note, sizeof note));
    check_case("requantize F16 -> split Q8_0 (neon), bit-exact", quantize_case(1, 1, note, sizeof note));
    check_case("requantize F32 -> split Q8_0 (neon), bit-exact", quantize_case(0, 1, note, sizeof note));
    return check_summary();
}
