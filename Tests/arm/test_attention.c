/* The attention tile kernel against AttentionTile.stepReference's twin, bit
 * for bit: several tiles in a row carrying the running max / sum / output,
 * odd key counts, rows whose limit is 0 (untouched), inside or beyond the
 * tile, head sizes 16 to 128, with and without a prefetch of the next tile. */
#include <math.h>

#include "bitnet_attention.h"
#include "bitnet_kv_q8.h"
#include "check.h"
#include "reference.h"

static const char *attention_case(size_t rp, size_t dim, const size_t *tile_keys, size_t tiles, uint64_t seed,
                                  char *note, size_t size) {
    check_rng rng = {seed};
    size_t total_keys = 0, max_keys = 0;
    for (size_t t = 0; t < tiles; t++) {
        total_keys += tile_keys[t];
        max_keys = tile_keys[t] > max_keys ? tile_keys[t] : max_keys;
    }
    float *qt = check_alloc(dim * rp * 4), *k = check_alloc(total_keys * dim * 4), *v = check_alloc(total_keys * dim * 4);
    const float score_scale = 1.0f / sqrtf((float)dim);
    for (size_t i = 0; i < dim * rp; i++) qt[i] = rng_float(&rng, -2.0f, 2.0f) * score_scale;
    for (size_t i = 0; i < total_keys * dim; i++) {
        k[i] = rng_float(&rng, -2.0f, 2.0f);
        v[i] = rng_float(&rng, -1.0f, 1.0f);
    }
    float *row_max = check_alloc(rp * 4), *row_sum = check_alloc(rp * 4), *o = check_alloc(rp * dim * 4);
    float *e_max = check_alloc(rp * 4), *e_sum = check_alloc(rp * 4), *e_o = check_alloc(rp * dim * 4);
    for (size_t r = 0; r < rp; r++) row_max[r] = e_max[r] = -INFINITY;
    float *scratch = check_alloc((max_keys * rp + rp) * 4), *e_scratch = check_alloc((max_keys + 1) * 4);
    int32_t *limit = check_alloc(rp * 4);
    size_t first = 0;
    for (size_t t = 0; t < tiles; t++) {
        const size_t keys = tile_keys[t];
        for (size_t r = 0; r < rp; r++) {
            int choice = rng_int(&rng, 0, 5);
            limit[r] = choice == 0 ? 0 : choice == 1 ? (int32_t)keys + rng_int(&rng, 0, 3) : rng_int(&rng, 1, (int)keys);
        }
        bnk_attention_prefetch next = {0};
        if (t + 1 < tiles && rng_int(&rng, 0, 1)) {
            next.keys = (const uint8_t *)(k + (first + keys) * dim);
            next.values = (const uint8_t *)(v + (first + keys) * dim);
            next.stride = dim * 4;
            next.rows = tile_keys[t + 1];
            next.row_bytes = dim * 4;
        }
        bnk_attention_tile_neon(qt, rp, k + first * dim, v + first * dim, keys, dim, limit, row_max, row_sum, o, scratch,
                                t + 1 < tiles ? &next : NULL);
        ref_attention_step(qt, rp, k + first * dim, v + first * dim, keys, dim, limit, e_max, e_sum, e_o, e_scratch);
        for (size_t r = 0; r < rp; r++) {
            if (float_bits(row_max[r]) != float_bits(e_max[r]) || float_bits(row_sum[r]) != float_bits(e_sum[r]))
                return check_note(note, size, "rp %zu dim %zu tile %zu row %zu: max %.9g / %.9g, sum %.9g / %.9g", rp, dim,
                                  t, r, row_max[r], e_max[r], row_sum[r], e_sum[r]);
            for (size_t d = 0; d < dim; d++)
                if (float_bits(o[r * dim + d]) != float_bits(e_o[r * dim + d]))
                    return check_note(note, size, "rp %zu dim %zu tile %zu row %zu col %zu: %.9g, reference %.9g", rp, dim,
                                      t, r, d, o[r * dim + d], e_o[r * dim + d]);
        }
        first += keys;
    }
    free(qt); free(k); free(v); free(row_max); free(row_sum); free(o); free(e_max); free(e_sum); free(e_o);
    free(scratch); free(e_scratch); free(limit);
    return NULL;
}

