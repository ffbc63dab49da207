/*
 * Half-precision vector helpers for the KV cache and f16 weights. Swift's
 * Float16 conversions compile to software routines here (no F16C without a
 * global -march), 4-9 ns per element; these use F16C + FMA, or NEON on
 * AArch64. Callers check bnk_cpu_has_avx2() / bnk_cpu_has_neon() first; the
 * Swift reference is the fallback.
 */
#ifndef BITNET_F16_H
#define BITNET_F16_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Σ a[i]·b[i] with a in IEEE half (raw bits). */
float bnk_dot_f16_f32_avx2(const uint16_t *a, const float *b, size_t n);
/** y[i] += alpha·x[i] with x in IEEE half (raw bits). */
void bnk_axpy_f16_f32_avx2(float alpha, const uint16_t *x, float *y, size_t n);
/** dst[i] = half(src[i]), round to nearest even. */
void bnk_f32_to_f16_avx2(const float *src, uint16_t *dst, size_t n);
/** dst[i] = float(src[i]). */
void bnk_f16_to_f32_avx2(const uint16_t *src, float *dst, size_t n);

/* The same four on AArch64 (plain NEON: half conversions are baseline there),
 * with the same results: conversions exact / round to nearest even, axpy one
 * fused multiply-add per element, dot summed in a different order. */
float bnk_dot_f16_f32_neon(const uint16_t *a, const float *b, size_t n);
void bnk_axpy_f16_f32_neon(float alpha, const uint16_t *x, float *y, size_t n);
void bnk_f32_to_f16_neon(const float *src, uint16_t *dst, size_t n);
void bnk_f16_to_f32_neon(const uint16_t *src, float *dst, size_t n);

#ifdef __cplusplus
}
#endif

#endif
