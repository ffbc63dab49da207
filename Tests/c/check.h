/* A minimal test harness: CHECK never aborts, it counts and reports. */
#ifndef BITNET_TEST_CHECK_H
#define BITNET_TEST_CHECK_H
#include <stdio.h>

static int check_failures = 0;
#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            check_failures++;                                                    \
        }                                                                        \
    } while (0)
#define CHECK_DONE() (check_failures == 0 ? 0 : (fprintf(stderr, "%d checks failed\n", check_failures), 1))
#endif
