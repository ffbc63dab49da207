/* Target attributes of the AArch64 kernel levels (bitnet_kernels.h).
 *
 * Written as "arch=armv8.2-a+..." because that is the one spelling both GCC
 * (12: its arm_neon.h guards the SDOT/SMMLA intrinsics with exactly that
 * arch) and clang (16 and later) accept. Plain NEON needs no attribute:
 * Advanced SIMD is part of the AArch64 baseline. */
#ifndef BNK_NEON_TARGET_H
#define BNK_NEON_TARGET_H

#if defined(__aarch64__)
#include <arm_neon.h>

#define BNK_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))
#define BNK_I8MM __attribute__((target("arch=armv8.2-a+dotprod+i8mm")))

/* IEEE half (raw bits) to float, exact; the same instruction as the vector paths. */
static inline float bnk_half_to_float(uint16_t h) {
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}
#endif

#endif
