/* Contexts from C: eval, logits against the golden reference, limits, errors, threads. */
#define _POSIX_C_SOURCE 200809L
#include <bitnet.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define N_VOCAB 512
#define N_TOKENS 64

static char shared_dir[512];

static const char *golden(const char *name) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/golden/%s", shared_dir, name);
    return path;
}

static int read_tokens(int32_t *tokens) {
    FILE *f = fopen(golden("m1-b158-relu2-i2_s.tokens.txt"), "r");
    int n = 0;
    if (!f) return 0;
    while (n < N_TOKENS && fscanf(f, "%d", &tokens[n]) == 1) n++;
    fclose(f);
    return n;
}

static float *read_reference(void) {
    float *ref = malloc(sizeof(float) * N_VOCAB * N_TOKENS);
    FILE *f = fopen(golden("m1-b158-relu2-i2_s.paper.f32"), "rb");
    if (!f || fread(ref, sizeof(float), N_VOCAB * N_TOKENS, f) != N_VOCAB * N_TOKENS) {
        free(ref);
        ref = NULL;
    }
    if (f) fclose(f);
    return ref;
}

static bitnet_context *new_context(bitnet_model *model, uint32_t n_ctx, int logits_all) {
    bitnet_context_params params;
    bitnet_context *ctx = NULL;
    bitnet_context_params_init(&params);
    params.n_ctx = n_ctx;
    params.kv_type = BITNET_KV_F32;
    params.logits_all = logits_all;
    params.n_threads = 2;
    CHECK(bitnet_context_new(model, &params, &ctx) == BITNET_OK);
    return ctx;
}

static float max_abs_diff(const float *a, const float *b, int n) {
    float m = 0;
    int i;
    for (i = 0; i < n; i++) {
        float d = fabsf(a[i] - b[i]);
        if (d > m) m = d;
    }
    return m;
}

static void test_logits_match_reference(bitnet_model *model, const int32_t *tokens, const float *ref) {
    bitnet_context *ctx = new_context(model, 128, 1);
    int i;
    CHECK(bitnet_context_logits(ctx) == NULL); /* nothing evaluated yet */
    CHECK(bitnet_context_eval(ctx, tokens, N_TOKENS) == BITNET_OK);
    CHECK(bitnet_context_n_past(ctx) == N_TOKENS);
    for (i = 0; i < N_TOKENS; i++) {
        const float *row = bitnet_context_logits_ith(ctx, i);
        CHECK(row != NULL);
        if (row) CHECK(max_abs_diff(row, ref + i * N_VOCAB, N_VOCAB) <= 0.2f);
    }
    CHECK(bitnet_context_logits_ith(ctx, -1) == bitnet_context_logits(ctx));
    CHECK(bitnet_context_logits_ith(ctx, N_TOKENS) == NULL);
    CHECK(strstr(bitnet_last_error(), "not available") != NULL);
    bitnet_context_free(ctx);
}

static void test_token_by_token_equals_batch(bitnet_model *model, const int32_t *tokens) {
    bitnet_context *batch = new_context(model, 64, 0), *single = new_context(model, 64, 0);
    int i;
    CHECK(bitnet_context_eval(batch, tokens, 40) == BITNET_OK);
    for (i = 0; i < 40; i++) CHECK(bitnet_context_eval(single, tokens + i, 1) == BITNET_OK);
    CHECK(max_abs_diff(bitnet_context_logits(batch), bitnet_context_logits(single), N_VOCAB) <= 1e-4f);
    bitnet_context_free(batch);
    bitnet_context_free(single);
}

