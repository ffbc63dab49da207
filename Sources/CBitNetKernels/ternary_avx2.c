/* Ternary x int8 products with AVX2 (maddubs: u8 x s8 pairs into saturating
 * int16, then madd with ones into int32). See bitnet_kernels.h for the packed
 * layout and the exact result each kernel must produce.
 *
 * Overflow: codes are <= 2 and -128 <= q <= 127, so one maddubs lane lies in
 * [-512, 508], a block's four maddubs in [-2048, 2032], and 16 blocks in
 * [-32768, 32512]: exactly int16. So blocks are summed in int16 in runs of at
 * most 16 and only then widened to int32 (madd with ones).
 *
 * Loop order. One token (decode) is a weight stream: row by row through the
 * tile, every 32-byte row block read once, with software prefetch.
 * Several tokens (prompts, batched decoding): inside a tile, the runs of at
 * most 16 blocks are the outer loop, then groups of up to 4 tokens, then the
 * tile's rows, each widening its int16 run sums into per-(row, token) int32
 * partial sums kept on the stack (chunks of 16 tokens). So a token group's
 * activations for the run (16 blocks x 128 bytes per token, 8 KB for 4
 * tokens) stay in L1 while the tile's 4 rows use them, and the tile's 2 KB of
 * run weights stay in L1 across the token groups. Before, each row walked the
 * whole column range for every group: with the 6912-column ffn_down that is
 * 27 KB of activations per row and group of 4, which with the streaming
 * weights does not stay in Zen 3's 32 KB L1, so rows re-read them from L2.
 * Measured single-thread on the shared Zen 3 (thread CPU time, best of 25,
 * 2560 x 6912): 8 tokens ~1.40 -> ~1.19 ns per row block and token, 16 tokens
 * ~1.39 -> ~1.22; shapes whose activations already fit in L1 (2560 columns)
 * are unchanged: both loops run near the issue rate of maddubs + add.
 * Register blocking over 2 or 4 rows (sharing the activation loads) and 8
 * tokens per pass (sharing the unpacked codes) measured no better: every
 * 32 bytes of a product still cost one maddubs and one add. */
#define BNK_AVX2_INT16_BLOCKS 16
/* Tokens whose int32 partial sums live on the stack at once (4 rows x 16
 * tokens x 32 bytes = 2 KB). */
#define BNK_AVX2_CHUNK_TOKENS 16
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

/* The 2-bit field j (0..3, bits 7:6 down to 1:0) of every byte: columns 32j..32j+31 of the block. */
BNK_AVX2 static inline __m256i codes(__m256i wv, int j) {
    const __m256i m = _mm256_set1_epi8(0x03);
    return _mm256_and_si256(j == 3 ? wv : _mm256_srli_epi16(wv, 6 - 2 * j), m);
}

/* One token: rows one after another, each streaming its blocks. */
BNK_AVX2 static void matvec(const bnk_ternary_args *a) {
    const size_t tile_begin = a->row_begin / BNK_TILE_ROWS;
    const size_t tile_end = (a->row_end + BNK_TILE_ROWS - 1) / BNK_TILE_ROWS;
    const __m256i ones = _mm256_set1_epi16(1);
    for (size_t tile = tile_begin; tile < tile_end; tile++) {
        for (int i = 0; i < BNK_TILE_ROWS; i++) {
            size_t r = tile * BNK_TILE_ROWS + i;
            if (r < a->row_begin || r >= a->row_end) continue;
            const uint8_t *w = a->packed + (tile * a->blocks_per_row + a->block_begin) * 128 + i * 32;
            __m256i acc = _mm256_setzero_si256();
            for (size_t run = a->block_begin; run < a->block_end; run += BNK_AVX2_INT16_BLOCKS) {
                size_t run_end = run + BNK_AVX2_INT16_BLOCKS < a->block_end ? run + BNK_AVX2_INT16_BLOCKS : a->block_end;
                __m256i acc16 = _mm256_setzero_si256();
                for (size_t blk = run; blk < run_end; blk++, w += 128) {
                    bnk_prefetch_stream(w);
                    __m256i wv = _mm256_load_si256((const __m256i *)w);
                    const int8_t *qb = a->q + blk * 128;
                    __m256i p = _mm256_maddubs_epi16(codes(wv, 0), _mm256_loadu_si256((const __m256i *)qb));
                    p = _mm256_add_epi16(p, _mm256_maddubs_epi16(codes(wv, 1), _mm256_loadu_si256((const __m256i *)(qb + 32))));
                    p = _mm256_add_epi16(p, _mm256_maddubs_epi16(codes(wv, 2), _mm256_loadu_si256((const __m256i *)(qb + 64))));
                    p = _mm256_add_epi16(p, _mm256_maddubs_epi16(codes(wv, 3), _mm256_loadu_si256((const __m256i *)(qb + 96))));
                    acc16 = _mm256_add_epi16(acc16, p);
                }
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(acc16, ones));
            }
            store_row(a, r, 0, hsum256(acc));
        }
    }
}

