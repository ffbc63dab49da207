/*
 * What the kernel harnesses of tools/bench share: a monotonic clock, running
 * one function on several threads at once, the median of repeated times, and
 * the choice of x86 kernel level from the command line.
 */
#ifndef BNK_BENCH_COMMON_H
#define BNK_BENCH_COMMON_H

#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_MAX_THREADS 64

static inline double bench_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Runs work(0) on the calling thread and work(1..threads-1) on new ones;
 * returns the wall time until all have finished. */
static inline double bench_run_threads(int threads, void *(*work)(void *)) {
    pthread_t ids[BENCH_MAX_THREADS];
    const double start = bench_seconds();
    for (int t = 1; t < threads; t++) pthread_create(&ids[t], NULL, work, (void *)(uintptr_t)t);
    work((void *)(uintptr_t)0);
    for (int t = 1; t < threads; t++) pthread_join(ids[t], NULL);
    return bench_seconds() - start;
}

static inline int bench_by_value(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts `times` in place and returns their median. */
static inline double bench_median(double *times, int count) {
    qsort(times, (size_t)count, sizeof times[0], bench_by_value);
    return times[count / 2];
}

/* The kernel level a harness runs: "auto" (AVX-512 VNNI where the CPU has
 * it), "avx2" or "avx512". Returns 1 for AVX-512, 0 for AVX2, -1 for an
 * unknown name, and -77 (after saying why) when AVX-512 is asked for on a
 * CPU without it. */
static inline int bench_kernel_level(const char *name) {
    const int has_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
    if (strcmp(name, "auto") == 0) return has_avx512;
    if (strcmp(name, "avx2") == 0) return 0;
    if (strcmp(name, "avx512") != 0) return -1;
    if (has_avx512) return 1;
    fprintf(stderr, "skipped: kernel avx512 needs AVX-512 F, BW, VL and VNNI\n");
    return -77;
}

#endif
