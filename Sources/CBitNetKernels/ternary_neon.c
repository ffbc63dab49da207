/* Ternary x int8 products on AArch64, at the three NEON levels of
 * bitnet_kernels.h (which also defines the packed layout and the exact result:
 * the dots are exact int32 and the float epilogue is the AVX2 kernel's, so
 * every level matches TernaryReferenceKernel bit for bit).
 *
 *   neon     SMLAL (s8 x s8 -> s16). A 16-bit lane takes at most 8 products
 *            per block, each in [-256, 254] (codes <= 2), so 16 blocks stay
 *            within int16 ([-32768, 32512], the AVX2 kernel's bound); SADALP
 *            then widens.
 *   dotprod  SDOT: four s8 products summed into each int32 lane.
 *   i8mm     SMMLA for prompts: one instruction multiplies the codes of two
 *            rows (2x8) by the activations of two tokens (8x2) into a 2x2
 *            int32 tile, twice an SDOT's work. Decode has a single token, which
 *            would fill only half of it, so it runs the dotprod loop. */
#include "bitnet_kernels.h"
#include "neon_target.h"
#include "stream_prefetch.h"

#if defined(__aarch64__)
#include <stdint.h>
#include <stdlib.h>

#define BNK_NEON_INT16_BLOCKS 16

static inline int row_in_range(const bnk_ternary_args *a, size_t r) { return r >= a->row_begin && r < a->row_end; }

/* y for row r of token t: the same float operations in the same order as the reference. */
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

/* The 128 codes of one row block (32 bytes at w): c[j] = columns 16j .. 16j+15. */
static inline __attribute__((always_inline)) void unpack_codes(const uint8_t *w, int8x16_t c[8]) {
    const uint8x16_t m = vdupq_n_u8(3);
    const uint8x16_t w0 = vld1q_u8(w), w1 = vld1q_u8(w + 16);
    c[0] = vreinterpretq_s8_u8(vshrq_n_u8(w0, 6));
    c[1] = vreinterpretq_s8_u8(vshrq_n_u8(w1, 6));
    c[2] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(w0, 4), m));
    c[3] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(w1, 4), m));
    c[4] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(w0, 2), m));
    c[5] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(w1, 2), m));
    c[6] = vreinterpretq_s8_u8(vandq_u8(w0, m));
    c[7] = vreinterpretq_s8_u8(vandq_u8(w1, m));
}

/* ---- neon: one row at a time, NT tokens (1..4) sharing each unpacked block ----
 * The 8 code vectors of a block go to A = 8 / NT (at least 2) pairs of 16-bit
 * accumulators per token, code vector j to pair j % A, so that few SMLALs
 * wait for the one before: with one pair, one token was bound by the
 * multiply-accumulate latency (16 dependent SMLALs per block). */

static inline __attribute__((always_inline)) void
tile_tokens_neon(const bnk_ternary_args *a, size_t tile, size_t t0, const int NT) {
    int32_t dots[4][BNK_TILE_ROWS];
    for (int i = 0; i < BNK_TILE_ROWS; i++) {
        size_t r = tile * BNK_TILE_ROWS + i;
        if (!row_in_range(a, r)) continue;
        const uint8_t *w = a->packed + (tile * a->blocks_per_row + a->block_begin) * 128 + i * 32;
        int32x4_t acc[4];
        for (int t = 0; t < NT; t++) acc[t] = vdupq_n_s32(0);
        for (size_t run = a->block_begin; run < a->block_end; run += BNK_NEON_INT16_BLOCKS) {
            size_t run_end = run + BNK_NEON_INT16_BLOCKS < a->block_end ? run + BNK_NEON_INT16_BLOCKS : a->block_end;
            const int A = NT == 1 ? 8 : NT == 2 ? 4 : 2;
            int16x8_t lo[4][8], hi[4][8];
            for (int t = 0; t < NT; t++)
                for (int p = 0; p < A; p++) lo[t][p] = hi[t][p] = vdupq_n_s16(0);
            for (size_t blk = run; blk < run_end; blk++, w += 128) {
                bnk_prefetch_stream(w);
                int8x16_t c[8];
                unpack_codes(w, c);
                for (int t = 0; t < NT; t++) {
                    const int8_t *qb = a->q + (t0 + t) * a->q_stride + blk * 128;
                    for (int j = 0; j < 8; j++) {
                        int8x16_t qj = vld1q_s8(qb + 16 * j);
                        lo[t][j % A] = vmlal_s8(lo[t][j % A], vget_low_s8(c[j]), vget_low_s8(qj));
                        hi[t][j % A] = vmlal_high_s8(hi[t][j % A], c[j], qj);
                    }
                }
            }
            for (int t = 0; t < NT; t++)
                for (int p = 0; p < A; p++) acc[t] = vpadalq_s16(vpadalq_s16(acc[t], lo[t][p]), hi[t][p]);
        }
        for (int t = 0; t < NT; t++) dots[t][i] = vaddvq_s32(acc[t]);
    }
    for (int t = 0; t < NT; t++)
        for (int i = 0; i < BNK_TILE_ROWS; i++)
            if (row_in_range(a, tile * BNK_TILE_ROWS + i)) store_row(a, tile * BNK_TILE_ROWS + i, t0 + t, dots[t][i]);
}

