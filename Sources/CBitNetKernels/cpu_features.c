/* Runtime CPU feature detection for kernel dispatch. __builtin_cpu_supports
 * also checks that the OS saves the wider registers (XGETBV). */
#include "bitnet_kernels.h"

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
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni")
               ? 1
               : 0;
#else
    return 0;
#endif
}
