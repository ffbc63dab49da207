/* The target attribute of the AVX-512 kernel level (bitnet_kernels.h), in one
 * place. The level is dispatched only where bnk_cpu_has_avx512vnni() holds
 * (AVX-512 F, BW, VL and VNNI; every such CPU also has FMA and F16C), so every
 * AVX-512 function may use all of these. Include inside `#if defined(__x86_64__)`.
 *
 * BNK_EMULATED_AVX512 (set only by `make test-avx512-emulated`) builds the
 * level for an AVX2 host instead: the functions are compiled for AVX2, and
 * their _mm512 intrinsics come from SIMDe's portable implementations
 * (Tests/avx512/bnk_avx512_emulation.h, on the include path of that build
 * only), so the AVX-512 kernels run, and are tested against their reference
 * twins, on a machine without AVX-512. */
#ifndef BNK_X86_TARGET_H
#define BNK_X86_TARGET_H

#include <immintrin.h>

#if defined(BNK_EMULATED_AVX512)
#include <bnk_avx512_emulation.h>
#define BNK_AVX512 __attribute__((target("avx2,fma,f16c")))
#else
#define BNK_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,fma,f16c")))
#endif

/* BNK_AVX512 for the kernels built on vpdpwssd (the int16 LM head). Under
 * its default tuning clang rewrites most vpdpwssd as vpmaddwd + vpaddd,
 * which shortens one dependency chain on some Intel cores but doubles the
 * vector instructions; these kernels run 8 to 32 independent chains, so the
 * split only costs. Zen 4 tuning is the tuning that keeps the instruction
 * whole. On the Zen 4 guest, 2B4T head, 2 threads (tools/bench/lm_head.c):
 * 8 inputs 19.1 -> 16.3 ms; in L2, 1 thread, 4 inputs 69-78 -> 92 GMAC/s.
 * GCC never splits it, and the emulated build has no VNNI to keep. */
#if defined(__clang__) && __clang_major__ >= 16 && !defined(BNK_EMULATED_AVX512)
#define BNK_AVX512_DPWSSD __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,fma,f16c,tune=znver4")))
#else
#define BNK_AVX512_DPWSSD BNK_AVX512
#endif

#endif
