/* The ternary x int8 kernels at every NEON level the CPU has, against the
 * reference twin, bit for bit: random and odd shapes (partial row and block
 * ranges, every token count up to 17, output and activation strides, per-
 * group scales, accumulate), the int16 bound of the plain NEON kernel, and
 * 2B4T-sized rows. */
#include "bitnet_kernels.h"
#include "check.h"
#include "reference.h"

typedef void (*ternary_fn)(const bnk_ternary_args *);
static const struct {
    const char *name;
    ternary_fn run;
    int (*available)(void);
} levels[] = {
    {"neon", bnk_ternary_neon, bnk_cpu_has_neon},
    {"dotprod", bnk_ternary_neon_dotprod, bnk_cpu_has_neon_dotprod},
    {"i8mm", bnk_ternary_neon_i8mm, bnk_cpu_has_neon_i8mm},
};

typedef struct {
    size_t rows, blocks, tokens;            /* matrix rows, blocks per row, tokens */
    size_t row_begin, row_end, block_begin, block_end;
    size_t scale_stride, y_pad, q_pad;
    int accumulate;
    int code_fill, q_fill;                  /* -1: random, else every code / every q */
} shape;

/* One product by `run` and by the reference on the same inputs; NULL when all
 * of y (including what neither may touch) is identical. */
static const char *run_shape(ternary_fn run, const shape *s, uint64_t seed, char *note, size_t size) {
    check_rng rng = {seed * 0x9E3779B97F4A7C15ULL + 1};
    const size_t tiles = (s->rows + BNK_TILE_ROWS - 1) / BNK_TILE_ROWS, cols = s->blocks * 128;
    const size_t q_stride = cols + s->q_pad, y_stride = s->rows + s->y_pad;
    uint8_t *packed = check_alloc(tiles * s->blocks * 128);
    for (size_t i = 0; i < tiles * s->blocks * 128; i++) {
        uint8_t byte = 0;
        for (int f = 0; f < 4; f++) byte = (uint8_t)(byte << 2 | (s->code_fill >= 0 ? s->code_fill : rng_int(&rng, 0, 2)));
        packed[i] = byte;
    }
    int8_t *q = check_alloc(s->tokens * q_stride);
    for (size_t i = 0; i < s->tokens * q_stride; i++) q[i] = (int8_t)(s->q_fill >= -128 ? s->q_fill : rng_int(&rng, -128, 127));
    int32_t *q_sum = check_alloc(s->tokens * sizeof(int32_t));
    float *inv = check_alloc(s->tokens * sizeof(float));
    for (size_t t = 0; t < s->tokens; t++) {
        int32_t total = 0;
        for (size_t k = s->block_begin * 128; k < s->block_end * 128; k++) total += q[t * q_stride + k];
        q_sum[t] = total;
        inv[t] = rng_float(&rng, 0.001f, 0.05f);
    }
    float *scales = check_alloc(tiles * BNK_TILE_ROWS * s->scale_stride * sizeof(float));
    for (size_t i = 0; i < tiles * BNK_TILE_ROWS * s->scale_stride; i++) scales[i] = rng_float(&rng, 0.01f, 2.0f);
    float *y = check_alloc(s->tokens * y_stride * sizeof(float)), *expected = check_alloc(s->tokens * y_stride * sizeof(float));
    for (size_t i = 0; i < s->tokens * y_stride; i++) y[i] = expected[i] = rng_float(&rng, -100.0f, 100.0f);

    bnk_ternary_args args = {
        .packed = packed, .blocks_per_row = s->blocks, .row_begin = s->row_begin, .row_end = s->row_end,
        .block_begin = s->block_begin, .block_end = s->block_end, .q = q, .q_stride = q_stride, .q_sum = q_sum,
        .inv_scale = inv, .n_tokens = s->tokens, .row_scale = scales, .row_scale_stride = s->scale_stride,
        .y = y, .y_stride = y_stride, .accumulate = s->accumulate};
    run(&args);
    args.y = expected;
    ref_ternary(&args);

    const char *result = NULL;
    for (size_t i = 0; i < s->tokens * y_stride && result == NULL; i++)
        if (float_bits(y[i]) != float_bits(expected[i]))
            result = check_note(note, size, "rows %zu blocks %zu tokens %zu rows [%zu,%zu) blocks [%zu,%zu) stride %zu acc %d: "
                                "y[t%zu][r%zu] = %.9g, reference %.9g", s->rows, s->blocks, s->tokens, s->row_begin,
                                s->row_end, s->block_begin, s->block_end, s->scale_stride, s->accumulate,
                                i / y_stride, i % y_stride, y[i], expected[i]);
    free(packed); free(q); free(q_sum); free(inv); free(scales); free(y); free(expected);
    return result;
}

