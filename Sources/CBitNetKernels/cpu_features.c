/* Runtime CPU feature detection for kernel dispatch. On x86
 * __builtin_cpu_supports also checks that the OS saves the wider registers
 * (XGETBV). On AArch64 the OS reports what it enables: the ELF auxiliary
 * vector on Linux, sysctl on Darwin. */
#include "bitnet_kernels.h"

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
/* The bit values of the Linux arm64 ABI (asm/hwcap.h), for C libraries whose headers lack them. */
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1UL << 13)
#endif
#elif defined(__aarch64__) && defined(__APPLE__)
#include <sys/sysctl.h>
#include <sys/types.h>

/* A hw.optional.* flag; 0 when the kernel does not know it (an older macOS). */
static int sysctl_flag(const char *name) {
    int value = 0;
    size_t size = sizeof value;
    return sysctlbyname(name, &value, &size, NULL, 0) == 0 && value != 0;
}
#endif

int bnk_cpu_has_avx2(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    /* The AVX2 set converts halves with F16C (f16_vec.c, attention staging). */
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c") ? 1 : 0;
#else
    return 0;
#endif
}

int bnk_cpu_has_avx512vnni(void) {
#if defined(BNK_EMULATED_AVX512)
    return bnk_cpu_has_avx2(); /* x86_target.h: the level is built for AVX2 hosts */
#elif defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni")
               ? 1
               : 0;
#else
    return 0;
#endif
}

int bnk_cpu_has_neon(void) {
#if defined(__aarch64__) && defined(__linux__)
    return (getauxval(AT_HWCAP) & HWCAP_ASIMD) ? 1 : 0;
#elif defined(__aarch64__)
    return 1; /* Advanced SIMD is mandatory on Apple silicon and in every AArch64 ABI we build for. */
#else
    return 0;
#endif
}

int bnk_cpu_has_neon_dotprod(void) {
#if defined(__aarch64__) && defined(__linux__)
    return bnk_cpu_has_neon() && (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) ? 1 : 0;
#elif defined(__aarch64__) && defined(__APPLE__)
    return sysctl_flag("hw.optional.arm.FEAT_DotProd");
#else
    return 0;
#endif
}

int bnk_cpu_has_neon_i8mm(void) {
#if defined(__aarch64__) && defined(__linux__)
    return bnk_cpu_has_neon_dotprod() && (getauxval(AT_HWCAP2) & HWCAP2_I8MM) ? 1 : 0;
#elif defined(__aarch64__) && defined(__APPLE__)
    return sysctl_flag("hw.optional.arm.FEAT_DotProd") && sysctl_flag("hw.optional.arm.FEAT_I8MM");
#else
    return 0;
#endif
}
