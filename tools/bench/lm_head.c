/*
 * The LM head of a (batched) decode step, the kernel alone: the split Q8_0
 * product (bitnet_kernels.h) of a rows x cols head with n prepared int16
 * inputs, called as DenseMatrix.multiply calls it: threads split the rows,
 * each thread walks its rows in blocks of 96 KiB of weights and applies every
 * input to a block before the next (n = 1: the single-input kernel; n > 1:
 * the *_multi kernel, which widens each weight once per chunk of inputs).
 * Prints the median time per product, multiply-adds per second and the
 * weight bytes read per second, so a change to the multi kernels (or to how
 * the compiler schedules them) can be timed without a whole model.
 *
 * Build and run from the repository root (x86-64 with AVX2, FMA and F16C):
 *   clang -O3 -pthread -I Sources/CBitNetKernels/include -I Sources/CBitNetKernels \
 *      tools/bench/lm_head.c Sources/CBitNetKernels/dense_dots.c -o /tmp/lm_head
 *   /tmp/lm_head [inputs=8] [threads=2] [repetitions=9] [rows=128256] [cols=2560] [kernel=auto|avx2|avx512]
 * The default shape is 2B4T's head (vocabulary 128,256 x 2,560). `auto` runs
 * the AVX-512 VNNI kernels on a CPU that has them. Exits 77 (skipped) on a
 * CPU without the features; `make test-c` builds it and runs a tiny shape so
 * it keeps compiling.
 */
#include "bitnet_kernels.h"
#include "bench_common.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_INPUTS = 64, BLOCK_BYTES = 96 << 10 };

static size_t rows = 128256, cols = 2560;
static int inputs = 8, threads = 2, avx512 = 0;
static int8_t *quants;
static uint16_t *scales;
static const int16_t *xs[MAX_INPUTS];
static float x_scales[MAX_INPUTS];
static float *ys[MAX_INPUTS];

static void product(size_t begin, size_t end) {
    if (inputs == 1) {
        if (avx512) bnk_dot_q8_0_split_avx512vnni(quants, scales, cols, begin, end, xs[0], x_scales[0], ys[0]);
        else bnk_dot_q8_0_split_avx2(quants, scales, cols, begin, end, xs[0], x_scales[0], ys[0]);
    } else if (avx512) {
        bnk_dot_q8_0_split_avx512vnni_multi(quants, scales, cols, begin, end, (size_t)inputs, xs, x_scales, ys);
    } else {
        bnk_dot_q8_0_split_avx2_multi(quants, scales, cols, begin, end, (size_t)inputs, xs, x_scales, ys);
    }
}

static void *work(void *arg) {
    const size_t part = (size_t)(uintptr_t)arg;
    const size_t begin = rows * part / (size_t)threads, end = rows * (part + 1) / (size_t)threads;
    size_t block = BLOCK_BYTES / cols;
    if (block < 16) block = 16;
    for (size_t r = begin; r < end; r += block) product(r, r + block < end ? r + block : end);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) inputs = atoi(argv[1]);
    if (argc > 2) threads = atoi(argv[2]);
    const int repetitions = argc > 3 ? atoi(argv[3]) : 9;
    if (argc > 4) rows = (size_t)atol(argv[4]);
    if (argc > 5) cols = (size_t)atol(argv[5]);
    const char *kernel = argc > 6 ? argv[6] : "auto";
    int usage = inputs < 1 || inputs > MAX_INPUTS || threads < 1 || threads > BENCH_MAX_THREADS || repetitions < 1 ||
                repetitions > 1000 || rows == 0 || cols == 0 || cols % 32 != 0;
    avx512 = bench_kernel_level(kernel);
    if (avx512 == -77) return 77;
    if (avx512 < 0) usage = 1;
    if (usage) {
        fprintf(stderr, "usage: %s [inputs 1-64] [threads 1-64] [repetitions 1-1000] [rows] [cols, a multiple of 32] "
                        "[auto|avx2|avx512]\n", argv[0]);
        return 2;
    }
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma") || !__builtin_cpu_supports("f16c")) {
        fprintf(stderr, "skipped: lm_head needs AVX2, FMA and F16C\n");
        return 77;
    }
    quants = malloc(rows * cols);
    scales = malloc(rows * (cols / 32) * sizeof(uint16_t));
    if (!quants || !scales) { fprintf(stderr, "out of memory\n"); return 1; }
    uint64_t state = 0x9E3779B97F4A7C15u; /* xorshift */
    for (size_t i = 0; i < rows * cols; i++) {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17;
        quants[i] = (int8_t)((int)(state % 255) - 127);
    }
    for (size_t i = 0; i < rows * (cols / 32); i++) scales[i] = (uint16_t)(0x2000 + i % 1024); /* small f16 */
    for (int i = 0; i < inputs; i++) {
        int16_t *x = malloc(cols * sizeof(int16_t));
        ys[i] = malloc(rows * sizeof(float));
        if (!x || !ys[i]) { fprintf(stderr, "out of memory\n"); return 1; }
        for (size_t j = 0; j < cols; j++) {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            x[j] = (int16_t)((int)(state % 65535) - 32767);
        }
        xs[i] = x;
        x_scales[i] = 1.0f / 32767;
    }
    double times[1000];
    bench_run_threads(threads, work); /* warm-up: page faults, frequency */
    for (int r = 0; r < repetitions; r++) times[r] = bench_run_threads(threads, work);
    const double median = bench_median(times, repetitions);
    const double weight_bytes = (double)rows * (double)cols * (1.0 + 2.0 / 32);
    printf("%zu x %zu head, %d input%s, %d thread%s, %s kernel%s, median of %d\n", rows, cols, inputs,
           inputs == 1 ? "" : "s", threads, threads == 1 ? "" : "s", avx512 ? "avx512vnni" : "avx2",
           inputs == 1 ? "" : " (multi)", repetitions);
    printf("  %.2f ms per product, %.1f GMAC/s, %.1f GB/s of weights (best %.2f ms)\n", median * 1e3,
           (double)rows * (double)cols * inputs / median / 1e9, weight_bytes / median / 1e9, times[0] * 1e3);
    return ys[inputs - 1][rows / 2] == ys[inputs - 1][rows / 2] ? 0 : 1; /* keeps the products live */
}
