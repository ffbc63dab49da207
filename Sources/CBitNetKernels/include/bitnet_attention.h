/*
 * One key tile of online-softmax ("flash") attention, the inner loop of the
 * tiled prefill attention in Swift (Sources/BitNet/Inference/TiledAttention.swift,
 * whose AttentionTile.stepReference is the plain twin of this kernel).
 *
 * Why it is in C: Swift compiles without AVX here, so it gets neither FMA
 * nor a vector exp, and this loop is the whole cost of attention over a long
 * prompt. Callers check bnk_cpu_has_avx512vnni() (which implies AVX-512 F),
 * bnk_cpu_has_avx2() or bnk_cpu_has_neon() first. Every version and the Swift
 * twin give the same bits: each row is one vector lane doing the same
 * operations in the same order.
 *
 * Shapes (rows_padded and dim are multiples of 16):
 *   qt[d * rows_padded + r]  query rows, transposed, already times the score scale
 *   k[j * dim + d], v[j * dim + d]   the tile's keys and values, j < keys
 *   limit[r]   row r sees keys j < limit[r] (0: none of this tile, row untouched)
 *   row_max[r], row_sum[r], o[r * dim + d]   running state, updated in place:
 *     s[j][r]    = sum_d k[j][d] * qt[d][r]
 *     m'         = max(row_max[r], max_{j < limit[r]} s[j][r])
 *     c          = exp(row_max[r] - m')       (1 while the row has seen no key)
 *     p[j][r]    = exp(s[j][r] - m') for j < limit[r], else 0
 *     row_sum[r] = row_sum[r] * c + sum_j p[j][r]
 *     o[r][:]    = o[r][:] * c + sum_j p[j][r] * v[j][:]
 *     row_max[r] = m'
 * Start a row with row_max = -infinity, row_sum = 0, o = 0; its attention
 * output is o[r] / row_sum[r] after the last tile. Every sum runs in
 * increasing j (d for scores), so a row's result depends only on its own
 * inputs and limits, not on which other rows share the call.
 *   scratch: keys * rows_padded + rows_padded floats.
 *   next: NULL, or the cache rows of the NEXT key tile; the kernel prefetches
 *         them while it computes, so their memory reads overlap this tile's
 *         arithmetic (decode is otherwise stalled on the KV cache). It reads
 *         nothing through them and does not change any result.
 */
#ifndef BITNET_ATTENTION_H
#define BITNET_ATTENTION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Rows row i of the next tile: keys + i * stride .. + row_bytes (and values), i < rows. */
typedef struct {
    const uint8_t *keys;
    const uint8_t *values;
    size_t stride;
    size_t rows;
    size_t row_bytes;
} bnk_attention_prefetch;

/* Converts `rows` f16 cache rows (keys and values, `stride` halves apart) of
 * `dim` halves to f32 rows `out_stride` floats apart: a whole key tile in one
 * call instead of two per key. Needs F16C (any CPU the AVX2 kernels run on)
 * on x86, NEON on AArch64; the conversion is exact, so it matches every other
 * f16 -> f32 path. */
void bnk_attention_stage_f16(const uint16_t *k, const uint16_t *v, size_t stride, size_t rows, size_t dim,
                             float *k_out, float *v_out, size_t out_stride);
/* The same for every head of `rows` whole cache rows (`heads` x `dim` halves,
 * `stride` halves apart): head g of row i goes to out + g * head_stride +
 * i * out_stride. Decode reads a tile's rows for all KV heads this way, one
 * contiguous stretch in row order with a software prefetch ahead
 * (stream_prefetch.h), instead of head by head in strided 256-byte pieces. */
void bnk_attention_stage_f16_heads(const uint16_t *k, const uint16_t *v, size_t stride, size_t rows,
                                   size_t heads, size_t dim, float *k_out, float *v_out, size_t out_stride,
                                   size_t head_stride);

