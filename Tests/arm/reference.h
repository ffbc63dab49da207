/* Plain C twins of the Swift reference kernels (Sources/BitNet), written to
 * follow them operation for operation: the Swift references are the spec the
 * x86 kernels are tested against, and no AArch64 Swift toolchain exists on the
 * test machine, so these stand in for them. Built with -ffp-contract=off (a
 * Swift `a * b + c` is two roundings); `fmaf` wherever Swift says
 * `addingProduct` or an x86 kernel uses one fused multiply-add. */
#ifndef BNK_ARM_REFERENCE_H
#define BNK_ARM_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

#include "bitnet_attention.h"
#include "bitnet_kernels.h"

/* HalfPrecision.float(fromHalf:) and Float16(_:).bitPattern, in software:
 * exact, and round to nearest even. A NaN keeps its sign and the top payload
 * bits and comes out quiet, as FCVT, F16C and compiler-rt all do. */
float ref_half_to_float(uint16_t h);
uint16_t ref_float_to_half(float f);

/* TernaryReferenceKernel.run (TernaryProduct.swift). */
void ref_ternary(const bnk_ternary_args *a);

/* FloatOps.sumOfSquaresReference, QuantizedActivations.quantizeRowReference. */
double ref_sum_squares(const float *x, size_t n);
float ref_quantize_row(const float *v, size_t n, int8_t *q, int32_t *sum);

/* DenseMatrix.multiply's reference branch: row r dequantized (row(_:into:)),
 * then sum += row[k] * x[k] in order. kind: 0 F32, 1 F16, 2 Q8_0 (34-byte blocks). */
void ref_dense_dot(int kind, const void *e, size_t cols, size_t row_begin, size_t row_end, const float *x, float *y);

/* q8_0SplitOffset(ofValue:interleavedBlocks:) and multiplyQ8_0SplitReference. */
size_t ref_split_offset(size_t k, size_t interleaved_blocks);
void ref_dot_q8_0_split(const int8_t *quants, const uint16_t *scales, size_t cols, size_t row_begin, size_t row_end,
                        const int16_t *x, float x_scale, float *y);

/* quantizeRowsToQ8_0Reference / quantizeRowsToQ8_0SplitReference: rows of F16
 * (is_f16) or F32 source; returns row_end, or the first row with no encoding. */
size_t ref_quantize_q8_0(const void *src, int is_f16, size_t cols, size_t row_begin, size_t row_end, uint8_t *dst);
size_t ref_quantize_q8_0_split(const void *src, int is_f16, size_t cols, size_t row_begin, size_t row_end,
                               int8_t *quants, uint16_t *scales);

/* HalfVector / KVQuantization dotReference (sum += a * b in order), and axpy
 * in the form the SIMD kernels compute it, one fmaf per element (the Swift
 * axpyReference rounds twice; ref_axpy_* with fused = 0 is that form). */
float ref_dot_f16(const uint16_t *a, const float *b, size_t n);
void ref_axpy_f16(float alpha, const uint16_t *x, float *y, size_t n, int fused);
float ref_dot_i8(const int8_t *a, const float *b, size_t n);
void ref_axpy_i8(float alpha, const int8_t *x, float *y, size_t n, int fused);

/* AttentionTile.stepReference and its expNonPositive. */
float ref_exp_nonpositive(float x);
void ref_attention_step(const float *qt, size_t rp, const float *k, const float *v, size_t count, size_t dim,
                        const int32_t *limit, float *row_max, float *row_sum, float *output, float *scratch);

/* BandwidthProbe.sumWordsReference. */
uint64_t ref_sum_words(const uint64_t *p, size_t n);

#endif