static shape random_shape(check_rng *rng, size_t tokens) {
    static const size_t block_counts[] = {1, 2, 3, 5, 8, 16, 17, 20, 33};
    shape s = {0};
    s.rows = (size_t)rng_int(rng, 1, 70);
    s.blocks = block_counts[rng_int(rng, 0, 8)];
    s.tokens = tokens;
    s.row_begin = (size_t)rng_int(rng, 0, 2) == 0 ? 0 : (size_t)rng_int(rng, 0, (int)s.rows - 1);
    s.row_end = (size_t)rng_int(rng, 0, 2) == 0 ? s.rows : (size_t)rng_int(rng, (int)s.row_begin + 1, (int)s.rows);
    if (rng_int(rng, 0, 2) == 0 && s.blocks % 2 == 0) {
        /* Per-group scales as TQ matrices use them: one pass per 2-block group. */
        size_t groups = s.blocks / 2, g = (size_t)rng_int(rng, 0, (int)groups - 1);
        s.scale_stride = groups;
        s.block_begin = 2 * g;
        s.block_end = 2 * g + 2;
    } else {
        s.scale_stride = 1;
        s.block_begin = 0;
        s.block_end = s.blocks;
    }
    s.y_pad = (size_t)rng_int(rng, 0, 5);
    s.q_pad = rng_int(rng, 0, 1) ? 64 : 0;
    s.accumulate = rng_int(rng, 0, 1);
    s.code_fill = -1;
    s.q_fill = -1000;
    return s;
}

int main(void) {
    char note[512], name[160];
    for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++) {
        if (!levels[l].available()) {
            printf("skip ternary %s: not supported by this CPU\n", levels[l].name);
            continue;
        }
        ternary_fn run = levels[l].run;
        /* Random shapes for every token count 1..17 (decode, the remainders of
         * every token grouping, odd counts for the i8mm pairs). */
        for (size_t tokens = 1; tokens <= 17; tokens++) {
            check_rng rng = {tokens * 7919 + 17};
            const char *bad = NULL;
            int n = tokens == 1 ? 60 : 12;
            for (int i = 0; i < n && bad == NULL; i++) {
                shape s = random_shape(&rng, tokens);
                bad = run_shape(run, &s, tokens * 1000 + (uint64_t)i, note, sizeof note);
            }
            snprintf(name, sizeof name, "ternary %s: %d random shapes, %zu token%s", levels[l].name, n, tokens,
                     tokens == 1 ? "" : "s");
            check_case(name, bad);
        }
        /* The int16 bound of the plain kernel's 16-block runs, and its other end. */
        static const struct { int code, q; size_t blocks; } extremes[] = {
            {2, -128, 16}, {2, -128, 33}, {2, 127, 17}, {0, -128, 17}, {1, -128, 32}};
        const char *bad = NULL;
        for (size_t e = 0; e < sizeof extremes / sizeof extremes[0] && bad == NULL; e++)
            for (size_t tokens = 1; tokens <= 9 && bad == NULL; tokens += 4) {
                shape s = {.rows = 9, .blocks = extremes[e].blocks, .tokens = tokens, .row_begin = 0, .row_end = 9,
                           .block_begin = 0, .block_end = extremes[e].blocks, .scale_stride = 1,
                           .code_fill = extremes[e].code, .q_fill = extremes[e].q};
                bad = run_shape(run, &s, e, note, sizeof note);
            }
        snprintf(name, sizeof name, "ternary %s: extreme codes and activations (int16 / int32 bounds)", levels[l].name);
        check_case(name, bad);
        /* 2B4T row lengths (2560: ffn_gate/up and attention; 6912: ffn_down). */
        bad = NULL;
        static const struct { size_t rows, blocks, tokens; } big[] = {{30, 20, 1}, {30, 20, 9}, {13, 54, 1}, {13, 54, 4}};
        for (size_t b = 0; b < sizeof big / sizeof big[0] && bad == NULL; b++) {
            shape s = {.rows = big[b].rows, .blocks = big[b].blocks, .tokens = big[b].tokens, .row_begin = 1,
                       .row_end = big[b].rows, .block_begin = 0, .block_end = big[b].blocks, .scale_stride = 1,
                       .y_pad = 3, .code_fill = -1, .q_fill = -1000};
            bad = run_shape(run, &s, 100 + b, note, sizeof note);
        }
        snprintf(name, sizeof name, "ternary %s: 2B4T row lengths 2560 and 6912", levels[l].name);
        check_case(name, bad);
    }
    return check_summary();
}
