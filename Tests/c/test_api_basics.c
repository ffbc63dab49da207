/* Versions, status strings, last_error (per thread) and the log callback. */
#define _POSIX_C_SOURCE 200809L
#include <bitnet.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

static void test_versions(void) {
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", BITNET_VERSION_MAJOR, BITNET_VERSION_MINOR,
             BITNET_VERSION_PATCH);
    CHECK(strcmp(bitnet_version_string(), expected) == 0);
    CHECK(bitnet_version_number() == BITNET_VERSION_NUMBER);
    CHECK(bitnet_abi_version() == BITNET_ABI_VERSION);
    CHECK(strstr(bitnet_build_info(), "kernels:") != NULL);
    CHECK(strstr(bitnet_build_info(), "using ") != NULL);
}

static void test_status_strings(void) {
    int32_t code;
    CHECK(strstr(bitnet_status_string(BITNET_OK), "BITNET_OK") != NULL);
    CHECK(strstr(bitnet_status_string(BITNET_E_FORMAT), "BITNET_E_FORMAT") != NULL);
    for (code = BITNET_E_INTERNAL; code <= BITNET_DONE; code++) {
        CHECK(bitnet_status_string(code) != NULL);
        CHECK(strcmp(bitnet_status_string(code), "unknown status") != 0);
    }
    CHECK(strcmp(bitnet_status_string(12345), "unknown status") == 0);
    CHECK(strcmp(bitnet_status_string(-12345), "unknown status") == 0);
}

static void test_invalid_call_sets_last_error(void) {
    CHECK(bitnet_set_log_callback(NULL, NULL, 99) == BITNET_E_INVALID_ARGUMENT);
    CHECK(strlen(bitnet_last_error()) > 0);
    CHECK(strstr(bitnet_last_error(), "max_level") != NULL);
    CHECK(bitnet_set_log_callback(NULL, NULL, -1) == BITNET_E_INVALID_ARGUMENT);
}

/* Each thread makes a different failing call and must see its own message. */
struct thread_probe {
    int32_t level;
    int ok;
};

static void *probe_thread(void *arg) {
    struct thread_probe *probe = arg;
    char expected[64];
    int i;
    probe->ok = strcmp(bitnet_last_error(), "") == 0; /* fresh thread: empty */
    for (i = 0; i < 1000; i++) {
        bitnet_set_log_callback(NULL, NULL, probe->level);
        snprintf(expected, sizeof expected, "max_level %d ", (int)probe->level);
        if (strstr(bitnet_last_error(), expected) == NULL) probe->ok = 0;
    }
    return NULL;
}

static void test_last_error_is_per_thread(void) {
    struct thread_probe a = {17, 0}, b = {-23, 0};
    pthread_t ta, tb;
    CHECK(pthread_create(&ta, NULL, probe_thread, &a) == 0);
    CHECK(pthread_create(&tb, NULL, probe_thread, &b) == 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(a.ok);
    CHECK(b.ok);
    /* The main thread's own last message is untouched by the other threads. */
    CHECK(strstr(bitnet_last_error(), "max_level -1 ") != NULL);
}

struct log_capture {
    int count;
    char last[256];
};

static void capture_log(int32_t level, const char *message, void *user_data) {
    struct log_capture *capture = user_data;
    (void)level;
    capture->count++;
    strncpy(capture->last, message, sizeof capture->last - 1);
}

static void test_log_callback(void) {
    struct log_capture capture;
    memset(&capture, 0, sizeof capture);
    CHECK(bitnet_set_log_callback(capture_log, &capture, BITNET_LOG_DEBUG) == BITNET_OK);
    bitnet_set_log_callback(NULL, NULL, 42); /* fails: logged at debug level */
    CHECK(capture.count == 1);
    CHECK(strstr(capture.last, "max_level 42") != NULL);
    CHECK(bitnet_set_log_callback(NULL, NULL, BITNET_LOG_ERROR) == BITNET_OK); /* silence */
    bitnet_set_log_callback(NULL, NULL, 43);
    CHECK(capture.count == 1);
}

/* A program built against an older header has a shorter struct: the sized
 * init (what the bitnet_*_params_init macros call with this header's sizeof)
 * writes only its bytes, and says how many in `size`. */
#define CHECK_SIZED_INIT(type, init_sized, older_size)                               \
    do {                                                                             \
        unsigned char buffer[sizeof(type) + 16];                                     \
        uint32_t size;                                                               \
        size_t i;                                                                    \
        memset(buffer, 0xAB, sizeof buffer);                                         \
        CHECK(init_sized((type *)(void *)buffer, (older_size)) == BITNET_OK);        \
        memcpy(&size, buffer, sizeof size);                                          \
        CHECK(size == (older_size));                                                 \
        for (i = (older_size); i < sizeof buffer; i++) CHECK(buffer[i] == 0xAB);     \
        /* A newer caller's longer struct: ours is written, the rest untouched. */   \
        memset(buffer, 0xAB, sizeof buffer);                                         \
        CHECK(init_sized((type *)(void *)buffer, sizeof buffer) == BITNET_OK);       \
        memcpy(&size, buffer, sizeof size);                                          \
        CHECK(size == sizeof(type));                                                 \
        for (i = sizeof(type); i < sizeof buffer; i++) CHECK(buffer[i] == 0xAB);     \
        CHECK(init_sized(NULL, sizeof(type)) == BITNET_OK);                          \
        CHECK(init_sized((type *)(void *)buffer, 3) == BITNET_E_INVALID_ARGUMENT);   \
        CHECK(strstr(bitnet_last_error(), #init_sized) != NULL);                     \
    } while (0)

static void test_sized_params_init(void) {
    bitnet_context_params context;
    bitnet_generation_params generation;
    CHECK_SIZED_INIT(bitnet_model_params, bitnet_model_params_init_sized, offsetof(bitnet_model_params, progress_callback));
    CHECK_SIZED_INIT(bitnet_context_params, bitnet_context_params_init_sized, offsetof(bitnet_context_params, batch));
    CHECK_SIZED_INIT(bitnet_batch_params, bitnet_batch_params_init_sized, offsetof(bitnet_batch_params, n_threads));
    CHECK_SIZED_INIT(bitnet_generation_params, bitnet_generation_params_init_sized,
                     offsetof(bitnet_generation_params, seed));
    /* The plain names are macros over the sized functions with this header's sizeof. */
    memset(&context, 0xFF, sizeof context);
    bitnet_context_params_init(&context);
    CHECK(context.size == sizeof context && context.kv_type == BITNET_KV_F16);
    bitnet_generation_params_init(&generation);
    CHECK(generation.size == sizeof generation && generation.max_new_tokens == 256);
    /* The exported functions of the same names still exist, for FFI. */
    memset(&context, 0xFF, sizeof context);
    (bitnet_context_params_init)(&context);
    CHECK(context.size == sizeof context && context.kv_type == BITNET_KV_F16);
}

int main(void) {
    CHECK(strcmp(bitnet_last_error(), "") == 0);
    test_versions();
    test_status_strings();
    test_invalid_call_sets_last_error();
    test_last_error_is_per_thread();
    test_log_callback();
    test_sized_params_init();
    return CHECK_DONE();
}
