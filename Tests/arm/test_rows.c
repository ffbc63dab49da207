/* The per-row helpers: activation rows (sum of squares, int8 quantization)
 * bit for bit; half conversions bit for bit (every f16 value, and f32 values
 * around every rounding boundary); the f16 / int8 dot products within f32
 * summation error and their axpy bit for bit against one fused multiply-add
 * per element (what the AVX2 versions compute); the bandwidth probe's sum. */
#include <math.h>

#include "bitnet_f16.h"
#include "bitnet_kernels.h"
#include "bitnet_kv_q8.h"
#include "check.h"
#include "reference.h"

static const size_t lengths[] = {1, 2, 3, 7, 15, 16, 17, 31, 32, 33, 100, 2560, 2561, 6912};
#define LENGTHS (sizeof lengths / sizeof lengths[0])

/* Row i of the activation inputs: ordinary, wide-ranging, and edge cases. */
static void fill_row(float *v, size_t n, int kind, check_rng *rng) {
    for (size_t i = 0; i < n; i++) {
        switch (kind) {
        case 0: v[i] = rng_float(rng, -3.0f, 3.0f); break;
        case 1: v[i] = rng_float(rng, -1.0f, 1.0f) * powf(10.0f, (float)rng_int(rng, -30, 30)); break;
        case 2: v[i] = 0.0f; break;
        case 3: v[i] = rng_float(rng, -1e-6f, 1e-6f); break; /* max below 1e-5 */
        case 4: v[i] = (i == n / 2) ? NAN : rng_float(rng, -3.0f, 3.0f); break;
        case 5: v[i] = (i == n - 1) ? INFINITY : rng_float(rng, -3.0f, 3.0f); break;
        default: v[i] = i == 0 ? 127.0f : (float)((int)(i % 254) - 127) + 0.5f; break; /* s = 1: exact ties */
        }
    }
}

static const char *activation_case(char *note, size_t size) {
    check_rng rng = {5};
    float *v = check_alloc(7000 * 4);
    int8_t *q = check_alloc(7000), *eq = check_alloc(7000);
    for (size_t l = 0; l < LENGTHS; l++)
        for (int kind = 0; kind < 7; kind++) {
            size_t n = lengths[l];
            fill_row(v, n, kind, &rng);
            double s = bnk_sum_squares_neon(v, n), es = ref_sum_squares(v, n);
            if (double_bits(s) != double_bits(es))
                return check_note(note, size, "sum of squares n %zu kind %d: %.17g, reference %.17g", n, kind, s, es);
            int32_t sum = 0, esum = 0;
            memset(q, 0x55, n);
            memset(eq, 0x55, n);
            float scale = bnk_quantize_row_i8_neon(v, n, q, &sum), escale = ref_quantize_row(v, n, eq, &esum);
            if (float_bits(scale) != float_bits(escale) || sum != esum || memcmp(q, eq, n) != 0)
                return check_note(note, size, "quantize n %zu kind %d: scale %.9g / %.9g, sum %d / %d, bytes %s", n, kind,
                                  scale, escale, sum, esum, memcmp(q, eq, n) ? "differ" : "equal");
        }
    free(v); free(q); free(eq);
    return NULL;
}

static const char *half_conversion_case(char *note, size_t size) {
    /* Every half, converted alone and in vectors (tails and bodies). */
    uint16_t *h = check_alloc(65536 * 2), *back = check_alloc(65536 * 2);
    float *f = check_alloc(65536 * 4);
    for (uint32_t i = 0; i < 65536; i++) h[i] = (uint16_t)i;
    bnk_f16_to_f32_neon(h, f, 65536);
    for (uint32_t i = 0; i < 65536; i++)
        if (float_bits(f[i]) != float_bits(ref_half_to_float((uint16_t)i)))
            return check_note(note, size, "f16->f32 of 0x%04x: 0x%08x, reference 0x%08x", i, float_bits(f[i]),
                              float_bits(ref_half_to_float((uint16_t)i)));
    /* ...and back: the same half (a signalling NaN comes back quiet). */
    bnk_f32_to_f16_neon(f, back, 65536);
    for (uint32_t i = 0; i < 65536; i++)
        if (back[i] != ref_float_to_half(f[i]))
            return check_note(note, size, "f32->f16 of 0x%08x: 0x%04x, reference 0x%04x", float_bits(f[i]), back[i],
                              ref_float_to_half(f[i]));
    /* f32 values at, just below and just above every halfway point between
       neighbouring halves (normal and subnormal), and random bit patterns. */
    size_t n = 0;
    float *x = check_alloc(4 * 65536 * 4);
    for (uint32_t i = 0; i < 0x7bff; i++) {
        float lo = ref_half_to_float((uint16_t)i), hi = ref_half_to_float((uint16_t)(i + 1));
        float mid = lo + (hi - lo) * 0.5f; /* exact: halves have 11 significant bits */
        x[n++] = mid;
        x[n++] = nextafterf(mid, 0.0f);
        x[n++] = -nextafterf(mid, INFINITY);
    }
    check_rng rng = {3};
    for (int i = 0; i < 40000; i++) x[n++] = bits_float((uint32_t)rng_next(&rng));
    x[n++] = 65520.0f;
    x[n++] = 65519.996f;
    uint16_t *y = check_alloc(n * 2);
    bnk_f32_to_f16_neon(x, y, n);
    for (size_t i = 0; i < n; i++)
        if (y[i] != ref_float_to_half(x[i]))
            return check_note(note, size, "f32->f16 of 0x%08x: 0x%04x, reference 0x%04x", float_bits(x[i]), y[i],
                              ref_float_to_half(x[i]));
    /* The same conversions through the attention staging of a key tile. */
    float *k_out = check_alloc(2 * 8 * 40 * 4), *v_out = k_out + 8 * 40;
    bnk_attention_stage_f16(h + 1000, h + 30000, 37, 8, 37, k_out, v_out, 40);
    for (size_t row = 0; row < 8; row++)
        for (size_t d = 0; d < 37; d++)
            if (float_bits(k_out[row * 40 + d]) != float_bits(ref_half_to_float(h[1000 + row * 37 + d])) ||
                float_bits(v_out[row * 40 + d]) != float_bits(ref_half_to_float(h[30000 + row * 37 + d])))
                return check_note(note, size, "attention stage row %zu col %zu", row, d);
    /* And a tile of whole rows, 3 heads of 37, split per head (decode's staging). */
    float *hk = check_alloc(2 * 3 * 8 * 40 * 4), *hv = hk + 3 * 8 * 40;
    bnk_attention_stage_f16_heads(h + 1000, h + 30000, 3 * 37, 8, 3, 37, hk, hv, 40, 8 * 40);
    for (size_t g = 0; g < 3; g++)
        for (size_t row = 0; row < 8; row++)
            for (size_t d = 0; d < 37; d++) {
                size_t at = g * 8 * 40 + row * 40 + d, from = row * 3 * 37 + g * 37 + d;
                if (float_bits(hk[at]) != float_bits(ref_half_to_float(h[1000 + from])) ||
                    float_bits(hv[at]) != float_bits(ref_half_to_float(h[30000 + from])))
                    return check_note(note, size, "attention stage (heads) head %zu row %zu col %zu", g, row, d);
            }
    free(hk);
    free(h); free(back); free(f); free(x); free(y); free(k_out);
    return NULL;
}