static void test_limits_and_errors(bitnet_model *model, const int32_t *tokens) {
    bitnet_context *ctx = new_context(model, 16, 0);
    int32_t bad[2] = {1, N_VOCAB};
    CHECK(bitnet_context_n_ctx(ctx) == 16);
    CHECK(bitnet_context_eval(ctx, tokens, 10) == BITNET_OK);
    CHECK(bitnet_context_eval(ctx, tokens, 7) == BITNET_E_CONTEXT_FULL); /* all or nothing */
    CHECK(bitnet_context_n_past(ctx) == 10);
    CHECK(strstr(bitnet_last_error(), "10 of 16") != NULL);
    CHECK(bitnet_context_eval(ctx, bad, 2) == BITNET_E_INVALID_ARGUMENT);
    CHECK(strstr(bitnet_last_error(), "512") != NULL);
    CHECK(bitnet_context_n_past(ctx) == 10);
    CHECK(bitnet_context_eval(ctx, tokens, 6) == BITNET_OK);
    CHECK(bitnet_context_n_past(ctx) == 16);
    CHECK(bitnet_context_truncate(ctx, 17) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_context_truncate(ctx, 4) == BITNET_OK);
    CHECK(bitnet_context_n_past(ctx) == 4);
    CHECK(bitnet_context_logits(ctx) == NULL);
    CHECK(bitnet_context_reset(ctx) == BITNET_OK);
    CHECK(bitnet_context_n_past(ctx) == 0);
    CHECK(bitnet_context_eval(ctx, tokens, 0) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_context_eval(ctx, NULL, 3) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_context_eval(NULL, tokens, 3) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_context_interrupt(NULL) == BITNET_E_INVALID_ARGUMENT);
    /* A stale interrupt does not cancel the next call. */
    CHECK(bitnet_context_interrupt(ctx) == BITNET_OK);
    CHECK(bitnet_context_eval(ctx, tokens, 3) == BITNET_OK);
    CHECK(bitnet_context_n_past(NULL) == 0);
    CHECK(bitnet_context_logits(NULL) == NULL);
    bitnet_context_free(ctx);
    bitnet_context_free(NULL);
}

static void test_bad_params(bitnet_model *model) {
    bitnet_context_params params;
    bitnet_context *ctx = (bitnet_context *)&params; /* must be reset to NULL on failure */
    bitnet_context_params_init(&params);
    params.kv_type = 7;
    CHECK(bitnet_context_new(model, &params, &ctx) == BITNET_E_INVALID_ARGUMENT);
    CHECK(ctx == NULL);
    bitnet_context_params_init(&params);
    params.n_ctx = 0xFFFFFFFFu; /* absurd: ~4 billion tokens of KV */
    CHECK(bitnet_context_new(model, &params, &ctx) == BITNET_E_OUT_OF_MEMORY);
    CHECK(strstr(bitnet_last_error(), "bytes") != NULL);
    bitnet_context_params_init(&params);
    params.size = 0;
    CHECK(bitnet_context_new(model, &params, &ctx) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_context_new(NULL, NULL, &ctx) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_context_new(model, NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
    /* Defaults: n_ctx from the model (4096 here). */
    CHECK(bitnet_context_new(model, NULL, &ctx) == BITNET_OK);
    CHECK(bitnet_context_n_ctx(ctx) == 4096);
    bitnet_context_free(ctx);
}

/* Two threads hammer one context: every call returns OK, BUSY or CONTEXT_FULL; nothing breaks. */
struct hammer {
    bitnet_context *ctx;
    const int32_t *tokens;
    int busy, unexpected;
};

static void *hammer_thread(void *arg) {
    struct hammer *h = arg;
    int i;
    for (i = 0; i < 300; i++) {
        int32_t rc = (i % 10 == 9) ? bitnet_context_reset(h->ctx) : bitnet_context_eval(h->ctx, h->tokens, 4);
        if (rc == BITNET_E_BUSY) __atomic_add_fetch(&h->busy, 1, __ATOMIC_RELAXED);
        else if (rc != BITNET_OK && rc != BITNET_E_CONTEXT_FULL) __atomic_add_fetch(&h->unexpected, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void test_two_threads_one_context(bitnet_model *model, const int32_t *tokens) {
    struct hammer h;
    pthread_t a, b;
    h.ctx = new_context(model, 64, 0);
    h.tokens = tokens;
    h.busy = h.unexpected = 0;
    pthread_create(&a, NULL, hammer_thread, &h);
    pthread_create(&b, NULL, hammer_thread, &h);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    CHECK(h.unexpected == 0);
    printf("  two threads on one context: %d BUSY results of 600 calls\n", h.busy);
    CHECK(bitnet_context_n_past(h.ctx) <= 64);
    bitnet_context_free(h.ctx);
}

int main(int argc, char **argv) {
    bitnet_model *model = NULL;
    int32_t tokens[N_TOKENS];
    float *ref;
    snprintf(shared_dir, sizeof shared_dir, "%s", argc > 1 ? argv[1] : "Tests/Fixtures");
    CHECK(read_tokens(tokens) == N_TOKENS);
    ref = read_reference();
    CHECK(ref != NULL);
    CHECK(bitnet_model_load(golden("m1-b158-relu2-i2_s.gguf"), NULL, &model) == BITNET_OK);
    if (!model || !ref) return CHECK_DONE();
    test_logits_match_reference(model, tokens, ref);
    test_token_by_token_equals_batch(model, tokens);
    test_limits_and_errors(model, tokens);
    test_bad_params(model);
    test_two_threads_one_context(model, tokens);
    bitnet_model_free(model);
    free(ref);
    return CHECK_DONE();
}
