/* The scalar tail of the int8 activation quantization, shared by the AVX2 and
 * NEON row kernels so both round the last n % 32 values exactly as the Swift
 * twin (QuantizedActivations.quantizeRowReference) does: scale, clamp to
 * [-128, 127], round half to even. Returns the sum of the values written. */
#ifndef BITNET_ACTIVATION_ROWS_TAIL_H
#define BITNET_ACTIVATION_ROWS_TAIL_H
#include <stddef.h>
#include <stdint.h>

static inline int32_t bnk_quantize_row_tail(const float *v, size_t i, size_t n, float s, int8_t *q) {
    const float magic = 12582912.0f; /* 1.5 · 2^23: adding and subtracting it rounds half to even */
    int32_t acc = 0;
    for (; i < n; i++) {
        float x = v[i] * s;
        float clampedHigh = x < 127.0f ? x : 127.0f;
        float clamped = clampedHigh > -128.0f ? clampedHigh : -128.0f;
        int32_t value = (int32_t)((clamped + magic) - magic);
        q[i] = (int8_t)value;
        acc += value;
    }
    return acc;
}
#endif
