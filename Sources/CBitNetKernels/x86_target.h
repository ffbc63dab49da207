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

#endif