static const char *dot_axpy_case(int int8, char *note, size_t size) {
    check_rng rng = {(uint64_t)(21 + int8)};
    uint16_t *h = check_alloc(7000 * 2);
    int8_t *q = check_alloc(7000);
    float *b = check_alloc(7000 * 4), *y = check_alloc(7000 * 4), *ey = check_alloc(7000 * 4), *es = check_alloc(7000 * 4);
    for (size_t l = 0; l < LENGTHS; l++) {
        size_t n = lengths[l];
        double bound = 0;
        for (size_t i = 0; i < n; i++) {
            h[i] = ref_float_to_half(rng_float(&rng, -4.0f, 4.0f));
            q[i] = (int8_t)rng_int(&rng, -128, 127);
            b[i] = rng_float(&rng, -2.0f, 2.0f);
            y[i] = ey[i] = es[i] = rng_float(&rng, -50.0f, 50.0f);
            bound += fabs((double)(int8 ? (float)q[i] : ref_half_to_float(h[i])) * b[i]);
        }
        float d = int8 ? bnk_dot_i8_f32_neon(q, b, n) : bnk_dot_f16_f32_neon(h, b, n);
        float ed = int8 ? ref_dot_i8(q, b, n) : ref_dot_f16(h, b, n);
        if (!(fabs((double)d - ed) <= bound / 16384.0 + 1e-30))
            return check_note(note, size, "dot n %zu: %.9g, reference %.9g", n, d, ed);
        const float alpha = rng_float(&rng, -1.5f, 1.5f);
        if (int8) {
            bnk_axpy_i8_f32_neon(alpha, q, y, n);
            ref_axpy_i8(alpha, q, ey, n, 1);
            ref_axpy_i8(alpha, q, es, n, 0);
        } else {
            bnk_axpy_f16_f32_neon(alpha, h, y, n);
            ref_axpy_f16(alpha, h, ey, n, 1);
            ref_axpy_f16(alpha, h, es, n, 0);
        }
        for (size_t i = 0; i < n; i++) {
            if (float_bits(y[i]) != float_bits(ey[i]))
                return check_note(note, size, "axpy n %zu at %zu: %.9g, fused reference %.9g", n, i, y[i], ey[i]);
            /* and within one rounding of the Swift (unfused) form */
            if (!(fabsf(y[i] - es[i]) <= fabsf(es[i]) * 1.2e-7f + fabsf(alpha) * 1.2e-7f * 128.0f))
                return check_note(note, size, "axpy n %zu at %zu: %.9g, Swift form %.9g", n, i, y[i], es[i]);
        }
    }
    free(h); free(q); free(b); free(y); free(ey); free(es);
    return NULL;
}

static const char *sum_words_case(char *note, size_t size) {
    static const size_t counts[] = {0, 1, 15, 16, 17, 1000, 4099};
    check_rng rng = {77};
    uint64_t *p = check_alloc(4099 * 8);
    for (size_t i = 0; i < 4099; i++) p[i] = rng_next(&rng);
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
        if (bnk_sum_words_neon(p, counts[c]) != ref_sum_words(p, counts[c]))
            return check_note(note, size, "n %zu", counts[c]);
    free(p);
    return NULL;
}

int main(void) {
    char note[512];
    check_case("activation rows (neon): sum of squares and int8 quantization, bit-exact", activation_case(note, sizeof note));
    check_case("half conversions (neon): every f16, every rounding boundary, attention staging", half_conversion_case(note, sizeof note));
    check_case("f16 dot within rounding, f16 axpy bit-exact (neon)", dot_axpy_case(0, note, sizeof note));
    check_case("int8 KV dot within rounding, int8 axpy bit-exact (neon)", dot_axpy_case(1, note, sizeof note));
    check_case("bandwidth probe word sum (neon)", sum_words_case(note, sizeof note));
    return check_summary();
}