void bnk_ternary_neon(const bnk_ternary_args *a) {
    if (a->row_begin >= a->row_end || a->n_tokens == 0) return;
    const size_t tile_begin = a->row_begin / BNK_TILE_ROWS;
    const size_t tile_end = (a->row_end + BNK_TILE_ROWS - 1) / BNK_TILE_ROWS;
    for (size_t tile = tile_begin; tile < tile_end; tile++) {
        size_t t = 0;
        for (; t + 4 <= a->n_tokens; t += 4) tile_tokens_neon(a, tile, t, 4);
        switch (a->n_tokens - t) {
        case 3: tile_tokens_neon(a, tile, t, 3); break;
        case 2: tile_tokens_neon(a, tile, t, 2); break;
        case 1: tile_tokens_neon(a, tile, t, 1); break;
        default: break;
        }
    }
}

/* ---- dotprod ---- */

/* One token, the 4 rows of a tile together so each activation load serves
 * all of them. As in the AVX-512 matvec the 2-bit fields are masked in place
 * (bits 5:4 as 16c, 3:2 as 4c, 1:0 as c), one accumulator per field, scaled
 * down once per tile (every lane is an exact multiple). Bits 7:6 would be 64c
 * = 128 for c = 2, outside int8, so that field is shifted down instead. Four
 * accumulators per row also keep each SDOT chain at two per block, short
 * enough for the instruction's latency. */
BNK_DOTPROD static void matvec_dotprod(const bnk_ternary_args *a) {
    const size_t tile_begin = a->row_begin / BNK_TILE_ROWS;
    const size_t tile_end = (a->row_end + BNK_TILE_ROWS - 1) / BNK_TILE_ROWS;
    const uint8x16_t m2 = vdupq_n_u8(0x30), m1 = vdupq_n_u8(0x0C), m0 = vdupq_n_u8(0x03);
    for (size_t tile = tile_begin; tile < tile_end; tile++) {
        const uint8_t *w = a->packed + (tile * a->blocks_per_row + a->block_begin) * 128;
        int32x4_t a3[4], a2[4], a1[4], a0[4];
        for (int i = 0; i < 4; i++) a3[i] = a2[i] = a1[i] = a0[i] = vdupq_n_s32(0);
        for (size_t blk = a->block_begin; blk < a->block_end; blk++, w += 128) {
            bnk_prefetch_stream(w);
            bnk_prefetch_stream(w + 64);
            const int8_t *qb = a->q + blk * 128;
            int8x16_t q[8];
            for (int j = 0; j < 8; j++) q[j] = vld1q_s8(qb + 16 * j);
            for (int i = 0; i < 4; i++) {
                const uint8x16_t w0 = vld1q_u8(w + 32 * i), w1 = vld1q_u8(w + 32 * i + 16);
                a3[i] = vdotq_s32(a3[i], vreinterpretq_s8_u8(vshrq_n_u8(w0, 6)), q[0]);
                a3[i] = vdotq_s32(a3[i], vreinterpretq_s8_u8(vshrq_n_u8(w1, 6)), q[1]);
                a2[i] = vdotq_s32(a2[i], vreinterpretq_s8_u8(vandq_u8(w0, m2)), q[2]);
                a2[i] = vdotq_s32(a2[i], vreinterpretq_s8_u8(vandq_u8(w1, m2)), q[3]);
                a1[i] = vdotq_s32(a1[i], vreinterpretq_s8_u8(vandq_u8(w0, m1)), q[4]);
                a1[i] = vdotq_s32(a1[i], vreinterpretq_s8_u8(vandq_u8(w1, m1)), q[5]);
                a0[i] = vdotq_s32(a0[i], vreinterpretq_s8_u8(vandq_u8(w0, m0)), q[6]);
                a0[i] = vdotq_s32(a0[i], vreinterpretq_s8_u8(vandq_u8(w1, m0)), q[7]);
            }
        }
        for (int i = 0; i < 4; i++) {
            size_t r = tile * BNK_TILE_ROWS + i;
            if (!row_in_range(a, r)) continue;
            int32x4_t s = vaddq_s32(vaddq_s32(a3[i], vshrq_n_s32(a2[i], 4)), vaddq_s32(vshrq_n_s32(a1[i], 2), a0[i]));
            store_row(a, r, 0, vaddvq_s32(s));
        }
    }
}

