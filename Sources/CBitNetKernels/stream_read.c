/* The bandwidth probe's inner loop: sum 64-bit words with wide loads, four
 * independent accumulators, nothing else, so the memory system is the limit. */
#include "bitnet_kernels.h"

#if defined(__x86_64__)
#include "x86_target.h"

BNK_AVX512 uint64_t bnk_sum_words_avx512(const uint64_t *p, size_t n) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm512_add_epi64(a0, _mm512_loadu_si512((const void *)(p + i)));
        a1 = _mm512_add_epi64(a1, _mm512_loadu_si512((const void *)(p + i + 8)));
        a2 = _mm512_add_epi64(a2, _mm512_loadu_si512((const void *)(p + i + 16)));
        a3 = _mm512_add_epi64(a3, _mm512_loadu_si512((const void *)(p + i + 24)));
    }
    uint64_t sum = (uint64_t)_mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3)));
    for (; i < n; i++) sum += p[i];
    return sum;
}

__attribute__((target("avx2"))) uint64_t bnk_sum_words_avx2(const uint64_t *p, size_t n) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_add_epi64(a0, _mm256_loadu_si256((const __m256i *)(p + i)));
        a1 = _mm256_add_epi64(a1, _mm256_loadu_si256((const __m256i *)(p + i + 4)));
        a2 = _mm256_add_epi64(a2, _mm256_loadu_si256((const __m256i *)(p + i + 8)));
        a3 = _mm256_add_epi64(a3, _mm256_loadu_si256((const __m256i *)(p + i + 12)));
    }
    __m256i s = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, s);
    uint64_t sum = lanes[0] + lanes[1] + lanes[2] + lanes[3];
    for (; i < n; i++) sum += p[i];
    return sum;
}
#else
uint64_t bnk_sum_words_avx512(const uint64_t *p, size_t n) { (void)p; (void)n; return 0; }
uint64_t bnk_sum_words_avx2(const uint64_t *p, size_t n) { (void)p; (void)n; return 0; }
#endif

#if defined(__aarch64__)
#include <arm_neon.h>

/* Eight 128-bit loads per step (128 bytes, one Apple cache line) into four accumulators. */
uint64_t bnk_sum_words_neon(const uint64_t *p, size_t n) {
    uint64x2_t a0 = vdupq_n_u64(0), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = vaddq_u64(a0, vaddq_u64(vld1q_u64(p + i), vld1q_u64(p + i + 8)));
        a1 = vaddq_u64(a1, vaddq_u64(vld1q_u64(p + i + 2), vld1q_u64(p + i + 10)));
        a2 = vaddq_u64(a2, vaddq_u64(vld1q_u64(p + i + 4), vld1q_u64(p + i + 12)));
        a3 = vaddq_u64(a3, vaddq_u64(vld1q_u64(p + i + 6), vld1q_u64(p + i + 14)));
    }
    uint64_t sum = vaddvq_u64(vaddq_u64(vaddq_u64(a0, a1), vaddq_u64(a2, a3)));
    for (; i < n; i++) sum += p[i];
    return sum;
}
#else
uint64_t bnk_sum_words_neon(const uint64_t *p, size_t n) { (void)p; (void)n; return 0; }
#endif
