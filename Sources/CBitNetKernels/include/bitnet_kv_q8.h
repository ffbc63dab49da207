/*
 * 8-bit KV cache helpers: attention reads keys and values stored as int8 with
 * one float scale per head. Swift converts int8 to float one element at a
 * time; these widen 8 lanes at once with AVX2 + FMA. Callers check
 * bnk_cpu_has_avx2() first; the Swift reference (KVQuantization) is the fallback.
 */
#ifndef BITNET_KV_Q8_H
#define BITNET_KV_Q8_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Σ a[i]·b[i] with a int8 (the caller multiplies by the head's scale). */
float bnk_dot_i8_f32_avx2(const int8_t *a, const float *b, size_t n);
/** y[i] += alpha·x[i] with x int8 (alpha already includes the head's scale). */
void bnk_axpy_i8_f32_avx2(float alpha, const int8_t *x, float *y, size_t n);
/** out[i] = scale·x[i]: one head of an 8-bit row as floats (one rounding, as in Swift). */
void bnk_scale_i8_f32_avx2(float scale, const int8_t *x, float *out, size_t n);
/* The same on AArch64 (plain NEON). */
void bnk_scale_i8_f32_neon(float scale, const int8_t *x, float *out, size_t n);
/* The dot and axpy on AArch64 (plain NEON): axpy one fused multiply-add per element. */
float bnk_dot_i8_f32_neon(const int8_t *a, const float *b, size_t n);
void bnk_axpy_i8_f32_neon(float alpha, const int8_t *x, float *y, size_t n);

#ifdef __cplusplus
}
#endif

#endif
