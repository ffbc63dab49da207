/* The AVX-512 intrinsics of Sources/CBitNetKernels on an AVX2 host, for
 * `make test-avx512-emulated` only (x86_target.h includes this when the build
 * defines BNK_EMULATED_AVX512; the shipped library never does).
 *
 * SIMDe (Debian's libsimde-dev) provides portable versions of the _mm512
 * intrinsics, built here on native AVX2 / FMA / F16C halves. The few that
 * Debian 12's SIMDe (0.7.4) lacks or gets wrong are written below, lane by
 * lane, from the operation each one is documented to perform in Intel's
 * intrinsics guide: plain loops, so they are easy to check by reading. Where an operation has
 * an order (the float reduction), it is the order the hardware sequence that
 * clang emits uses, so the kernels' bits are the ones a real AVX-512 CPU gives.
 *
 * Include after <immintrin.h>: clang's header declares the real intrinsics
 * (which need the avx512 target); the macros below and SIMDe's native aliases
 * route every call to the portable versions instead. */
#ifndef BNK_AVX512_EMULATION_H
#define BNK_AVX512_EMULATION_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>

#define BNK_EMU static inline __attribute__((always_inline))

/* Lane arrays in and out of the 512-bit types. */
#define BNK_EMU_LANES(type, name, value) type name[64 / sizeof(type)]; memcpy(name, &(value), 64)
#define BNK_EMU_PACK(vtype, lanes) ({ vtype packed_; memcpy(&packed_, (lanes), 64); packed_; })

/* An element-wise operation on 16 lanes: `from` x[i] in (a vector `vin`), `to` y[i] = expr out. */
#define BNK_EMU_MAP16(name, vin, from, vout, to, expr)                  \
    BNK_EMU vout name(vin a) {                                          \
        from x[16];                                                     \
        to y[16];                                                       \
        memcpy(x, &a, sizeof x);                                        \
        for (int i = 0; i < 16; i++) y[i] = (expr);                     \
        vout out;                                                       \
        memcpy(&out, y, sizeof y);                                      \
        return out;                                                     \
    }

/* Within each 128-bit lane, element i takes element (imm >> 2i) & 3 of the same lane. */
BNK_EMU simde__m512 bnk_emu_permute_ps(simde__m512 a, int imm) {
    BNK_EMU_LANES(float, x, a);
    float y[16];
    for (int i = 0; i < 16; i++) y[i] = x[(i & ~3) + ((imm >> (2 * (i & 3))) & 3)];
    return BNK_EMU_PACK(simde__m512, y);
}
#undef _mm512_permute_ps
#define _mm512_permute_ps(a, imm) bnk_emu_permute_ps((a), (imm))
/* The same movement of 32-bit elements (moving bits is exact for any type). */
#undef _mm512_shuffle_epi32
#define _mm512_shuffle_epi32(a, imm) _mm512_castps_si512(bnk_emu_permute_ps(_mm512_castsi512_ps(a), (int)(imm)))

/* 128-bit lanes 0, 1 from a (selected by imm bits 1:0, 3:2), lanes 2, 3 from b (bits 5:4, 7:6). */
BNK_EMU simde__m512i bnk_emu_shuffle_i64x2(simde__m512i a, simde__m512i b, int imm) {
    BNK_EMU_LANES(int64_t, x, a);
    BNK_EMU_LANES(int64_t, z, b);
    int64_t y[8];
    for (int lane = 0; lane < 4; lane++) {
        const int64_t *from = lane < 2 ? x : z;
        int pick = (imm >> (2 * lane)) & 3;
        y[2 * lane] = from[2 * pick];
        y[2 * lane + 1] = from[2 * pick + 1];
    }
    return BNK_EMU_PACK(simde__m512i, y);
}
#undef _mm512_shuffle_i64x2
#define _mm512_shuffle_i64x2(a, b, imm) bnk_emu_shuffle_i64x2((a), (b), (imm))