/* NT tokens (1..8) share each unpacked row block; two accumulators per token
 * (columns 0-63 and 64-127) keep the SDOT chains short. */
BNK_DOTPROD static inline __attribute__((always_inline)) void
matmul_tile_dotprod(const bnk_ternary_args *a, size_t tile, size_t t0, const int NT) {
    int32_t dots[8][BNK_TILE_ROWS];
    for (int i = 0; i < BNK_TILE_ROWS; i++) {
        size_t r = tile * BNK_TILE_ROWS + i;
        if (!row_in_range(a, r)) continue;
        const uint8_t *w = a->packed + (tile * a->blocks_per_row + a->block_begin) * 128 + i * 32;
        int32x4_t lo[8], hi[8];
        for (int t = 0; t < NT; t++) lo[t] = hi[t] = vdupq_n_s32(0);
        for (size_t blk = a->block_begin; blk < a->block_end; blk++, w += 128) {
            int8x16_t c[8];
            unpack_codes(w, c);
            for (int t = 0; t < NT; t++) {
                const int8_t *qb = a->q + (t0 + t) * a->q_stride + blk * 128;
                for (int j = 0; j < 4; j++) lo[t] = vdotq_s32(lo[t], c[j], vld1q_s8(qb + 16 * j));
                for (int j = 4; j < 8; j++) hi[t] = vdotq_s32(hi[t], c[j], vld1q_s8(qb + 16 * j));
            }
        }
        for (int t = 0; t < NT; t++) dots[t][i] = vaddvq_s32(vaddq_s32(lo[t], hi[t]));
    }
    for (int t = 0; t < NT; t++)
        for (int i = 0; i < BNK_TILE_ROWS; i++)
            if (row_in_range(a, tile * BNK_TILE_ROWS + i)) store_row(a, tile * BNK_TILE_ROWS + i, t0 + t, dots[t][i]);
}

BNK_DOTPROD static void matmul_dotprod(const bnk_ternary_args *a) {
    const size_t tile_begin = a->row_begin / BNK_TILE_ROWS;
    const size_t tile_end = (a->row_end + BNK_TILE_ROWS - 1) / BNK_TILE_ROWS;
    for (size_t tile = tile_begin; tile < tile_end; tile++) {
        size_t t = 0;
        for (; t + 8 <= a->n_tokens; t += 8) matmul_tile_dotprod(a, tile, t, 8);
        switch (a->n_tokens - t) {
        case 7: matmul_tile_dotprod(a, tile, t, 7); break;
        case 6: matmul_tile_dotprod(a, tile, t, 6); break;
        case 5: matmul_tile_dotprod(a, tile, t, 5); break;
        case 4: matmul_tile_dotprod(a, tile, t, 4); break;
        case 3: matmul_tile_dotprod(a, tile, t, 3); break;
        case 2: matmul_tile_dotprod(a, tile, t, 2); break;
        case 1: matmul_tile_dotprod(a, tile, t, 1); break;
        default: break;
        }
    }
}