static const char *exp_case(char *note, size_t size) {
    /* The kernel's exp through a one-key tile: q.k = x exactly (k = 1 in column 0,
       q = x), row max 0 from an earlier tile, so p = exp(x - 0) and sum = p. */
    const size_t rp = 16, dim = 16;
    float qt[16 * 16] = {0}, k[16] = {1.0f}, v[16] = {0}, o[16 * 16] = {0}, scratch[2 * 16];
    int32_t limit[16];
    for (int i = 0; i < 16; i++) limit[i] = 1;
    check_rng rng = {13};
    for (int round = 0; round < 4000; round++) {
        float row_max[16], row_sum[16], x[16];
        for (size_t r = 0; r < rp; r++) {
            x[r] = round < 8 ? -(float)(round * 16 + (int)r) * 0.75f : -rng_float(&rng, 0.0f, 100.0f);
            qt[r] = x[r]; /* d = 0 row of the transposed queries */
            row_max[r] = 0.0f;
            row_sum[r] = 0.0f;
        }
        bnk_attention_tile_neon(qt, rp, k, v, 1, dim, limit, row_max, row_sum, o, scratch, NULL);
        for (size_t r = 0; r < rp; r++)
            if (float_bits(row_sum[r]) != float_bits(ref_exp_nonpositive(x[r])))
                return check_note(note, size, "exp(%.9g) = %.9g, reference %.9g", x[r], row_sum[r], ref_exp_nonpositive(x[r]));
    }
    return NULL;
}

/* The superblock state merge, a[d] = fma(b[d], cb, a[d] * ca), against the
 * scalar form (AttentionState.mergeReference), and the q8 head expansion
 * out = scale * q, both bit for bit, at lengths that leave vector tails. */
static const char *merge_case(char *note, size_t size) {
    static const size_t lengths[] = {1, 3, 4, 7, 16, 37, 128};
    check_rng rng = {31};
    float a[128], b[128], e[128], out[128];
    int8_t q[128];
    for (size_t t = 0; t < sizeof lengths / sizeof lengths[0]; t++)
        for (int round = 0; round < 50; round++) {
            const size_t n = lengths[t];
            const float ca = rng_float(&rng, 0.0f, 1.0f), cb = rng_float(&rng, 0.0f, 1.0f);
            const float scale = rng_float(&rng, 0.0f, 0.05f);
            for (size_t i = 0; i < n; i++) {
                a[i] = rng_float(&rng, -50.0f, 50.0f);
                b[i] = rng_float(&rng, -50.0f, 50.0f);
                e[i] = fmaf(b[i], cb, a[i] * ca);
                q[i] = (int8_t)rng_int(&rng, -127, 127);
            }
            bnk_attention_merge_neon(a, ca, b, cb, n);
            bnk_scale_i8_f32_neon(scale, q, out, n);
            for (size_t i = 0; i < n; i++) {
                if (float_bits(a[i]) != float_bits(e[i]))
                    return check_note(note, size, "merge n %zu at %zu: %.9g, reference %.9g", n, i, a[i], e[i]);
                if (float_bits(out[i]) != float_bits(scale * (float)q[i]))
                    return check_note(note, size, "q8 expand n %zu at %zu: %.9g", n, i, out[i]);
            }
        }
    return NULL;
}

int main(void) {
    char note[512], name[160];
    static const size_t dims[] = {16, 32, 64, 80, 128};
    static const size_t rps[] = {16, 32, 48};
    static const size_t tiles_a[] = {5, 16, 3, 37}, tiles_b[] = {1, 64, 2}, tiles_c[] = {33};
    int cases = 0;
    const char *bad = NULL;
    for (size_t d = 0; d < 5 && bad == NULL; d++)
        for (size_t r = 0; r < 3 && bad == NULL; r++) {
            bad = attention_case(rps[r], dims[d], tiles_a, 4, 1 + d * 3 + r, note, sizeof note);
            if (bad == NULL) bad = attention_case(rps[r], dims[d], tiles_b, 3, 100 + d * 3 + r, note, sizeof note);
            if (bad == NULL) bad = attention_case(rps[r], dims[d], tiles_c, 1, 200 + d * 3 + r, note, sizeof note);
            cases += 3;
        }
    snprintf(name, sizeof name, "attention tile (neon): %d tile sequences, bit-exact state", cases);
    check_case(name, bad);
    check_case("attention exp (neon): 64000 arguments in [-100, 0], bit-exact", exp_case(note, sizeof note));
    check_case("attention state merge and q8 expansion (neon): 350 rows, bit-exact", merge_case(note, sizeof note));
    return check_summary();
}
