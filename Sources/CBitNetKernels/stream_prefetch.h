/* Software prefetch for the weight streams of decode (one token: every
 * weight byte is read once, so memory bandwidth is the limit).
 *
 * Two levels: far ahead into L2, so the DRAM stream overlaps the arithmetic,
 * and nearer into L1, so the kernel's loads do not wait on L2 either. On the
 * 2-core AVX-512 VNNI guest, 2 threads, 1 GB of weights (probe 32.5 GB/s):
 * the ternary matvec streamed 18 GB/s with the hardware prefetcher alone,
 * 28.5 with the L2 prefetch alone and ~31 with both; the F16 dot 30.2 with
 * an L1-only prefetch and ~31.9 with both. Prefetches never fault, so
 * running past the end of a buffer is harmless. */
#ifndef BNK_STREAM_PREFETCH_H
#define BNK_STREAM_PREFETCH_H

#if defined(__x86_64__)
#include <immintrin.h>

#define BNK_PREFETCH_FAR 8192
#define BNK_PREFETCH_NEAR 2048

/* Prefetches the cache line `p + FAR` into L2 and `p + NEAR` into L1; call
 * once per 64 bytes consumed at `p`. */
static inline __attribute__((always_inline)) void bnk_prefetch_stream(const void *p) {
    _mm_prefetch((const char *)p + BNK_PREFETCH_FAR, _MM_HINT_T1);
    _mm_prefetch((const char *)p + BNK_PREFETCH_NEAR, _MM_HINT_T0);
}
#elif defined(__aarch64__)
/* The same distances as on x86 (not yet measured on ARM hardware):
 * PRFM PLDL2KEEP far ahead, PLDL1KEEP nearer. Apple cores have 128-byte
 * lines, so every other call there hits a line already requested. */
#define BNK_PREFETCH_FAR 8192
#define BNK_PREFETCH_NEAR 2048

static inline __attribute__((always_inline)) void bnk_prefetch_stream(const void *p) {
    __builtin_prefetch((const char *)p + BNK_PREFETCH_FAR, 0, 2);
    __builtin_prefetch((const char *)p + BNK_PREFETCH_NEAR, 0, 3);
}
#endif

#endif
