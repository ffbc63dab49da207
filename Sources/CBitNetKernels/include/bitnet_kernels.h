/*
 * CBitNetKernels — the SIMD inner loops that Swift cannot express well
 * (int8 x ternary dot products with maddubs / vpdpbusd). Everything else
 * (tiling, repacking, threading, float math) lives in the Swift core.
 *
 * Each kernel is compiled with a per-function target attribute, never with a
 * global -march, and is only called after the matching bnk_cpu_has_* check
 * succeeded. Symbols use the internal prefix `bnk_`: libbitnet.so exports
 * only `bitnet_*`.
 */
#ifndef BITNET_KERNELS_H
#define BITNET_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** 1 when the CPU and OS support AVX2 (with FMA/F16C), else 0. */
int bnk_cpu_has_avx2(void);
/** 1 when the CPU and OS support AVX-512 F/BW/VL with VNNI, else 0. */
int bnk_cpu_has_avx512vnni(void);

#ifdef __cplusplus
}
#endif

#endif