BNK_DOTPROD void bnk_ternary_neon_dotprod(const bnk_ternary_args *a) {
    if (a->row_begin >= a->row_end || a->n_tokens == 0) return;
    if (a->n_tokens == 1) matvec_dotprod(a);
    else matmul_dotprod(a);
}

/* ---- i8mm ---- */

/* SMMLA wants the two tokens' 8-byte column groups side by side in one
 * register. Interleaving them on the fly would cost as many instructions as
 * the SMMLAs themselves, so it is done once per call into `qp`:
 *     qp[(p * blocks + b) * 256 + g * 16 + e * 8 + k] = q[token 2p + e][column 128 b + 8 g + k]
 * for pair p, block b counted from block_begin, column group g < 16. */
static void interleave_pairs(const bnk_ternary_args *a, size_t pairs, size_t blocks, int8_t *qp) {
    for (size_t p = 0; p < pairs; p++) {
        const int8_t *q0 = a->q + 2 * p * a->q_stride + a->block_begin * 128, *q1 = q0 + a->q_stride;
        int8_t *out = qp + p * blocks * 256;
        for (size_t k = 0; k < blocks * 128; k += 16, out += 32) {
            int64x2_t x0 = vreinterpretq_s64_s8(vld1q_s8(q0 + k)), x1 = vreinterpretq_s64_s8(vld1q_s8(q1 + k));
            vst1q_s8(out, vreinterpretq_s8_s64(vzip1q_s64(x0, x1)));
            vst1q_s8(out + 16, vreinterpretq_s8_s64(vzip2q_s64(x0, x1)));
        }
    }
}

/* Rows 2h and 2h+1 of a tile against NP (1..4) token pairs from pair p0:
 * dots[2e + j][2h + i] = row 2h+i . token 2(p0+e)+j. The 16 code registers of
 * a block are built once and serve every pair; two accumulators per pair
 * (columns 0-63, 64-127) keep the SMMLA chains short. */
BNK_I8MM static inline __attribute__((always_inline)) void
row_pair_i8mm(const bnk_ternary_args *a, size_t tile, int h, const int8_t *qp, size_t blocks, size_t p0,
              const int NP, int32_t dots[8][BNK_TILE_ROWS]) {
    const uint8x16_t m = vdupq_n_u8(3);
    const uint8_t *w = a->packed + (tile * a->blocks_per_row + a->block_begin) * 128 + h * 64;
    int32x4_t lo[4], hi[4];
    for (int e = 0; e < NP; e++) lo[e] = hi[e] = vdupq_n_s32(0);
    for (size_t b = 0; b < blocks; b++, w += 128) {
        bnk_prefetch_stream(w);
        const uint64x2_t r0a = vld1q_u64((const uint64_t *)w), r0b = vld1q_u64((const uint64_t *)(w + 16));
        const uint64x2_t r1a = vld1q_u64((const uint64_t *)(w + 32)), r1b = vld1q_u64((const uint64_t *)(w + 48));
        /* p[k]: bytes 8k..8k+7 of row 2h, then the same bytes of row 2h+1. */
        const uint8x16_t p[4] = {vreinterpretq_u8_u64(vzip1q_u64(r0a, r1a)), vreinterpretq_u8_u64(vzip2q_u64(r0a, r1a)),
                                 vreinterpretq_u8_u64(vzip1q_u64(r0b, r1b)), vreinterpretq_u8_u64(vzip2q_u64(r0b, r1b))};
        /* c[f][k]: the codes of columns 32f + 8k .. +7 (column group 4f + k) of both rows. */
        int8x16_t c[4][4];
        for (int k = 0; k < 4; k++) {
            c[0][k] = vreinterpretq_s8_u8(vshrq_n_u8(p[k], 6));
            c[1][k] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(p[k], 4), m));
            c[2][k] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(p[k], 2), m));
            c[3][k] = vreinterpretq_s8_u8(vandq_u8(p[k], m));
        }
        for (int e = 0; e < NP; e++) {
            const int8_t *qb = qp + ((p0 + e) * blocks + b) * 256;
            for (int f = 0; f < 2; f++)
                for (int k = 0; k < 4; k++) lo[e] = vmmlaq_s32(lo[e], c[f][k], vld1q_s8(qb + (4 * f + k) * 16));
            for (int f = 2; f < 4; f++)
                for (int k = 0; k < 4; k++) hi[e] = vmmlaq_s32(hi[e], c[f][k], vld1q_s8(qb + (4 * f + k) * 16));
        }
    }
    for (int e = 0; e < NP; e++) {
        /* Lanes of the 2x2 tile: (row 2h, token 2p), (2h, 2p+1), (2h+1, 2p), (2h+1, 2p+1). */
        int32x4_t s = vaddq_s32(lo[e], hi[e]);
        dots[2 * e][2 * h] = vgetq_lane_s32(s, 0);
        dots[2 * e + 1][2 * h] = vgetq_lane_s32(s, 1);
        dots[2 * e][2 * h + 1] = vgetq_lane_s32(s, 2);
        dots[2 * e + 1][2 * h + 1] = vgetq_lane_s32(s, 3);
    }
}