/* One row's blocks [run, run_end) (at most 16) for NT (1..4) tokens: each
 * 32-byte slice of codes is unpacked once and fed to every token; the int16
 * run sums are widened and added to acc[t]. `prefetch` is set on the first
 * pass over this run of the tile, which fetches all 128 bytes of each block. */
BNK_AVX2 static inline __attribute__((always_inline)) void
row_run(const uint8_t *w, const int8_t *q, size_t q_stride, size_t run, size_t run_end,
        const int NT, __m256i *acc, int prefetch) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc16[4];
    for (int t = 0; t < NT; t++) acc16[t] = _mm256_setzero_si256();
    for (size_t blk = run; blk < run_end; blk++, w += 128) {
        if (prefetch) {
            bnk_prefetch_stream(w);
            bnk_prefetch_stream(w + 64);
        }
        __m256i wv = _mm256_load_si256((const __m256i *)w);
        const int8_t *qb = q + blk * 128;
        for (int j = 0; j < 4; j++) {
            __m256i c = codes(wv, j);
            for (int t = 0; t < NT; t++) {
                __m256i qv = _mm256_loadu_si256((const __m256i *)(qb + t * q_stride + 32 * j));
                acc16[t] = _mm256_add_epi16(acc16[t], _mm256_maddubs_epi16(c, qv));
            }
        }
    }
    for (int t = 0; t < NT; t++) acc[t] = _mm256_add_epi32(acc[t], _mm256_madd_epi16(acc16[t], ones));
}

/* Tokens [t0, t0 + nt) (nt <= 16) of one tile: runs outermost, see the top. */
BNK_AVX2 static void tile_chunk(const bnk_ternary_args *a, size_t tile, size_t t0, size_t nt) {
    __m256i acc[BNK_TILE_ROWS][BNK_AVX2_CHUNK_TOKENS];
    const size_t row0 = tile * BNK_TILE_ROWS;
    const int first = row0 < a->row_begin ? (int)(a->row_begin - row0) : 0;
    const int last = row0 + BNK_TILE_ROWS > a->row_end ? (int)(a->row_end - row0) : BNK_TILE_ROWS;
    for (int i = first; i < last; i++)
        for (size_t t = 0; t < nt; t++) acc[i][t] = _mm256_setzero_si256();
    for (size_t run = a->block_begin; run < a->block_end; run += BNK_AVX2_INT16_BLOCKS) {
        size_t run_end = run + BNK_AVX2_INT16_BLOCKS < a->block_end ? run + BNK_AVX2_INT16_BLOCKS : a->block_end;
        for (size_t tg = 0; tg < nt; tg += 4) {
            const int8_t *q = a->q + (t0 + tg) * a->q_stride;
            for (int i = first; i < last; i++) {
                const uint8_t *w = a->packed + (tile * a->blocks_per_row + run) * 128 + i * 32;
                int prefetch = t0 == 0 && tg == 0 && i == first;
                __m256i *ac = &acc[i][tg];
                switch (nt - tg < 4 ? nt - tg : 4) {
                case 4: row_run(w, q, a->q_stride, run, run_end, 4, ac, prefetch); break;
                case 3: row_run(w, q, a->q_stride, run, run_end, 3, ac, prefetch); break;
                case 2: row_run(w, q, a->q_stride, run, run_end, 2, ac, prefetch); break;
                default: row_run(w, q, a->q_stride, run, run_end, 1, ac, prefetch); break;
                }
            }
        }
    }
    for (size_t t = 0; t < nt; t++)
        for (int i = first; i < last; i++) store_row(a, row0 + i, t0 + t, hsum256(acc[i][t]));
}

BNK_AVX2 void bnk_ternary_avx2(const bnk_ternary_args *a) {
    if (a->row_begin >= a->row_end || a->n_tokens == 0) return;
    if (a->n_tokens == 1) {
        matvec(a);
        return;
    }
    const size_t tile_begin = a->row_begin / BNK_TILE_ROWS;
    const size_t tile_end = (a->row_end + BNK_TILE_ROWS - 1) / BNK_TILE_ROWS;
    for (size_t tile = tile_begin; tile < tile_end; tile++) {
        for (size_t t = 0; t < a->n_tokens; t += BNK_AVX2_CHUNK_TOKENS) {
            size_t nt = a->n_tokens - t < BNK_AVX2_CHUNK_TOKENS ? a->n_tokens - t : BNK_AVX2_CHUNK_TOKENS;
            tile_chunk(a, tile, t, nt);
        }
    }
}

#else
void bnk_ternary_avx2(const bnk_ternary_args *a) { (void)a; }
#endif