/* Arithmetic shift; a count above 31 fills with the sign. */
BNK_EMU simde__m512i bnk_emu_srai_epi32(simde__m512i a, unsigned int count) {
    BNK_EMU_LANES(int32_t, x, a);
    for (int i = 0; i < 16; i++) x[i] = count > 31 ? (x[i] < 0 ? -1 : 0) : x[i] >> count;
    return BNK_EMU_PACK(simde__m512i, x);
}
#undef _mm512_srai_epi32
#define _mm512_srai_epi32(a, count) bnk_emu_srai_epi32((a), (count))

BNK_EMU simde__mmask16 bnk_emu_cmplt_epi32_mask(simde__m512i a, simde__m512i b) {
    BNK_EMU_LANES(int32_t, x, a);
    BNK_EMU_LANES(int32_t, z, b);
    simde__mmask16 k = 0;
    for (int i = 0; i < 16; i++) k |= (simde__mmask16)((x[i] < z[i]) << i);
    return k;
}
#undef _mm512_cmplt_epi32_mask
#define _mm512_cmplt_epi32_mask(a, b) bnk_emu_cmplt_epi32_mask((a), (b))

/* 16 halves to floats: exact, so two native F16C conversions give the same bits. */
BNK_EMU simde__m512 bnk_emu_cvtph_ps(__m256i h) {
    __m256 lo = _mm256_cvtph_ps(_mm256_castsi256_si128(h)), hi = _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1));
    float y[16];
    memcpy(y, &lo, 32);
    memcpy(y + 8, &hi, 32);
    return BNK_EMU_PACK(simde__m512, y);
}
#undef _mm512_cvtph_ps
#define _mm512_cvtph_ps(h) bnk_emu_cvtph_ps(h)

/* Round to 2^-M steps (M = imm bits 7:4) in the mode of bits 1:0 (0 nearest even,
 * 1 down, 2 up, 3 toward zero; bit 2: the current mode, nearest by default).
 * Written here although SIMDe has it: 0.7.4 takes M from the wrong bits
 * (roundscale(2.7, toward zero) gave 2.625). A value whose scaled magnitude
 * is 2^23 or more (or infinite, or NaN) is already a multiple of 2^-M. */
BNK_EMU simde__m512 bnk_emu_roundscale_ps(simde__m512 a, int imm) {
    BNK_EMU_LANES(float, x, a);
    const float scale = (float)(1 << ((imm >> 4) & 15));
    for (int i = 0; i < 16; i++) {
        float s = x[i] * scale;
        if (!(fabsf(s) < 8388608.0f)) continue;
        switch ((imm & 4) ? 0 : imm & 3) {
        case 0: s = nearbyintf(s); break;
        case 1: s = floorf(s); break;
        case 2: s = ceilf(s); break;
        default: s = truncf(s); break;
        }
        x[i] = s / scale;
    }
    return BNK_EMU_PACK(simde__m512, x);
}
#undef _mm512_roundscale_ps
#define _mm512_roundscale_ps(a, imm) bnk_emu_roundscale_ps((a), (imm))

/* Truncation toward zero; NaN and out-of-range give the "integer indefinite" 0x80000000. */
BNK_EMU_MAP16(bnk_emu_cvttps_epi32, simde__m512, float, simde__m512i, int32_t,
              x[i] > -2147483904.0f && x[i] < 2147483648.0f ? (int32_t)x[i] : INT32_MIN)
#undef _mm512_cvttps_epi32
#define _mm512_cvttps_epi32(a) bnk_emu_cvttps_epi32(a)

/* int32 to float, rounded to nearest even as the conversion in C is (default rounding mode). */
BNK_EMU_MAP16(bnk_emu_cvtepi32_ps, simde__m512i, int32_t, simde__m512, float, (float)x[i])
#undef _mm512_cvtepi32_ps
#define _mm512_cvtepi32_ps(a) bnk_emu_cvtepi32_ps(a)

/* 16 signed bytes widened to int32. */
BNK_EMU_MAP16(bnk_emu_cvtepi8_epi32, __m128i, int8_t, simde__m512i, int32_t, x[i])
#undef _mm512_cvtepi8_epi32
#define _mm512_cvtepi8_epi32(a) bnk_emu_cvtepi8_epi32(a)

