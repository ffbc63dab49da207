/* The parts of the Q8_0 requantization (quantize_q8_0.c) that do not depend
 * on the instruction set: the block constants, the move into the split
 * layout, and the row loops each architecture's block encoder plugs into. */
#ifndef BNK_Q8_0_ROWS_H
#define BNK_Q8_0_ROWS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define Q8_BLOCK_BYTES 34
#define F32_INF_BITS 0x7f800000
#define F16_INF_BITS 0x7c00

/* ---- Row loops: ggml blocks, or the split layout ---- */

/* Moves n <= 16 ggml blocks of one group into the split layout (see
   bitnet_kernels.h): a full group of 16 is interleaved by value pair, a
   shorter one (a row's tail) keeps each block's 32 quants together. */
static inline void split_group(const uint8_t *blocks, size_t n, int8_t *quants, uint16_t *scales) {
    for (size_t i = 0; i < n; i++) memcpy(scales + i, blocks + i * Q8_BLOCK_BYTES, 2);
    if (n == 16) {
        for (size_t i = 0; i < 16; i++)
            for (size_t t = 0; t < 16; t++) memcpy(quants + t * 32 + 2 * i, blocks + i * Q8_BLOCK_BYTES + 2 + 2 * t, 2);
    } else {
        for (size_t i = 0; i < n; i++) memcpy(quants + 32 * i, blocks + i * Q8_BLOCK_BYTES + 2, 32);
    }
}

#define BNK_QUANTIZE_ROWS(name, target, type, encode)                                                       \
    target size_t name(const type *src, size_t cols, size_t row_begin, size_t row_end, uint8_t *dst) {      \
        size_t blocks = cols / 32;                                                                           \
        for (size_t r = row_begin; r < row_end; r++)                                                         \
            if (!encode(src + r * cols, blocks, dst + r * blocks * Q8_BLOCK_BYTES)) return r;                \
        return row_end;                                                                                      \
    }

/* Each group is encoded into a small buffer that stays in L1, then moved. */
#define BNK_QUANTIZE_ROWS_SPLIT(name, target, type, encode)                                                 \
    target size_t name(const type *src, size_t cols, size_t row_begin, size_t row_end, int8_t *quants,      \
                       uint16_t *scales) {                                                                   \
        size_t blocks = cols / 32;                                                                           \
        uint8_t group[16 * Q8_BLOCK_BYTES];                                                                  \
        for (size_t r = row_begin; r < row_end; r++) {                                                       \
            for (size_t b = 0; b < blocks; b += 16) {                                                        \
                size_t n = blocks - b < 16 ? blocks - b : 16;                                                \
                if (!encode(src + r * cols + 32 * b, n, group)) return r;                                    \
                split_group(group, n, quants + r * cols + 32 * b, scales + r * blocks + b);                  \
            }                                                                                                \
        }                                                                                                    \
        return row_end;                                                                                      \
    }

#endif