BNK_I8MM static void matmul_i8mm(const bnk_ternary_args *a) {
    const size_t pairs = a->n_tokens / 2, blocks = a->block_end - a->block_begin;
    /* The scratch is as large as the pairs' activations (at most 2^20 tokens x
     * 2^20 columns by the Swift-side limits, far below SIZE_MAX / 2). When it
     * cannot be had, the dotprod loop gives the same bits. */
    int8_t *qp = blocks > 0 && pairs <= SIZE_MAX / 256 / blocks ? malloc(pairs * blocks * 256) : NULL;
    if (qp == NULL) {
        matmul_dotprod(a);
        return;
    }
    interleave_pairs(a, pairs, blocks, qp);
    const size_t tile_begin = a->row_begin / BNK_TILE_ROWS;
    const size_t tile_end = (a->row_end + BNK_TILE_ROWS - 1) / BNK_TILE_ROWS;
    for (size_t tile = tile_begin; tile < tile_end; tile++) {
        const size_t row0 = tile * BNK_TILE_ROWS;
        for (size_t p = 0; p < pairs; p += 4) {
            const size_t np = pairs - p < 4 ? pairs - p : 4;
            int32_t dots[8][BNK_TILE_ROWS];
            for (int h = 0; h < 2; h++) {
                if (!row_in_range(a, row0 + 2 * h) && !row_in_range(a, row0 + 2 * h + 1)) continue;
                switch (np) {
                case 4: row_pair_i8mm(a, tile, h, qp, blocks, p, 4, dots); break;
                case 3: row_pair_i8mm(a, tile, h, qp, blocks, p, 3, dots); break;
                case 2: row_pair_i8mm(a, tile, h, qp, blocks, p, 2, dots); break;
                default: row_pair_i8mm(a, tile, h, qp, blocks, p, 1, dots); break;
                }
            }
            for (size_t t = 0; t < 2 * np; t++)
                for (int i = 0; i < BNK_TILE_ROWS; i++)
                    if (row_in_range(a, row0 + i)) store_row(a, row0 + i, 2 * p + t, dots[t][i]);
        }
    }
    free(qp);
    if (a->n_tokens % 2) {
        /* The odd last token on its own. */
        const size_t t = a->n_tokens - 1;
        bnk_ternary_args last = *a;
        last.q = a->q + t * a->q_stride;
        last.q_sum = a->q_sum + t;
        last.inv_scale = a->inv_scale + t;
        last.y = a->y + t * a->y_stride;
        last.n_tokens = 1;
        matvec_dotprod(&last);
    }
}

BNK_I8MM void bnk_ternary_neon_i8mm(const bnk_ternary_args *a) {
    if (a->row_begin >= a->row_end || a->n_tokens == 0) return;
    if (a->n_tokens == 1) matvec_dotprod(a);
    else matmul_i8mm(a);
}

#else
/* Not AArch64: bnk_cpu_has_neon*() return 0, so these are never called; they exist so the symbols link. */
void bnk_ternary_neon(const bnk_ternary_args *a) { (void)a; }
void bnk_ternary_neon_dotprod(const bnk_ternary_args *a) { (void)a; }
void bnk_ternary_neon_i8mm(const bnk_ternary_args *a) { (void)a; }
#endif