/* The low byte of each 32-bit lane (vpmovdb truncates, it does not saturate). */
BNK_EMU_MAP16(bnk_emu_cvtepi32_epi8, simde__m512i, int32_t, __m128i, int8_t, (int8_t)(uint8_t)((uint32_t)x[i] & 0xFF))
#undef _mm512_cvtepi32_epi8
#define _mm512_cvtepi32_epi8(a) bnk_emu_cvtepi32_epi8(a)

/* Masked loads and stores touch only the selected elements (the hardware
 * suppresses faults on the others, and the kernels rely on it at the ends of
 * rows); a masked load zeroes the rest. */
BNK_EMU void bnk_emu_load_selected(float *lanes, const void *p, unsigned int k, int n) {
    for (int i = 0; i < n; i++) lanes[i] = (k >> i) & 1 ? ((const float *)p)[i] : 0.0f;
}
BNK_EMU void bnk_emu_store_selected(void *p, const float *lanes, unsigned int k, int n) {
    for (int i = 0; i < n; i++)
        if ((k >> i) & 1) ((float *)p)[i] = lanes[i];
}

BNK_EMU simde__m512 bnk_emu_maskz_loadu_ps(simde__mmask16 k, const void *p) {
    float y[16];
    bnk_emu_load_selected(y, p, k, 16);
    return BNK_EMU_PACK(simde__m512, y);
}
#undef _mm512_maskz_loadu_ps
#define _mm512_maskz_loadu_ps(k, p) bnk_emu_maskz_loadu_ps((k), (p))

BNK_EMU void bnk_emu_mask_storeu_ps(void *p, simde__mmask16 k, simde__m512 a) {
    BNK_EMU_LANES(float, x, a);
    bnk_emu_store_selected(p, x, k, 16);
}
#undef _mm512_mask_storeu_ps
#define _mm512_mask_storeu_ps(p, k, a) bnk_emu_mask_storeu_ps((p), (k), (a))

BNK_EMU __m128 bnk_emu_maskz_loadu_ps_128(uint8_t k, const void *p) {
    float y[4];
    bnk_emu_load_selected(y, p, k, 4);
    return _mm_loadu_ps(y);
}
#undef _mm_maskz_loadu_ps
#define _mm_maskz_loadu_ps(k, p) bnk_emu_maskz_loadu_ps_128((k), (p))

BNK_EMU void bnk_emu_mask_storeu_ps_128(void *p, uint8_t k, __m128 a) {
    float x[4];
    _mm_storeu_ps(x, a);
    bnk_emu_store_selected(p, x, k, 4);
}
#undef _mm_mask_storeu_ps
#define _mm_mask_storeu_ps(p, k, a) bnk_emu_mask_storeu_ps_128((p), (k), (a))

/* The float sum in the order of clang's sequence for _mm512_reduce_add_ps
 * (vextractf64x4, vextractf128, vshufpd, vmovshdup, each followed by an add):
 * the upper half added onto the lower, 16 -> 8 -> 4 -> 2 -> 1. */
BNK_EMU float bnk_emu_reduce_add_ps(simde__m512 a) {
    BNK_EMU_LANES(float, x, a);
    for (int width = 8; width >= 1; width /= 2)
        for (int i = 0; i < width; i++) x[i] = x[i] + x[i + width];
    return x[0];
}
#undef _mm512_reduce_add_ps
#define _mm512_reduce_add_ps(a) bnk_emu_reduce_add_ps(a)

/* Integer reductions: any order gives the same result (wrapping adds). */
BNK_EMU int64_t bnk_emu_reduce_add_epi64(simde__m512i a) {
    BNK_EMU_LANES(uint64_t, x, a);
    uint64_t sum = 0;
    for (int i = 0; i < 8; i++) sum += x[i];
    return (int64_t)sum;
}
#undef _mm512_reduce_add_epi64
#define _mm512_reduce_add_epi64(a) bnk_emu_reduce_add_epi64(a)

BNK_EMU int32_t bnk_emu_reduce_max_epi32(simde__m512i a) {
    BNK_EMU_LANES(int32_t, x, a);
    int32_t m = x[0];
    for (int i = 1; i < 16; i++) m = x[i] > m ? x[i] : m;
    return m;
}
#undef _mm512_reduce_max_epi32
#define _mm512_reduce_max_epi32(a) bnk_emu_reduce_max_epi32(a)

#endif
