/* Ternary x int8 products with AVX2 (maddubs: u8 x s8 pairs into saturating
 * int16, then madd with ones into int32). See bitnet_kernels.h for the packed
 * layout and the exact result each kernel must produce.
 *
 * Overflow: codes are <= 2 and -128 <= q <= 127, so one maddubs lane lies in
 * [-512, 508], a block's four maddubs in [-2048, 2032], and 16 blocks in
 * [-32768, 32512]: exactly int16. So blocks are summed in int16 in runs of at
 * most 16 and only then widened to int32 (madd with ones). */
#define BNK_AVX2_INT16_BLOCKS 16
#include "bitnet_kernels.h"
#include "stream_prefetch.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define BNK_AVX2 __attribute__((target("avx2,fma")))

static inline void store_row(const bnk_ternary_args *a, size_t r, size_t t, int32_t dot) {
    float v = (float)(dot - a->q_sum[t]) * a->row_scale[r * a->row_scale_stride];
    v = v * a->inv_scale[t];
    float *dst = a->y + t * a->y_stride + r;
    if (a->accumulate) {
        float old = *dst;
        *dst = old + v;
    } else {
        *dst = v;
    }
}

BNK_AVX2 static inline int32_t hsum256(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

/* sum over one row block of c*q in int16 lanes, in [-2048, 2032]. */
BNK_AVX2 static inline __m256i block_dot16(__m256i c0, __m256i c1, __m256i c2, __m256i c3, const int8_t *qb) {
    __m256i p = _mm256_maddubs_epi16(c0, _mm256_loadu_si256((const __m256i *)qb));
    p = _mm256_add_epi16(p, _mm256_maddubs_epi16(c1, _mm256_loadu_si256((const __m256i *)(qb + 32))));
    p = _mm256_add_epi16(p, _mm256_maddubs_epi16(c2, _mm256_loadu_si256((const __m256i *)(qb + 64))));
    return _mm256_add_epi16(p, _mm256_maddubs_epi16(c3, _mm256_loadu_si256((const __m256i *)(qb + 96))));
}

/* NT tokens (1..4) share each unpacked row block. */
BNK_AVX2 static inline __attribute__((always_inline)) void
tile_tokens(const bnk_ternary_args *a, size_t tile, size_t t0, const int NT) {
    int32_t dots[4][BNK_TILE_ROWS];
    for (int i = 0; i < BNK_TILE_ROWS; i++) {
        size_t r = tile * BNK_TILE_ROWS + i;
        if (r < a->row_begin || r >= a->row_end) continue;
        const uint8_t *w = a->packed + (tile * a->blocks_per_row + a->block_begin) * 128 + i * 32;
        const __m256i m = _mm256_set1_epi8(0x03), ones = _mm256_set1_epi16(1);
        __m256i acc[4];
        for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_si256();
        for (size_t run = a->block_begin; run < a->block_end; run += BNK_AVX2_INT16_BLOCKS) {
            size_t run_end = run + BNK_AVX2_INT16_BLOCKS < a->block_end ? run + BNK_AVX2_INT16_BLOCKS : a->block_end;
            __m256i acc16[4];
            for (int t = 0; t < NT; t++) acc16[t] = _mm256_setzero_si256();
            for (size_t blk = run; blk < run_end; blk++, w += 128) {
                bnk_prefetch_stream(w);
                __m256i wv = _mm256_load_si256((const __m256i *)w);
                __m256i c0 = _mm256_and_si256(_mm256_srli_epi16(wv, 6), m);
                __m256i c1 = _mm256_and_si256(_mm256_srli_epi16(wv, 4), m);
                __m256i c2 = _mm256_and_si256(_mm256_srli_epi16(wv, 2), m);
                __m256i c3 = _mm256_and_si256(wv, m);
                for (int t = 0; t < NT; t++) {
                    const int8_t *qb = a->q + (t0 + t) * a->q_stride + blk * 128;
                    acc16[t] = _mm256_add_epi16(acc16[t], block_dot16(c0, c1, c2, c3, qb));
                }
            }
            for (int t = 0; t < NT; t++) acc[t] = _mm256_add_epi32(acc[t], _mm256_madd_epi16(acc16[t], ones));
        }
        for (int t = 0; t < NT; t++) dots[t][i] = hsum256(acc[t]);
    }
    for (int t = 0; t < NT; t++) {
        for (int i = 0; i < BNK_TILE_ROWS; i++) {
            size_t r = tile * BNK_TILE_ROWS + i;
            if (r < a->row_begin || r >= a->row_end) continue;
            store_row(a, r, t0 + t, dots[t][i]);
        }
    }
}

BNK_AVX2 void bnk_ternary_avx2(const bnk_ternary_args *a) {
    if (a->row_begin >= a->row_end || a->n_tokens == 0) return;
    const size_t tile_begin = a->row_begin / BNK_TILE_ROWS;
    const size_t tile_end = (a->row_end + BNK_TILE_ROWS - 1) / BNK_TILE_ROWS;
    for (size_t tile = tile_begin; tile < tile_end; tile++) {
        size_t t = 0;
        for (; t + 4 <= a->n_tokens; t += 4) tile_tokens(a, tile, t, 4);
        switch (a->n_tokens - t) {
        case 3: tile_tokens(a, tile, t, 3); break;
        case 2: tile_tokens(a, tile, t, 2); break;
        case 1: tile_tokens(a, tile, t, 1); break;
        default: break;
        }
    }
}

#else
void bnk_ternary_avx2(const bnk_ternary_args *a) { (void)a; }
#endif