void bnk_attention_tile_avx512(const float *qt, size_t rows_padded, const float *k, const float *v,
                               size_t keys, size_t dim, const int32_t *limit,
                               float *row_max, float *row_sum, float *o, float *scratch,
                               const bnk_attention_prefetch *next);
void bnk_attention_tile_avx2(const float *qt, size_t rows_padded, const float *k, const float *v,
                             size_t keys, size_t dim, const int32_t *limit,
                             float *row_max, float *row_sum, float *o, float *scratch,
                             const bnk_attention_prefetch *next);
/* AArch64, plain NEON (check bnk_cpu_has_neon()); the same bits as the others. */
void bnk_attention_tile_neon(const float *qt, size_t rows_padded, const float *k, const float *v,
                             size_t keys, size_t dim, const int32_t *limit,
                             float *row_max, float *row_sum, float *o, float *scratch,
                             const bnk_attention_prefetch *next);

/* The tile step for one decode position of a KV head with exactly four
 * query rows, the same bits as bnk_attention_tile_avx512 with rows_padded 16
 * (rows 0..3 share `limit`, rows 4..15 are not touched), with (row, key)
 * pairs in the vector lanes instead of rows; attention_decode4.c. Needs
 * bnk_attention_decode4_scratch(keys, dim) floats of scratch.
 * qrep: the four rows' queries in the lanes' layout, each row's query 4
 * times: qrep[16 d + 4 r + j] = query r at dimension d, for j = 0..3 (the
 * tile kernel's qt holds it once, at qt[16 d + r]). The caller builds it
 * once per position, so the kernel does not rebuild it on every tile. */
size_t bnk_attention_decode4_scratch(size_t keys, size_t dim);
void bnk_attention_decode4_avx512(const float *qrep, const float *k, const float *v, size_t keys, size_t dim,
                                  int32_t limit, float *row_max, float *row_sum, float *o, float *scratch);
/* The same with AVX2 + FMA (the bits of bnk_attention_tile_avx2, which are the same). */
void bnk_attention_decode4_avx2(const float *qrep, const float *k, const float *v, size_t keys, size_t dim,
                                int32_t limit, float *row_max, float *row_sum, float *o, float *scratch);
/* bnk_attention_decode4_avx2 reading one KV head's f16 cache rows in place
 * (`stride` halves apart, dim halves each) instead of staged f32 rows: the
 * same floats (the conversion is exact), so the same bits, without the
 * staging pass. next: NULL, or the rows the NEXT call will read (the next
 * KV head of this tile, or the first head of the next tile); the kernel
 * prefetches them a line pair at a time while it computes, so decode's
 * cache reads overlap its arithmetic. It changes no result. */
void bnk_attention_decode4_f16_avx2(const float *qrep, const uint16_t *k, const uint16_t *v, size_t stride,
                                    size_t keys, size_t dim, int32_t limit, float *row_max, float *row_sum,
                                    float *o, float *scratch, const bnk_attention_prefetch *next);
/* The same reading in place with AVX-512 (the bits of bnk_attention_decode4_avx512). */
void bnk_attention_decode4_f16_avx512(const float *qrep, const uint16_t *k, const uint16_t *v, size_t stride,
                                      size_t keys, size_t dim, int32_t limit, float *row_max, float *row_sum,
                                      float *o, float *scratch, const bnk_attention_prefetch *next);

/* Merges state b of one row into state a (the caller computed the row's new
 * max M, scale_a = exp(max_a - M) and scale_b = exp(max_b - M)):
 *   a[d] = fma(b[d], scale_b, a[d] * scale_a)   for d < dim
 * The same bits in every version (one rounding for the product, one for the
 * fused add); attention_merge.c says why decode needs it. */
void bnk_attention_merge_avx512(float *a, float scale_a, const float *b, float scale_b, size_t dim);
void bnk_attention_merge_avx2(float *a, float scale_a, const float *b, float scale_b, size_t dim);
void bnk_attention_merge_neon(float *a, float scale_a, const float *b, float scale_b, size_t dim);

#ifdef __cplusplus
}
#endif

#endif
