/* Misuse of the C API: NULL for every pointer argument, zero / negative / huge
 * sizes, frees of NULL, calls after a failed create, one context from two
 * threads, freeing from inside callbacks, callbacks returning garbage, invalid
 * UTF-8 and NUL bytes. Every call must return a status (or NULL / -1 / 0 as
 * documented) — never crash, hang or abort. Usage: test_misuse FIXTURES_DIR */
#define _POSIX_C_SOURCE 200809L
#include <bitnet.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static int cases = 0; /* misuse cases tried, reported at the end */
#define MISUSE(cond) do { cases++; CHECK(cond); } while (0)

static char shared_dir[1024];
static char path_buf[1200];
static const char *shared(const char *rel) {
    snprintf(path_buf, sizeof path_buf, "%s/%s", shared_dir, rel);
    return path_buf;
}

static void sleep_ms(int ms) {
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static int last_error_nonempty(void) { return bitnet_last_error()[0] != 0; }

/* ---------------------------------------------------------------------- */
/* Functions with no object: versions, status strings, logging, params.  */

static void misuse_globals(void) {
    int32_t codes[] = {INT32_MIN, -13, -1000, 3, 99, INT32_MAX};
    size_t i;
    for (i = 0; i < sizeof codes / sizeof codes[0]; i++) MISUSE(bitnet_status_string(codes[i]) != NULL);
    MISUSE(bitnet_last_error() != NULL);
    MISUSE(bitnet_set_log_callback(NULL, NULL, -1) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_set_log_callback(NULL, NULL, 4) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_set_log_callback(NULL, NULL, INT32_MIN) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_set_log_callback(NULL, NULL, BITNET_LOG_ERROR) == BITNET_OK);
    bitnet_model_params_init(NULL);
    bitnet_context_params_init(NULL);
    bitnet_generation_params_init(NULL);
    cases += 3;
    MISUSE(bitnet_generation_params_preset(NULL, BITNET_PRESET_FAST) == BITNET_E_INVALID_ARGUMENT);
    bitnet_generation_params gp;
    bitnet_generation_params_init(&gp);
    MISUSE(bitnet_generation_params_preset(&gp, -1) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_generation_params_preset(&gp, 99) == BITNET_E_INVALID_ARGUMENT);
    gp.size = 0;
    MISUSE(bitnet_generation_params_preset(&gp, BITNET_PRESET_FAST) == BITNET_E_INVALID_ARGUMENT);
    /* Every free accepts NULL, repeatedly. */
    for (i = 0; i < 2; i++) {
        bitnet_model_free(NULL);
        bitnet_context_free(NULL);
        bitnet_stream_free(NULL);
        cases += 3;
    }
}

/* ---------------------------------------------------------------------- */
/* Model loading and model queries.                                      */

static int32_t abort_progress(float progress, void *user_data) {
    (void)progress;
    ++*(int *)user_data;
    return 7; /* any non-zero value aborts */
}

static void misuse_model_load(void) {
    bitnet_model *m = (bitnet_model *)(uintptr_t)1; /* must be overwritten with NULL */
    MISUSE(bitnet_model_load(NULL, NULL, &m) == BITNET_E_INVALID_ARGUMENT && m == NULL);
    MISUSE(bitnet_model_load(shared("golden/m1-b158-relu2-i2_s.gguf"), NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
    m = (bitnet_model *)(uintptr_t)1;
    MISUSE(bitnet_model_load("/nonexistent/model.gguf", NULL, &m) == BITNET_E_IO && m == NULL && last_error_nonempty());
    MISUSE(bitnet_model_load("/", NULL, &m) == BITNET_E_IO && m == NULL);
    MISUSE(bitnet_model_load("", NULL, &m) == BITNET_E_IO && m == NULL);
    {
        int32_t rc = bitnet_model_load("/dev/null", NULL, &m);
        MISUSE((rc == BITNET_E_FORMAT || rc == BITNET_E_IO) && m == NULL);
    }
    {
        /* A non-regular file that never ends must not hang a heap read. */
        bitnet_model_params p;
        bitnet_model_params_init(&p);
        p.use_mmap = 0;
        int32_t rc = bitnet_model_load("/dev/zero", &p, &m);
        MISUSE(rc < 0 && m == NULL);
    }
    bitnet_model_params p;
    bitnet_model_params_init(&p);
    p.size = 0;
    MISUSE(bitnet_model_load(shared("golden/m1-b158-relu2-i2_s.gguf"), &p, &m) == BITNET_E_INVALID_ARGUMENT && m == NULL);
    p.size = 3;
    MISUSE(bitnet_model_load(shared("golden/m1-b158-relu2-i2_s.gguf"), &p, &m) == BITNET_E_INVALID_ARGUMENT && m == NULL);
    {
        /* A caller struct that claims to be larger than ours: only our part is read. */
        struct { bitnet_model_params p; char future[256]; } big;
        memset(&big, 0xAB, sizeof big);
        bitnet_model_params_init(&big.p);
        big.p.size = (uint32_t)sizeof big;
        int32_t rc = bitnet_model_load(shared("golden/m1-b158-relu2-i2_s.gguf"), &big.p, &m);
        MISUSE(rc == BITNET_OK && m != NULL);
        bitnet_model_free(m);
        m = NULL;
    }
    {
        /* Garbage in the known fields: mmap/mlock/vocab_only are flags, any non-zero is "on". */
        bitnet_model_params_init(&p);
        p.use_mmap = -5;
        p.vocab_only = 12345;
        int32_t rc = bitnet_model_load(shared("golden/m1-b158-relu2-i2_s.gguf"), &p, &m);
        MISUSE(rc == BITNET_OK && m != NULL);
        bitnet_model_free(m);
        m = NULL;
    }
    {
        int calls = 0;
        bitnet_model_params_init(&p);
        p.progress_callback = abort_progress;
        p.progress_user_data = &calls;
        m = (bitnet_model *)(uintptr_t)1;
        MISUSE(bitnet_model_load(shared("golden/m1-b158-relu2-i2_s.gguf"), &p, &m) == BITNET_E_CANCELLED && m == NULL &&
               calls == 1);
    }
    /* Calls after a failed create: the handle is NULL and every use of it fails cleanly. */
    MISUSE(bitnet_model_info_get(m, NULL) == BITNET_E_INVALID_ARGUMENT);
    bitnet_context *c = (bitnet_context *)(uintptr_t)1;
    MISUSE(bitnet_context_new(m, NULL, &c) == BITNET_E_INVALID_ARGUMENT && c == NULL);
    MISUSE(bitnet_context_eval(c, NULL, 0) == BITNET_E_INVALID_ARGUMENT);
    bitnet_model_free(m);
    bitnet_context_free(c);
    cases += 2;
}

static void misuse_model_queries(bitnet_model *model) {
    bitnet_model_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    MISUSE(bitnet_model_info_get(NULL, &info) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_model_info_get(model, NULL) == BITNET_E_INVALID_ARGUMENT);
    info.size = 0;
    MISUSE(bitnet_model_info_get(model, &info) == BITNET_E_INVALID_ARGUMENT);
    {
        /* size 8: the library writes 8 bytes and nothing after them. */
        unsigned char raw[sizeof(bitnet_model_info) + 16];
        memset(raw, 0xCD, sizeof raw);
        uint32_t eight = 8;
        memcpy(raw, &eight, 4);
        MISUSE(bitnet_model_info_get(model, (bitnet_model_info *)(void *)raw) == BITNET_OK && raw[8] == 0xCD &&
               raw[sizeof raw - 1] == 0xCD);
    }
    char buf[64];
    size_t len = 0;
    MISUSE(bitnet_model_meta_get(NULL, "general.architecture", buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_model_meta_get(model, NULL, buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_model_meta_get(model, "general.architecture", NULL, 10, &len) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_model_meta_get(model, "general.architecture", NULL, 0, &len) == BITNET_E_BUFFER_TOO_SMALL && len > 0);
    MISUSE(bitnet_model_meta_get(model, "general.architecture", buf, sizeof buf, NULL) == BITNET_OK);
    MISUSE(bitnet_model_meta_get(model, "no.such.key", buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_model_meta_get(model, "", buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_model_meta_get(model, "\xff\xfe", buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_model_meta_get(model, "general.architecture", buf, (size_t)-1 / 2 + 1, &len) != BITNET_OK ||
           len > 0); /* a "negative" capacity must not be trusted */
    MISUSE(bitnet_model_meta_count(NULL) == 0);
    int32_t count = bitnet_model_meta_count(model);
    MISUSE(count > 0);
    MISUSE(bitnet_model_meta_key(NULL, 0, buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_model_meta_key(model, -1, buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_model_meta_key(model, count, buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_model_meta_key(model, INT32_MAX, buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_model_meta_key(model, INT32_MIN, buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_model_meta_key(model, 0, NULL, 5, &len) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_model_meta_key(model, 0, buf, 1, &len) == BITNET_E_BUFFER_TOO_SMALL && buf[0] == 0);
    MISUSE(bitnet_token_bos(NULL) == -1 && bitnet_token_eos(NULL) == -1 && bitnet_token_eot(NULL) == -1);
    MISUSE(bitnet_vocab_size(NULL) == -1);
}

/* ---------------------------------------------------------------------- */
/* Tokenizer and chat templates.                                         */

static void misuse_tokens(bitnet_model *model) {
    int32_t ids[256];
    size_t n = 99;
    char buf[256];
    size_t len = 99;
    MISUSE(bitnet_tokenize(NULL, "hi", 2, 1, 0, ids, 256, &n) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_tokenize(model, "hi", 2, 1, 0, ids, 256, NULL) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_tokenize(model, NULL, 5, 1, 0, ids, 256, &n) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_tokenize(model, NULL, 0, 0, 0, ids, 256, &n) == BITNET_OK && n == 0);
    MISUSE(bitnet_tokenize(model, "hi", 2, 1, 0, NULL, 5, &n) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_tokenize(model, "hi", 2, 1, 0, NULL, 0, &n) == BITNET_E_BUFFER_TOO_SMALL && n >= 2);
    MISUSE(bitnet_tokenize(model, "hi", (size_t)-1, 1, 0, ids, 256, &n) == BITNET_E_INVALID_ARGUMENT);
    {
        /* Flags: any non-zero is "on". A SIZE_MAX capacity is not trusted, but the count is right. */
        int32_t rc = bitnet_tokenize(model, "hi", 2, -7, 99, ids, (size_t)-1, &n);
        MISUSE((rc == BITNET_OK || rc == BITNET_E_BUFFER_TOO_SMALL || rc == BITNET_E_INVALID_ARGUMENT) && n >= 2);
    }
    /* Invalid UTF-8 of every kind is refused with a byte offset in the message. */
    {
        const char *bad[] = {"\xff", "a\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "abc\xe2\x82", "\x80", "\xf8\x88\x80\x80\x80"};
        size_t i;
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            MISUSE(bitnet_tokenize(model, bad[i], strlen(bad[i]), 1, 0, ids, 256, &n) == BITNET_E_INVALID_ARGUMENT &&
                   strstr(bitnet_last_error(), "byte") != NULL);
        }
    }
    /* NUL bytes inside the text are ordinary characters (the length says where it ends). */
    {
        const char nul_text[] = "a\0b\0\0c";
        MISUSE(bitnet_tokenize(model, nul_text, sizeof nul_text - 1, 0, 0, ids, 256, &n) == BITNET_OK && n >= 3);
        MISUSE(bitnet_detokenize(model, ids, n, buf, sizeof buf, &len) == BITNET_OK && len == sizeof nul_text - 1 &&
               memcmp(buf, nul_text, len) == 0);
    }
    int32_t vocab = bitnet_vocab_size(model);
    int32_t bad_ids[] = {-1, vocab, INT32_MAX, INT32_MIN};
    size_t i;
    for (i = 0; i < 4; i++) {
        MISUSE(bitnet_detokenize(model, &bad_ids[i], 1, buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
        MISUSE(bitnet_token_to_piece(model, bad_ids[i], buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    }
    MISUSE(bitnet_detokenize(NULL, ids, 1, buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_detokenize(model, NULL, 3, buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_detokenize(model, NULL, 0, buf, sizeof buf, &len) == BITNET_OK && len == 0 && buf[0] == 0);
    MISUSE(bitnet_detokenize(model, ids, (size_t)-1, buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_detokenize(model, ids, 1, NULL, 10, &len) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_detokenize(model, ids, 1, buf, (size_t)-1, &len) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_detokenize(model, ids, 1, buf, sizeof buf, NULL) == BITNET_OK);
    MISUSE(bitnet_token_to_piece(NULL, 0, buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_token_to_piece(model, 0, NULL, 10, &len) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_token_to_piece(model, 0, NULL, 0, NULL) == BITNET_E_BUFFER_TOO_SMALL);

    const char *roles[] = {"system", "user"};
    const char *contents[] = {"be brief", "hello"};
    const char *null_role[] = {"system", NULL};
    const char *bad_utf8[] = {"ok", "\xc3\x28"};
    MISUSE(bitnet_apply_chat_template(NULL, "bitnet", roles, contents, 2, 1, buf, sizeof buf, &len) ==
           BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_apply_chat_template(model, "no-such-template", roles, contents, 2, 1, buf, sizeof buf, &len) ==
           BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_apply_chat_template(model, "\xff", roles, contents, 2, 1, buf, sizeof buf, &len) ==
           BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_apply_chat_template(model, "bitnet", NULL, contents, 2, 1, buf, sizeof buf, &len) ==
           BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_apply_chat_template(model, "bitnet", roles, NULL, 2, 1, buf, sizeof buf, &len) ==
           BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_apply_chat_template(model, "llama3", null_role, contents, 2, 1, buf, sizeof buf, &len) ==
           BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_apply_chat_template(model, "llama3", roles, null_role, 2, 1, buf, sizeof buf, &len) ==
           BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_apply_chat_template(model, "bitnet", roles, bad_utf8, 2, 1, buf, sizeof buf, &len) ==
           BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_apply_chat_template(model, "bitnet", bad_utf8, contents, 2, 1, buf, sizeof buf, &len) ==
           BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_apply_chat_template(model, "bitnet", roles, contents, (size_t)-1, 1, buf, sizeof buf, &len) ==
           BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_apply_chat_template(model, "bitnet", NULL, NULL, 0, 1, buf, sizeof buf, &len) == BITNET_OK);
    MISUSE(bitnet_apply_chat_template(model, "bitnet", roles, contents, 2, 1, NULL, 10, &len) ==
           BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_apply_chat_template(model, "bitnet", roles, contents, 2, 1, NULL, 0, NULL) ==
           BITNET_E_BUFFER_TOO_SMALL);
    {
        /* Unknown roles are rendered or refused, never crash. */
        const char *odd_roles[] = {"", "\xe2\x82\xac-role"};
        int32_t rc = bitnet_apply_chat_template(model, "llama3", odd_roles, contents, 2, 0, buf, sizeof buf, &len);
        MISUSE(rc == BITNET_OK || rc == BITNET_E_INVALID_ARGUMENT);
    }
}

/* ---------------------------------------------------------------------- */
/* Contexts: params, eval, queries, caches, state.                       */

static void misuse_context_params(bitnet_model *model) {
    bitnet_context *c = (bitnet_context *)(uintptr_t)1;
    bitnet_context_params p;
    size_t bytes = 0;
    MISUSE(bitnet_context_new(NULL, NULL, &c) == BITNET_E_INVALID_ARGUMENT && c == NULL);
    MISUSE(bitnet_context_new(model, NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_kv_bytes_estimate(NULL, NULL, &bytes) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_kv_bytes_estimate(model, NULL, NULL) == BITNET_E_INVALID_ARGUMENT);

    bitnet_context_params_init(&p);
    p.size = 0;
    MISUSE(bitnet_context_new(model, &p, &c) == BITNET_E_INVALID_ARGUMENT && c == NULL);
    MISUSE(bitnet_kv_bytes_estimate(model, &p, &bytes) == BITNET_E_INVALID_ARGUMENT);

    /* Out-of-range enum values and counts: refused before anything is allocated. */
    struct { const char *what; int field; int64_t value; } bad[] = {
        {"kv_type -1", 0, -1}, {"kv_type 3", 0, 3}, {"kv_type INT32_MAX", 0, INT32_MAX},
        {"prefix_eviction 2", 1, 2}, {"prefix_eviction -1", 1, -1},
        {"overflow_policy 2", 2, 2}, {"overflow_policy -9", 2, -9},
        {"n_keep -1", 3, -1}, {"n_threads -1", 4, -1}, {"n_threads INT32_MIN", 4, INT32_MIN},
        {"n_threads 1e6", 4, 1000000},
    };
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bitnet_context_params_init(&p);
        p.n_ctx = 64;
        switch (bad[i].field) {
        case 0: p.kv_type = (int32_t)bad[i].value; break;
        case 1: p.prefix_eviction = (int32_t)bad[i].value; break;
        case 2: p.overflow_policy = (int32_t)bad[i].value; break;
        case 3: p.n_keep = (int32_t)bad[i].value; break;
        default: p.n_threads = (int32_t)bad[i].value; break;
        }
        c = (bitnet_context *)(uintptr_t)1;
        int32_t rc = bitnet_context_new(model, &p, &c);
        if (rc == BITNET_OK) { /* a value the library may clamp (e.g. thread counts) must still work */
            int32_t tok = 1;
            MISUSE(c != NULL && bitnet_context_eval(c, &tok, 1) == BITNET_OK);
            bitnet_context_free(c);
        } else {
            MISUSE(rc == BITNET_E_INVALID_ARGUMENT && c == NULL && last_error_nonempty());
            if (rc != BITNET_E_INVALID_ARGUMENT) fprintf(stderr, "  %s -> %d\n", bad[i].what, rc);
        }
    }
    /* Huge n_ctx: a clear error, not an abort; the estimate says how much it would need. */
    bitnet_context_params_init(&p);
    p.n_ctx = UINT32_MAX;
    {
        int32_t rc = bitnet_kv_bytes_estimate(model, &p, &bytes);
        MISUSE(rc == BITNET_OK || rc == BITNET_E_INVALID_ARGUMENT);
        c = (bitnet_context *)(uintptr_t)1;
        rc = bitnet_context_new(model, &p, &c);
        MISUSE((rc == BITNET_E_OUT_OF_MEMORY || rc == BITNET_E_INVALID_ARGUMENT) && c == NULL &&
               last_error_nonempty());
        bitnet_context_free(c);
    }
    bitnet_context_params_init(&p);
    p.n_ctx = 64;
    p.prefix_cache_bytes = UINT64_MAX; /* a budget, not an allocation: fine */
    p.n_batch = 0;
    {
        int32_t rc = bitnet_context_new(model, &p, &c);
        MISUSE(rc == BITNET_OK || rc == BITNET_E_INVALID_ARGUMENT);
        if (rc == BITNET_OK) bitnet_context_free(c);
    }
    p.n_batch = UINT32_MAX;
    {
        int32_t rc = bitnet_context_new(model, &p, &c);
        MISUSE(rc == BITNET_OK || rc == BITNET_E_INVALID_ARGUMENT || rc == BITNET_E_OUT_OF_MEMORY);
        if (rc == BITNET_OK) {
            int32_t toks[3] = {1, 2, 3};
            MISUSE(bitnet_context_eval(c, toks, 3) == BITNET_OK);
            bitnet_context_free(c);
        }
    }
    {
        /* A vocab-only model has no weights: no context. */
        bitnet_model *vocab = NULL;
        bitnet_model_params mp;
        bitnet_model_params_init(&mp);
        mp.vocab_only = 1;
        CHECK(bitnet_model_load(shared("vocab/ggml-vocab-llama-bpe.gguf"), &mp, &vocab) == BITNET_OK);
        c = (bitnet_context *)(uintptr_t)1;
        bitnet_context_params_init(&p);
        MISUSE(bitnet_context_new(vocab, &p, &c) == BITNET_E_INVALID_ARGUMENT && c == NULL);
        MISUSE(bitnet_kv_bytes_estimate(vocab, &p, &bytes) == BITNET_E_INVALID_ARGUMENT);
        bitnet_model_free(vocab);
    }
}

static void misuse_context_calls(bitnet_model *model) {
    bitnet_context *ctx = NULL;
    bitnet_context_params p;
    bitnet_context_params_init(&p);
    p.n_ctx = 64;
    p.prefix_cache_bytes = 1 << 20;
    CHECK(bitnet_context_new(model, &p, &ctx) == BITNET_OK);
    if (!ctx) return;
    int32_t toks[128];
    int i;
    for (i = 0; i < 128; i++) toks[i] = 1 + i % 50;

    /* NULL context everywhere. */
    int32_t dropped = 0;
    bitnet_context_stats stats;
    memset(&stats, 0, sizeof stats);
    stats.size = sizeof stats;
    size_t sz = 0;
    MISUSE(bitnet_context_eval(NULL, toks, 1) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_context_logits(NULL) == NULL);
    MISUSE(bitnet_context_logits_ith(NULL, 0) == NULL);
    MISUSE(bitnet_context_n_past(NULL) == 0);
    MISUSE(bitnet_context_n_ctx(NULL) == 0);
    MISUSE(bitnet_context_truncate(NULL, 0) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_context_reset(NULL) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_context_interrupt(NULL) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_context_shift(NULL, &dropped) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_cache_warm(NULL, "x") == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_cache_warm_tokens(NULL, toks, 1) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_cache_clear(NULL) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_context_stats_get(NULL, &stats) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_state_size(NULL, &sz) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_state_save_buffer(NULL, toks, sizeof toks, &sz) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_state_load_buffer(NULL, toks, sizeof toks) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_state_save(NULL, "/tmp/x") == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_state_load(NULL, "/tmp/x") == BITNET_E_INVALID_ARGUMENT);

    /* Bad arguments on a live context; none of them changes it. */
    MISUSE(bitnet_context_logits(ctx) == NULL); /* nothing evaluated yet */
    MISUSE(bitnet_context_eval(ctx, NULL, 3) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_context_eval(ctx, toks, 0) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_context_eval(ctx, toks, (size_t)-1) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_context_eval(ctx, toks, 65) == BITNET_E_CONTEXT_FULL);
    /* A size no buffer can have: refused before any id is read. */
    MISUSE(bitnet_context_eval(ctx, toks, (size_t)1 << 40) == BITNET_E_CONTEXT_FULL);
    {
        int32_t bad[] = {-1, bitnet_vocab_size(model), INT32_MAX, INT32_MIN};
        for (i = 0; i < 4; i++) MISUSE(bitnet_context_eval(ctx, &bad[i], 1) == BITNET_E_INVALID_ARGUMENT);
    }
    MISUSE(bitnet_context_n_past(ctx) == 0);
    MISUSE(bitnet_context_shift(ctx, &dropped) == BITNET_E_CONTEXT_FULL || bitnet_context_n_past(ctx) == 0);
    MISUSE(bitnet_context_eval(ctx, toks, 10) == BITNET_OK && bitnet_context_n_past(ctx) == 10);
    MISUSE(bitnet_context_logits_ith(ctx, 1) == NULL);
    MISUSE(bitnet_context_logits_ith(ctx, INT32_MIN) == NULL);
    MISUSE(bitnet_context_logits_ith(ctx, INT32_MAX) == NULL);
    MISUSE(bitnet_context_logits_ith(ctx, -1) != NULL);
    MISUSE(bitnet_context_truncate(ctx, -1) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_context_truncate(ctx, 11) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_context_truncate(ctx, INT32_MAX) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_context_truncate(ctx, INT32_MIN) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_context_n_past(ctx) == 10);
    MISUSE(bitnet_context_eval(ctx, toks, 55) == BITNET_E_CONTEXT_FULL && bitnet_context_n_past(ctx) == 10);
    MISUSE(bitnet_context_shift(ctx, NULL) == BITNET_OK || bitnet_context_n_past(ctx) == 10);

    /* Caches. */
    MISUSE(bitnet_cache_warm(ctx, NULL) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_cache_warm(ctx, "") == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_cache_warm(ctx, "ok \xff\xfe") == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_cache_warm_tokens(ctx, NULL, 3) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_cache_warm_tokens(ctx, toks, 0) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_cache_warm_tokens(ctx, toks, (size_t)-1) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_cache_warm_tokens(ctx, toks, (size_t)1 << 40) == BITNET_E_CONTEXT_FULL);
    {
        int32_t bad = -3;
        MISUSE(bitnet_cache_warm_tokens(ctx, &bad, 1) == BITNET_E_INVALID_ARGUMENT);
    }
    MISUSE(bitnet_context_stats_get(ctx, NULL) == BITNET_E_INVALID_ARGUMENT);
    stats.size = 0;
    MISUSE(bitnet_context_stats_get(ctx, &stats) == BITNET_E_INVALID_ARGUMENT);
    stats.size = 3;
    MISUSE(bitnet_context_stats_get(ctx, &stats) == BITNET_E_INVALID_ARGUMENT);
    stats.size = 8;
    MISUSE(bitnet_context_stats_get(ctx, &stats) == BITNET_OK && stats.size == 8);

    /* Saved state: NULLs, zero and huge sizes, garbage, truncation. */
    MISUSE(bitnet_state_size(ctx, NULL) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_state_size(ctx, &sz) == BITNET_OK && sz > 0);
    unsigned char *state = malloc(sz);
    size_t written = 0;
    MISUSE(bitnet_state_save_buffer(ctx, NULL, 100, &written) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_state_save_buffer(ctx, NULL, 0, &written) == BITNET_E_BUFFER_TOO_SMALL);
    MISUSE(bitnet_state_save_buffer(ctx, state, sz - 1, &written) == BITNET_E_BUFFER_TOO_SMALL);
    MISUSE(bitnet_state_save_buffer(ctx, state, (size_t)-1, &written) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_state_save_buffer(ctx, state, sz, NULL) == BITNET_OK);
    int32_t n_before = bitnet_context_n_past(ctx);
    MISUSE(bitnet_state_load_buffer(ctx, NULL, sz) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_state_load_buffer(ctx, state, 0) == BITNET_E_FORMAT);
    MISUSE(bitnet_state_load_buffer(ctx, state, (size_t)-1) == BITNET_E_INVALID_ARGUMENT);
    {
        size_t cut;
        int all_format = 1;
        for (cut = 1; cut < sz; cut += 1 + cut / 3) {
            int32_t rc = bitnet_state_load_buffer(ctx, state, cut);
            if (rc != BITNET_E_FORMAT && rc != BITNET_E_STATE_MISMATCH) all_format = 0;
            cases++;
        }
        CHECK(all_format);
        unsigned char *garbage = malloc(sz);
        size_t k;
        for (k = 0; k < sz; k++) garbage[k] = (unsigned char)(k * 131 + 7);
        MISUSE(bitnet_state_load_buffer(ctx, garbage, sz) < 0);
        memcpy(garbage, state, sz);
        garbage[sz / 2] ^= 0x5A; /* a flipped byte: the checksum catches it */
        MISUSE(bitnet_state_load_buffer(ctx, garbage, sz) == BITNET_E_FORMAT);
        free(garbage);
    }
    MISUSE(bitnet_context_n_past(ctx) == n_before);
    MISUSE(bitnet_state_load_buffer(ctx, state, sz) == BITNET_OK && bitnet_context_n_past(ctx) == n_before);
    free(state);
    MISUSE(bitnet_state_save(ctx, NULL) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_state_save(ctx, "") == BITNET_E_IO);
    MISUSE(bitnet_state_save(ctx, "/nonexistent-dir/state.bin") == BITNET_E_IO);
    MISUSE(bitnet_state_save(ctx, "/") == BITNET_E_IO);
    MISUSE(bitnet_state_load(ctx, NULL) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_state_load(ctx, "/nonexistent-dir/state.bin") == BITNET_E_IO);
    MISUSE(bitnet_state_load(ctx, "/") == BITNET_E_IO);
    MISUSE(bitnet_state_load(ctx, "/dev/null") == BITNET_E_FORMAT || bitnet_state_load(ctx, "/dev/null") == BITNET_E_IO);
    MISUSE(bitnet_state_load(ctx, shared("golden/m1-b158-relu2-i2_s.gguf")) == BITNET_E_FORMAT);
    MISUSE(bitnet_context_n_past(ctx) == n_before);

    MISUSE(bitnet_cache_clear(ctx) == BITNET_OK);
    MISUSE(bitnet_context_reset(ctx) == BITNET_OK && bitnet_context_n_past(ctx) == 0);
    MISUSE(bitnet_context_interrupt(ctx) == BITNET_OK); /* dropped when the next call starts */
    MISUSE(bitnet_context_eval(ctx, toks, 2) == BITNET_OK);
    bitnet_context_free(ctx);
}

/* ---------------------------------------------------------------------- */
/* Generation: bad params, garbage callback returns, frees from callbacks. */

typedef struct garbage_state {
    int32_t code;
    int calls;
    size_t bytes;
} garbage_state;

static int32_t garbage_callback(const char *text, size_t len, const bitnet_token_info *info, void *user_data) {
    garbage_state *g = user_data;
    (void)text;
    (void)info;
    g->calls++;
    g->bytes += len;
    return g->code;
}

static int32_t free_ctx_in_callback(const char *text, size_t len, const bitnet_token_info *info, void *user_data) {
    (void)text;
    (void)len;
    (void)info;
    bitnet_context_free((bitnet_context *)user_data); /* documented: refused while busy */
    return BITNET_CONTINUE;
}

static void misuse_generation(bitnet_model *model) {
    bitnet_context *ctx = NULL;
    bitnet_context_params cp;
    bitnet_context_params_init(&cp);
    cp.n_ctx = 128;
    CHECK(bitnet_context_new(model, &cp, &ctx) == BITNET_OK);
    if (!ctx) return;
    bitnet_generation_params gp;
    bitnet_generation_result res;
    garbage_state g;
    memset(&g, 0, sizeof g);

    bitnet_generation_params_init(&gp);
    gp.max_new_tokens = 4;
    gp.seed = 1;
    memset(&res, 0, sizeof res);
    res.size = sizeof res;
    MISUSE(bitnet_generate(NULL, "hi", &gp, garbage_callback, &g, &res) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_generate(ctx, NULL, &gp, garbage_callback, &g, &res) == BITNET_E_INVALID_ARGUMENT); /* empty ctx */
    MISUSE(bitnet_generate(ctx, "bad \xc3\x28 text", &gp, garbage_callback, &g, &res) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_generate(ctx, "\xed\xa0\x80", &gp, garbage_callback, &g, &res) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(g.calls == 0); /* a call that fails before it starts never invokes a callback */
    res.size = 0;
    MISUSE(bitnet_generate(ctx, "hi", &gp, garbage_callback, &g, &res) == BITNET_E_INVALID_ARGUMENT && g.calls == 0);
    res.size = sizeof res;
    {
        /* A prompt that is only a NUL byte is the empty prompt: BOS alone, or refused. */
        int32_t rc = bitnet_generate(ctx, "\0hidden", &gp, NULL, NULL, &res);
        MISUSE(rc == BITNET_OK || rc == BITNET_E_INVALID_ARGUMENT);
    }
    {
        /* Bad sampling values. */
        struct { float *f; int32_t *i; double value; } fields[] = {
            {&gp.temperature, NULL, -1.0}, {&gp.temperature, NULL, NAN}, {&gp.temperature, NULL, INFINITY},
            {&gp.top_p, NULL, NAN}, {&gp.top_p, NULL, -0.5}, {&gp.top_p, NULL, 2.0},
            {&gp.min_p, NULL, NAN}, {&gp.min_p, NULL, -1.0}, {&gp.typical_p, NULL, NAN},
            {&gp.repetition_penalty, NULL, NAN}, {&gp.repetition_penalty, NULL, 0.0},
            {&gp.presence_penalty, NULL, NAN}, {&gp.frequency_penalty, NULL, INFINITY},
            {NULL, &gp.top_k, -1}, {NULL, &gp.top_k, INT32_MIN}, {NULL, &gp.repeat_last_n, -2},
            {NULL, &gp.max_new_tokens, -1},
        };
        size_t i;
        for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            bitnet_generation_params_init(&gp);
            gp.max_new_tokens = 2;
            gp.seed = 3;
            if (fields[i].f) *fields[i].f = (float)fields[i].value;
            else *fields[i].i = (int32_t)fields[i].value;
            int32_t rc = bitnet_generate(ctx, "hello", &gp, garbage_callback, &g, &res);
            /* Refused, or (for values with a sensible reading) honoured; never a crash. */
            MISUSE(rc == BITNET_E_INVALID_ARGUMENT || rc == BITNET_OK);
            if (rc != BITNET_E_INVALID_ARGUMENT && rc != BITNET_OK) fprintf(stderr, "  sampling field %zu -> %d\n", i, rc);
        }
    }
    bitnet_generation_params_init(&gp);
    gp.max_new_tokens = 4;
    gp.seed = 1;
    gp.n_stop_sequences = 2;
    MISUSE(bitnet_generate(ctx, "hi", &gp, NULL, NULL, &res) == BITNET_E_INVALID_ARGUMENT);
    {
        const char *stops[] = {"x", NULL};
        gp.stop_sequences = stops;
        MISUSE(bitnet_generate(ctx, "hi", &gp, NULL, NULL, &res) == BITNET_E_INVALID_ARGUMENT);
        const char *bad_stops[] = {"\xff", "ok"};
        gp.stop_sequences = bad_stops;
        MISUSE(bitnet_generate(ctx, "hi", &gp, NULL, NULL, &res) == BITNET_E_INVALID_ARGUMENT);
        gp.n_stop_sequences = (size_t)-1;
        MISUSE(bitnet_generate(ctx, "hi", &gp, NULL, NULL, &res) == BITNET_E_INVALID_ARGUMENT);
        const char *empty_stops[] = {"", ""};
        gp.stop_sequences = empty_stops;
        gp.n_stop_sequences = 2;
        MISUSE(bitnet_generate(ctx, "hi", &gp, NULL, NULL, &res) == BITNET_OK); /* empty ones ignored */
    }
    bitnet_generation_params_init(&gp);
    gp.max_new_tokens = 4;
    gp.n_stop_tokens = 3;
    MISUSE(bitnet_generate(ctx, "hi", &gp, NULL, NULL, &res) == BITNET_E_INVALID_ARGUMENT);
    gp.n_stop_tokens = (size_t)-1;
    {
        int32_t st[1] = {-5};
        gp.stop_tokens = st;
        MISUSE(bitnet_generate(ctx, "hi", &gp, NULL, NULL, &res) == BITNET_E_INVALID_ARGUMENT);
        gp.n_stop_tokens = 1;
        int32_t rc = bitnet_generate(ctx, "hi", &gp, NULL, NULL, &res); /* an id no token has */
        MISUSE(rc == BITNET_OK || rc == BITNET_E_INVALID_ARGUMENT);
    }
    bitnet_generation_params_init(&gp);
    gp.max_new_tokens = 4;
    gp.n_logit_bias = 2;
    MISUSE(bitnet_generate(ctx, "hi", &gp, NULL, NULL, &res) == BITNET_E_INVALID_ARGUMENT);
    {
        bitnet_logit_bias lb[2] = {{-1, 1.0f}, {INT32_MAX, 2.0f}};
        gp.logit_bias = lb;
        MISUSE(bitnet_generate(ctx, "hi", &gp, NULL, NULL, &res) == BITNET_E_INVALID_ARGUMENT);
        gp.n_logit_bias = (size_t)-1;
        MISUSE(bitnet_generate(ctx, "hi", &gp, NULL, NULL, &res) == BITNET_E_INVALID_ARGUMENT);
        bitnet_logit_bias nan_bias[1] = {{5, NAN}};
        gp.logit_bias = nan_bias;
        gp.n_logit_bias = 1;
        int32_t rc = bitnet_generate(ctx, "hi", &gp, NULL, NULL, &res);
        MISUSE(rc == BITNET_OK || rc == BITNET_E_INVALID_ARGUMENT);
        /* Every token banned: generation must still end (not loop or crash). */
        int32_t vocab = bitnet_vocab_size(model);
        bitnet_logit_bias *ban = malloc(sizeof *ban * (size_t)vocab);
        int32_t t;
        for (t = 0; t < vocab; t++) { ban[t].token = t; ban[t].bias = -INFINITY; }
        gp.logit_bias = ban;
        gp.n_logit_bias = (size_t)vocab;
        gp.temperature = 0.8f;
        rc = bitnet_generate(ctx, "hi", &gp, NULL, NULL, &res);
        MISUSE(rc == BITNET_OK || rc == BITNET_E_INVALID_ARGUMENT);
        free(ban);
    }
    /* Params struct size games. */
    bitnet_generation_params_init(&gp);
    gp.size = 2;
    MISUSE(bitnet_generate(ctx, "hi", &gp, NULL, NULL, &res) == BITNET_E_INVALID_ARGUMENT);
    gp.size = 8; /* only size and temperature: the rest default */
    gp.temperature = 0;
    MISUSE(bitnet_generate(ctx, "hi", &gp, NULL, NULL, &res) == BITNET_OK);

    /* Callbacks that return garbage: all of them cancel, and nothing is delivered twice. */
    {
        int32_t codes[] = {3, -1, 12345, INT32_MIN, INT32_MAX, -8};
        size_t i;
        bitnet_generation_params_init(&gp);
        gp.max_new_tokens = 8;
        gp.temperature = 0;
        for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
            memset(&g, 0, sizeof g);
            g.code = codes[i];
            int32_t rc = bitnet_generate(ctx, "The quick brown fox", &gp, garbage_callback, &g, &res);
            MISUSE(rc == BITNET_E_CANCELLED && g.calls == 1 && res.stop_reason == BITNET_STOP_CANCELLED);
            MISUSE(bitnet_generate_resume(ctx, garbage_callback, &g, &res) == BITNET_E_INVALID_ARGUMENT);
        }
        /* The context is reusable after all those cancels. */
        memset(&g, 0, sizeof g);
        MISUSE(bitnet_generate(ctx, "The quick brown fox", &gp, garbage_callback, &g, &res) == BITNET_OK && g.calls > 0);
    }
    MISUSE(bitnet_generate_resume(NULL, NULL, NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_generate_resume(ctx, NULL, NULL, NULL) == BITNET_E_INVALID_ARGUMENT); /* nothing paused */
    {
        /* Pause, then resume with a NULL callback and a NULL result. */
        memset(&g, 0, sizeof g);
        g.code = BITNET_PAUSE;
        MISUSE(bitnet_generate(ctx, "Once upon", &gp, garbage_callback, &g, &res) == BITNET_PAUSED);
        MISUSE(bitnet_generate_resume(ctx, NULL, NULL, NULL) == BITNET_OK);
    }

    /* Freeing the context from inside its own callback: refused, no crash; then a real free. */
    {
        bitnet_generation_params_init(&gp);
        gp.max_new_tokens = 3;
        gp.temperature = 0;
        MISUSE(bitnet_generate(ctx, "Hello", &gp, free_ctx_in_callback, ctx, &res) == BITNET_OK);
        MISUSE(bitnet_context_n_past(ctx) > 0);
    }
    bitnet_context_free(ctx);
}

/* ---------------------------------------------------------------------- */
/* Streams.                                                              */

typedef struct self_free {
    bitnet_stream *stream;
    int calls;
    pthread_mutex_t lock;
} self_free;

static int32_t free_stream_in_progress(size_t done, size_t total, void *user_data) {
    self_free *s = user_data;
    bitnet_stream *stream;
    (void)done;
    (void)total;
    pthread_mutex_lock(&s->lock); /* the starter stores the handle under this lock */
    stream = s->stream;
    s->stream = NULL;
    s->calls++;
    pthread_mutex_unlock(&s->lock);
    bitnet_stream_free(stream); /* from the stream's own thread: must not deadlock or crash */
    return 0;
}

static void misuse_streams(bitnet_model *model) {
    bitnet_context *ctx = NULL;
    bitnet_context_params cp;
    bitnet_context_params_init(&cp);
    cp.n_ctx = 128;
    CHECK(bitnet_context_new(model, &cp, &ctx) == BITNET_OK);
    if (!ctx) return;
    bitnet_generation_params gp;
    bitnet_generation_params_init(&gp);
    gp.max_new_tokens = 6;
    gp.temperature = 0;
    bitnet_stream *s = (bitnet_stream *)(uintptr_t)1;
    char buf[256];
    size_t len = 0;
    bitnet_generation_result res;
    memset(&res, 0, sizeof res);
    res.size = sizeof res;

    MISUSE(bitnet_stream_start(NULL, "hi", &gp, 4, &s) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_stream_start(ctx, "hi", &gp, 4, NULL) == BITNET_E_INVALID_ARGUMENT);
    s = (bitnet_stream *)(uintptr_t)1;
    MISUSE(bitnet_stream_start(ctx, "hi", &gp, 0, &s) == BITNET_E_INVALID_ARGUMENT && s == NULL);
    MISUSE(bitnet_stream_start(ctx, "hi", &gp, (size_t)-1, &s) == BITNET_E_INVALID_ARGUMENT && s == NULL);
    MISUSE(bitnet_stream_start(ctx, "\xc0\x80", &gp, 4, &s) == BITNET_E_INVALID_ARGUMENT && s == NULL);
    {
        /* NULL prompt on an empty context: refused now, or by the first stream_next (documented). */
        int32_t rc = bitnet_stream_start(ctx, NULL, &gp, 4, &s);
        if (rc == BITNET_OK) {
            MISUSE(bitnet_stream_next(s, buf, sizeof buf, &len, -1) == BITNET_E_INVALID_ARGUMENT);
            bitnet_stream_free(s);
        } else {
            MISUSE(rc == BITNET_E_INVALID_ARGUMENT && s == NULL);
        }
    }
    MISUSE(bitnet_stream_next(NULL, buf, sizeof buf, &len, 0) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_stream_cancel(NULL) == BITNET_E_INVALID_ARGUMENT);
    MISUSE(bitnet_stream_result(NULL, &res) == BITNET_E_INVALID_ARGUMENT);

    MISUSE(bitnet_stream_start(ctx, "The quick brown fox", &gp, 1, &s) == BITNET_OK && s != NULL);
    if (s) {
        MISUSE(bitnet_stream_next(s, buf, sizeof buf, NULL, -1) == BITNET_E_INVALID_ARGUMENT);
        MISUSE(bitnet_stream_next(s, NULL, 5, &len, -1) == BITNET_E_INVALID_ARGUMENT);
        MISUSE(bitnet_stream_result(s, NULL) == BITNET_E_INVALID_ARGUMENT);
        res.size = 0;
        MISUSE(bitnet_stream_result(s, &res) == BITNET_E_INVALID_ARGUMENT);
        res.size = sizeof res;
        /* The context is held by the stream. */
        int32_t tok = 1;
        MISUSE(bitnet_context_eval(ctx, &tok, 1) == BITNET_E_BUSY);
        bitnet_context_free(ctx); /* refused: a running stream holds it */
        cases++;
        /* Zero / too small buffers keep the chunk first in line. */
        int32_t rc = bitnet_stream_next(s, NULL, 0, &len, -1);
        MISUSE(rc == BITNET_E_BUFFER_TOO_SMALL || rc == BITNET_DONE);
        if (rc == BITNET_E_BUFFER_TOO_SMALL) {
            size_t need = len;
            MISUSE(bitnet_stream_next(s, buf, need, &len, -1) == BITNET_E_BUFFER_TOO_SMALL && len == need);
            rc = bitnet_stream_next(s, buf, (size_t)-1, &len, -1); /* a SIZE_MAX capacity is not trusted */
            MISUSE((rc == BITNET_OK || rc == BITNET_E_BUFFER_TOO_SMALL) && len == need);
        }
        int guard = 0;
        while ((rc = bitnet_stream_next(s, buf, sizeof buf, &len, INT32_MIN)) == BITNET_OK && guard++ < 100) {}
        MISUSE(rc == BITNET_DONE);
        MISUSE(bitnet_stream_next(s, buf, sizeof buf, &len, 0) == BITNET_DONE); /* repeated */
        MISUSE(bitnet_stream_next(s, buf, sizeof buf, &len, INT32_MAX) == BITNET_DONE);
        MISUSE(bitnet_stream_cancel(s) == BITNET_OK && bitnet_stream_cancel(s) == BITNET_OK); /* after the end, twice */
        MISUSE(bitnet_stream_result(s, &res) == BITNET_OK);
        bitnet_stream_free(s);
    }
    /* Cancel from another state: cancel right away, then drain. */
    MISUSE(bitnet_stream_start(ctx, "Once upon a time", &gp, 2, &s) == BITNET_OK);
    if (s) {
        MISUSE(bitnet_stream_cancel(s) == BITNET_OK);
        int32_t rc = bitnet_stream_next(s, buf, sizeof buf, &len, -1);
        MISUSE(rc == BITNET_E_CANCELLED || rc == BITNET_DONE);
        bitnet_stream_free(s);
    }
    /* Free a stream that is still producing, without reading anything. */
    gp.max_new_tokens = 50;
    MISUSE(bitnet_stream_start(ctx, "Once upon a time", &gp, 1, &s) == BITNET_OK);
    bitnet_stream_free(s);
    /* Free a stream from its own (progress) callback: no deadlock, no crash. */
    {
        self_free sf;
        memset(&sf, 0, sizeof sf);
        pthread_mutex_init(&sf.lock, NULL);
        gp.progress = free_stream_in_progress;
        gp.progress_user_data = &sf;
        gp.max_new_tokens = 8;
        pthread_mutex_lock(&sf.lock);
        int32_t rc = bitnet_stream_start(ctx, "A progress callback frees its stream", &gp, 2, &sf.stream);
        pthread_mutex_unlock(&sf.lock);
        MISUSE(rc == BITNET_OK);
        /* Wait for the stream to finish on its own: the context becomes free again. */
        int waited = 0;
        int32_t tok = 1;
        while (waited < 10000) {
            if (bitnet_context_eval(ctx, &tok, 1) != BITNET_E_BUSY) break;
            sleep_ms(5);
            waited += 5;
        }
        MISUSE(sf.calls >= 1 && waited < 10000);
        pthread_mutex_destroy(&sf.lock);
        gp.progress = NULL;
    }
    bitnet_context_free(ctx);
}

/* ---------------------------------------------------------------------- */
/* One context from two threads.                                         */

typedef struct blocker {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int in_callback;
    int release;
} blocker;

static int32_t blocking_callback(const char *text, size_t len, const bitnet_token_info *info, void *user_data) {
    blocker *b = user_data;
    (void)text;
    (void)len;
    (void)info;
    pthread_mutex_lock(&b->lock);
    b->in_callback = 1;
    pthread_cond_broadcast(&b->cond);
    while (!b->release) pthread_cond_wait(&b->cond, &b->lock);
    pthread_mutex_unlock(&b->lock);
    return BITNET_CONTINUE;
}

typedef struct gen_job {
    bitnet_context *ctx;
    blocker *b;
    int32_t rc;
} gen_job;

static void *generate_thread(void *arg) {
    gen_job *job = arg;
    bitnet_generation_params gp;
    bitnet_generation_params_init(&gp);
    gp.max_new_tokens = 3;
    gp.temperature = 0;
    gp.ignore_eos = 1;
    job->rc = bitnet_generate(job->ctx, "Two threads, one context", &gp, blocking_callback, job->b, NULL);
    return NULL;
}

static void misuse_two_threads(bitnet_model *model) {
    bitnet_context *ctx = NULL;
    bitnet_context_params cp;
    bitnet_context_params_init(&cp);
    cp.n_ctx = 128;
    CHECK(bitnet_context_new(model, &cp, &ctx) == BITNET_OK);
    if (!ctx) return;
    blocker b;
    memset(&b, 0, sizeof b);
    pthread_mutex_init(&b.lock, NULL);
    pthread_cond_init(&b.cond, NULL);
    gen_job job = {ctx, &b, 99};
    pthread_t t;
    pthread_create(&t, NULL, generate_thread, &job);
    pthread_mutex_lock(&b.lock);
    while (!b.in_callback) pthread_cond_wait(&b.cond, &b.lock);
    pthread_mutex_unlock(&b.lock);

    /* Thread A is inside a generation on ctx: everything from here is BUSY. */
    int32_t tok = 1;
    size_t sz;
    int32_t dropped;
    bitnet_stream *s = NULL;
    unsigned char small[16];
    MISUSE(bitnet_context_eval(ctx, &tok, 1) == BITNET_E_BUSY);
    MISUSE(bitnet_generate(ctx, "other", NULL, NULL, NULL, NULL) == BITNET_E_BUSY);
    MISUSE(bitnet_generate_resume(ctx, NULL, NULL, NULL) == BITNET_E_BUSY);
    MISUSE(bitnet_context_truncate(ctx, 0) == BITNET_E_BUSY);
    MISUSE(bitnet_context_reset(ctx) == BITNET_E_BUSY);
    MISUSE(bitnet_context_shift(ctx, &dropped) == BITNET_E_BUSY);
    MISUSE(bitnet_cache_warm(ctx, "warm") == BITNET_E_BUSY);
    MISUSE(bitnet_cache_clear(ctx) == BITNET_E_BUSY);
    MISUSE(bitnet_state_size(ctx, &sz) == BITNET_E_BUSY);
    MISUSE(bitnet_state_save_buffer(ctx, small, sizeof small, &sz) == BITNET_E_BUSY);
    MISUSE(bitnet_state_load_buffer(ctx, small, sizeof small) == BITNET_E_BUSY);
    MISUSE(bitnet_state_save(ctx, "/tmp/bitnet-misuse-state.bin") == BITNET_E_BUSY);
    MISUSE(bitnet_stream_start(ctx, "x", NULL, 2, &s) == BITNET_E_BUSY && s == NULL);
    MISUSE(strstr(bitnet_last_error(), "use") != NULL);
    bitnet_context_free(ctx); /* refused while busy: logs, does nothing */
    cases++;
    MISUSE(bitnet_context_n_past(ctx) > 0); /* reads stay answerable */

    pthread_mutex_lock(&b.lock);
    b.release = 1;
    pthread_cond_broadcast(&b.cond);
    pthread_mutex_unlock(&b.lock);
    pthread_join(t, NULL);
    MISUSE(job.rc == BITNET_OK);
    MISUSE(bitnet_context_eval(ctx, &tok, 1) == BITNET_OK); /* free again */
    pthread_cond_destroy(&b.cond);
    pthread_mutex_destroy(&b.lock);
    bitnet_context_free(ctx);
}

int main(int argc, char **argv) {
    snprintf(shared_dir, sizeof shared_dir, "%s", argc > 1 ? argv[1] : "Tests/Fixtures");
    misuse_globals();
    misuse_model_load();
    bitnet_model *model = NULL;
    if (bitnet_model_load(shared("golden/m1-b158-relu2-i2_s.gguf"), NULL, &model) != BITNET_OK) {
        fprintf(stderr, "cannot load the golden model: %s\n", bitnet_last_error());
        return 1;
    }
    misuse_model_queries(model);
    misuse_tokens(model);
    misuse_context_params(model);
    misuse_context_calls(model);
    misuse_generation(model);
    misuse_streams(model);
    misuse_two_threads(model);
    bitnet_model_free(model);
    printf("misuse cases tried: %d\n", cases);
    return CHECK_DONE();
}
