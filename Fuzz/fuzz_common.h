/* Shared helpers of the libFuzzer harnesses (C, against the public header).
 * A harness treats any BITNET_E_INTERNAL, any status outside the documented
 * range and any broken invariant as a finding: it calls abort(), which
 * libFuzzer records as a crash with the input that caused it. */
#ifndef BITNET_FUZZ_COMMON_H
#define BITNET_FUZZ_COMMON_H
#define _GNU_SOURCE
#include <bitnet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_ASSERT(cond)                                                                     \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "fuzz invariant failed at %s:%d: %s (last error: %s)\n", __FILE__, \
                    __LINE__, #cond, bitnet_last_error());                                    \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

/* Every status the API may return, internal errors excluded. */
static inline int fuzz_status_ok(int32_t rc) {
    return rc >= BITNET_E_BUFFER_TOO_SMALL && rc <= BITNET_DONE;
}
#define FUZZ_STATUS(rc) FUZZ_ASSERT(fuzz_status_ok(rc))

/* $BITNET_FIXTURES (set by Fuzz/run.sh), else Tests/Fixtures (run from the repository root). */
static inline const char *fuzz_fixture_path(const char *rel) {
    static char buf[2048];
    const char *dir = getenv("BITNET_FIXTURES");
    snprintf(buf, sizeof buf, "%s/%s", dir ? dir : "Tests/Fixtures", rel);
    return buf;
}

/* The input as a file that lives only in memory: /proc/self/fd/N of a memfd. */
typedef struct fuzz_memfile {
    int fd;
    char path[64];
} fuzz_memfile;

static inline int fuzz_memfile_open(fuzz_memfile *f, const uint8_t *data, size_t size) {
    f->fd = memfd_create("fuzz-input", 0);
    if (f->fd < 0) return -1;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(f->fd, data + done, size - done);
        if (n <= 0) { close(f->fd); return -1; }
        done += (size_t)n;
    }
    snprintf(f->path, sizeof f->path, "/proc/self/fd/%d", f->fd);
    return 0;
}

static inline void fuzz_memfile_close(fuzz_memfile *f) { close(f->fd); }

/* A little reader over the fuzz input, for harnesses that take decisions from it. */
typedef struct fuzz_input {
    const uint8_t *data;
    size_t size;
    size_t pos;
} fuzz_input;

static inline uint8_t fuzz_byte(fuzz_input *in) { return in->pos < in->size ? in->data[in->pos++] : 0; }
static inline uint32_t fuzz_u32(fuzz_input *in) {
    uint32_t v = 0;
    int i;
    for (i = 0; i < 4; i++) v = (v << 8) | fuzz_byte(in);
    return v;
}
static inline int fuzz_done(const fuzz_input *in) { return in->pos >= in->size; }
/* Up to max bytes of the input (may be fewer at its end). */
static inline const uint8_t *fuzz_bytes(fuzz_input *in, size_t max, size_t *got) {
    size_t left = in->size - (in->pos < in->size ? in->pos : in->size);
    *got = max < left ? max : left;
    const uint8_t *p = in->data + in->pos;
    in->pos += *got;
    return p;
}
/* Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF). */
static inline int fuzz_valid_utf8(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i], len, min, cp, k;
        if (c < 0x80) { i++; continue; }
        if ((c & 0xE0) == 0xC0) { len = 2; min = 0x80; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { len = 3; min = 0x800; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { len = 4; min = 0x10000; cp = c & 0x07; }
        else return 0;
        if (i + len > n) return 0;
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += len;
    }
    return 1;
}

#endif
