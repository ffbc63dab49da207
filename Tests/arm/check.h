/* A tiny harness for the AArch64 kernel tests: one "case" per kernel x level
 * x input family, each either passing or printing its first mismatch, and a
 * final "N passed, N failed" line that run.sh adds up. */
#ifndef BNK_ARM_CHECK_H
#define BNK_ARM_CHECK_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_passed, check_failed;

/* Ends a case: `mismatch` is NULL (pass) or the description of the first mismatch. */
static inline void check_case(const char *name, const char *mismatch) {
    if (mismatch == NULL) {
        check_passed++;
        printf("ok   %s\n", name);
    } else {
        check_failed++;
        printf("FAIL %s: %s\n", name, mismatch);
    }
}

/* Formats a mismatch into a static buffer (first one wins within a case). */
static inline const char *check_note(char *buffer, size_t size, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(buffer, size, format, args);
    va_end(args);
    return buffer;
}

static inline int check_summary(void) {
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed == 0 ? 0 : 1;
}

/* xorshift64*: deterministic inputs, the same under every compiler and CPU. */
typedef struct { uint64_t s; } check_rng;
static inline uint64_t rng_next(check_rng *r) {
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1DULL;
}
static inline int rng_int(check_rng *r, int lo, int hi) { /* inclusive */
    return lo + (int)(rng_next(r) % (uint64_t)(hi - lo + 1));
}
static inline float rng_float(check_rng *r, float lo, float hi) {
    return lo + (hi - lo) * (float)(rng_next(r) >> 40) / (float)(1 << 24);
}

static inline uint32_t float_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float bits_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint64_t double_bits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }

/* 64-byte aligned, zeroed (the packed ternary buffer must be aligned). */
static inline void *check_alloc(size_t bytes) {
    size_t rounded = (bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    memset(p, 0, rounded ? rounded : 64);
    return p;
}

#endif
