/*
 * The ternary product of a prompt chunk or a batched decode step, the kernel
 * alone: a rows x cols packed ternary matrix (bitnet_kernels.h) times n
 * tokens of int8 activations, with the rows split over threads on tile
 * boundaries as PackedTernaryMatrix.multiply splits them. `hot` repeats one
 * matrix for 64 MB worth of products (its weights stay in cache, so the
 * arithmetic is timed); `cold` cycles through copies filling `set_mb`
 * megabytes, so every product streams its weights from memory as a forward
 * pass does. Prints the median time of a product, multiply-adds per second and
 * weight bytes per second, so
 * a change to the multi-token tile (its block loop or its epilogue) can be
 * timed without a whole model.
 *
 * Build and run from the repository root (x86-64 with AVX2):
 *   clang -O3 -pthread -I Sources/CBitNetKernels/include -I Sources/CBitNetKernels \
 *      tools/bench/ternary_tile.c Sources/CBitNetKernels/ternary_avx2.c \
 *      Sources/CBitNetKernels/ternary_avx512.c -o /tmp/ternary_tile
 *   /tmp/ternary_tile [tokens=8] [threads=2] [repetitions=9] [rows=6912] [cols=2560] [set_mb=0] [kernel=auto|avx2|avx512]
 * set_mb = 0 is hot (one matrix). 6912 x 2560 is 2B4T's ffn_gate/up,
 * 2560 x 6912 its ffn_down. Exits 77 (skipped) on a CPU without the
 * features; `make test-c` builds it and runs a tiny shape so it keeps compiling.
 */
#include "bitnet_kernels.h"
#include "bench_common.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_TOKENS = 64 };

static size_t rows = 6912, cols = 2560, tokens = 8, copies = 1, products = 1, matrix_bytes;
static int threads = 2, avx512 = 0;
static uint8_t *packed;
static int8_t *q;
static int32_t q_sum[MAX_TOKENS];
static float inv_scale[MAX_TOKENS];
static float *row_scale, *y;

static void *work(void *arg) {
    const size_t part = (size_t)(uintptr_t)arg, tiles = rows / BNK_TILE_ROWS;
    const size_t begin = tiles * part / (size_t)threads * BNK_TILE_ROWS;
    const size_t end = tiles * (part + 1) / (size_t)threads * BNK_TILE_ROWS;
    for (size_t c = 0; c < products; c++) {
        bnk_ternary_args a = {
            .packed = packed + c % copies * matrix_bytes, .blocks_per_row = cols / BNK_BLOCK_COLS,
            .row_begin = begin, .row_end = end, .block_begin = 0, .block_end = cols / BNK_BLOCK_COLS,
            .q = q, .q_stride = cols, .q_sum = q_sum, .inv_scale = inv_scale, .n_tokens = tokens,
            .row_scale = row_scale, .row_scale_stride = 1, .y = y, .y_stride = rows, .accumulate = 0,
        };
        if (avx512) bnk_ternary_avx512vnni(&a);
        else bnk_ternary_avx2(&a);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) tokens = (size_t)atol(argv[1]);
    if (argc > 2) threads = atoi(argv[2]);
    const int repetitions = argc > 3 ? atoi(argv[3]) : 9;
    if (argc > 4) rows = (size_t)atol(argv[4]);
    if (argc > 5) cols = (size_t)atol(argv[5]);
    const size_t set_mb = argc > 6 ? (size_t)atol(argv[6]) : 0;
    const char *kernel = argc > 7 ? argv[7] : "auto";
    int usage = tokens < 1 || tokens > MAX_TOKENS || threads < 1 || threads > BENCH_MAX_THREADS || repetitions < 1 ||
                repetitions > 1000 || rows == 0 || rows % BNK_TILE_ROWS != 0 || cols == 0 ||
                cols % BNK_BLOCK_COLS != 0 || set_mb > (1u << 16);
    avx512 = bench_kernel_level(kernel);
    if (avx512 == -77) return 77;
    if (avx512 < 0) usage = 1;
    if (usage) {
        fprintf(stderr, "usage: ternary_tile [tokens 1..%d] [threads] [repetitions] [rows, a multiple of %d] "
                        "[cols, a multiple of %d] [set_mb, 0 = hot] [auto|avx2|avx512]\n",
                MAX_TOKENS, BNK_TILE_ROWS, BNK_BLOCK_COLS);
        return 2;
    }
    if (!__builtin_cpu_supports("avx2")) {
        fprintf(stderr, "skipped: ternary_tile needs AVX2\n");
        return 77;
    }
    matrix_bytes = rows / BNK_TILE_ROWS * (cols / BNK_BLOCK_COLS) * 128;
    copies = set_mb == 0 ? 1 : (set_mb << 20) / matrix_bytes + 1;
    products = set_mb == 0 ? (64u << 20) / matrix_bytes + 1 : copies;
    packed = aligned_alloc(64, copies * matrix_bytes);
    q = malloc(tokens * cols);
    row_scale = malloc(rows * sizeof(float));
    y = malloc(tokens * rows * sizeof(float));
    if (!packed || !q || !row_scale || !y) { fprintf(stderr, "out of memory\n"); return 1; }
    uint64_t state = 0x9E3779B97F4A7C15u; /* xorshift */
    for (size_t i = 0; i < copies * matrix_bytes; i++) {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17;
        const uint8_t c[4] = {0, 1, 2, 1}; /* codes 0..2 only (code 3 is not ternary) */
        packed[i] = (uint8_t)(c[state & 3] << 6 | c[state >> 2 & 3] << 4 | c[state >> 4 & 3] << 2 | c[state >> 6 & 3]);
    }
    for (size_t t = 0; t < tokens; t++) {
        int32_t sum = 0;
        for (size_t k = 0; k < cols; k++) {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            q[t * cols + k] = (int8_t)((int)(state % 255) - 127);
            sum += q[t * cols + k];
        }
        q_sum[t] = sum;
        inv_scale[t] = 1.0f / 127;
    }
    for (size_t r = 0; r < rows; r++) row_scale[r] = 0.5f;
    double times[1000];
    bench_run_threads(threads, work); /* warm-up: page faults, frequency */
    for (int r = 0; r < repetitions; r++) times[r] = bench_run_threads(threads, work);
    const double median = bench_median(times, repetitions) / (double)products, best = times[0] / (double)products;
    const double macs = (double)rows * (double)cols * (double)tokens;
    printf("%zu x %zu ternary, %zu token%s, %d thread%s, %s kernel, %s (%zu product%s over %zu cop%s), median of %d\n",
           rows, cols, tokens, tokens == 1 ? "" : "s", threads, threads == 1 ? "" : "s",
           avx512 ? "avx512vnni" : "avx2", set_mb == 0 ? "hot" : "cold", products, products == 1 ? "" : "s", copies,
           copies == 1 ? "y" : "ies", repetitions);
    printf("  %.3f ms per product, %.1f GMAC/s, %.1f GB/s of weights (best %.3f ms)\n", median * 1e3,
           macs / median * 1e-9, (double)matrix_bytes / median * 1e-9, best * 1e3);
    return 0;
}
