/* Prefix cache, KV memory, statistics, context shift and saved state from C. */
#define _POSIX_C_SOURCE 200809L
#include <bitnet.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

#define N_VOCAB 512

static char shared_dir[512];

static const char *golden(const char *name) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/golden/%s", shared_dir, name);
    return path;
}

static bitnet_context *new_context(bitnet_model *model, uint32_t n_ctx, int32_t kv_type, int32_t overflow) {
    bitnet_context_params params;
    bitnet_context *ctx = NULL;
    bitnet_context_params_init(&params);
    params.n_ctx = n_ctx;
    params.kv_type = kv_type;
    params.n_threads = 2;
    params.overflow_policy = overflow;
    CHECK(bitnet_context_new(model, &params, &ctx) == BITNET_OK);
    return ctx;
}

static void fill_tokens(int32_t *tokens, int n, unsigned seed) {
    int i;
    for (i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        tokens[i] = 1 + (int32_t)((seed >> 8) % (N_VOCAB - 1));
    }
}

static int same_logits(bitnet_context *a, bitnet_context *b) {
    const float *la = bitnet_context_logits(a), *lb = bitnet_context_logits(b);
    return la && lb && memcmp(la, lb, sizeof(float) * N_VOCAB) == 0;
}

static void test_params_and_memory(bitnet_model *model) {
    bitnet_context_params params;
    size_t f16 = 0, q8 = 0;
    bitnet_context_stats stats;
    bitnet_context *ctx;
    bitnet_context_params_init(&params);
    CHECK(params.prefix_cache_bytes == 64u << 20);
    CHECK(params.prefix_eviction == BITNET_EVICT_LRU);
    CHECK(params.prefix_cache_auto == 0);
    CHECK(params.overflow_policy == BITNET_OVERFLOW_STOP);
    CHECK(params.n_keep == 4);

    params.n_ctx = 1024;
    CHECK(bitnet_kv_bytes_estimate(model, &params, &f16) == BITNET_OK);
    CHECK(f16 == 2u * 2 * 128 * 2 * 1024); /* layers · (K,V) · kv_dim · f16 · n_ctx */
    params.kv_type = BITNET_KV_Q8;
    CHECK(bitnet_kv_bytes_estimate(model, &params, &q8) == BITNET_OK);
    CHECK(q8 < f16);
    CHECK(bitnet_kv_bytes_estimate(NULL, &params, &q8) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_kv_bytes_estimate(model, &params, NULL) == BITNET_E_INVALID_ARGUMENT);
    params.kv_type = 7;
    CHECK(bitnet_kv_bytes_estimate(model, &params, &q8) == BITNET_E_INVALID_ARGUMENT);
    params.kv_type = BITNET_KV_F16;
    params.prefix_eviction = 9;
    CHECK(bitnet_kv_bytes_estimate(model, &params, &q8) == BITNET_E_INVALID_ARGUMENT);

    /* An absurd n_ctx is refused, not a crash. */
    {
        bitnet_context *huge = NULL;
        int32_t rc;
        bitnet_context_params_init(&params);
        params.n_ctx = 0xFFFFFFFFu;
        rc = bitnet_context_new(model, &params, &huge);
        CHECK(rc == BITNET_E_OUT_OF_MEMORY || rc == BITNET_E_INVALID_ARGUMENT);
        CHECK(huge == NULL);
    }

    /* The stats report what the estimate promised; an old, shorter stats struct gets its prefix. */
    ctx = new_context(model, 1024, BITNET_KV_F16, BITNET_OVERFLOW_STOP);
    memset(&stats, 0, sizeof stats);
    stats.size = sizeof stats;
    CHECK(bitnet_context_stats_get(ctx, &stats) == BITNET_OK);
    CHECK(stats.size == sizeof stats);
    CHECK(stats.kv_bytes == f16);
    CHECK(stats.kv_bytes_per_token == 2u * 2 * 128 * 2);
    CHECK(stats.n_ctx == 1024 && stats.n_past == 0 && stats.kv_type == BITNET_KV_F16);
    memset(&stats, 0xAB, sizeof stats);
    stats.size = offsetof(bitnet_context_stats, kv_bytes);
    CHECK(bitnet_context_stats_get(ctx, &stats) == BITNET_OK);
    CHECK(stats.kv_bytes_per_token == 2u * 2 * 128 * 2);
    CHECK(stats.kv_bytes == 0xABABABABABABABABull);
    CHECK(bitnet_context_stats_get(ctx, NULL) == BITNET_E_INVALID_ARGUMENT);
    bitnet_context_free(ctx);

    /* A caller compiled against the first version of the params struct (24 bytes). */
    {
        bitnet_context *old = NULL;
        bitnet_context_params_init(&params);
        params.size = 24;
        params.n_ctx = 64;
        params.prefix_cache_bytes = 0; /* beyond the caller's size: ignored */
        CHECK(bitnet_context_new(model, &params, &old) == BITNET_OK);
        CHECK(bitnet_cache_warm_tokens(old, (const int32_t[]){1, 2, 3}, 3) == BITNET_OK);
        bitnet_context_free(old);
    }
}

static void test_prefix_cache(bitnet_model *model) {
    int32_t prompt[120];
    bitnet_context *cold = new_context(model, 256, BITNET_KV_F16, BITNET_OVERFLOW_STOP);
    bitnet_context *warm = new_context(model, 256, BITNET_KV_F16, BITNET_OVERFLOW_STOP);
    bitnet_context_stats stats;
    fill_tokens(prompt, 120, 1);
    CHECK(bitnet_context_eval(cold, prompt, 120) == BITNET_OK);

    CHECK(bitnet_cache_warm_tokens(warm, prompt, 80) == BITNET_OK);
    CHECK(bitnet_context_n_past(warm) == 80);
    CHECK(bitnet_context_reset(warm) == BITNET_OK);
    CHECK(bitnet_context_eval(warm, prompt, 120) == BITNET_OK);
    CHECK(bitnet_context_n_past(warm) == 120);
    CHECK(same_logits(warm, cold));
    stats.size = sizeof stats;
    CHECK(bitnet_context_stats_get(warm, &stats) == BITNET_OK);
    CHECK(stats.prefix_hits == 1);
    CHECK(stats.prefix_tokens_reused == 80);
    CHECK(stats.prefix_entries == 1);
    CHECK(stats.prefix_bytes > 80u * stats.kv_bytes_per_token);

    /* Text is tokenized like a prompt; errors leave the cache alone. */
    CHECK(bitnet_cache_warm(warm, "Once upon a time") == BITNET_OK);
    CHECK(bitnet_context_n_past(warm) > 0);
    CHECK(bitnet_cache_warm(warm, NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_cache_warm(warm, "") == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_cache_warm(warm, "\xff\xfe") == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_cache_warm(NULL, "x") == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_cache_warm_tokens(warm, prompt, 0) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_cache_warm_tokens(warm, (const int32_t[]){-1}, 1) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_context_stats_get(warm, &stats) == BITNET_OK);
    CHECK(stats.prefix_entries == 2);
    CHECK(bitnet_cache_clear(warm) == BITNET_OK);
    CHECK(bitnet_context_stats_get(warm, &stats) == BITNET_OK);
    CHECK(stats.prefix_entries == 0 && stats.prefix_bytes == 0 && stats.prefix_hits == 1);
    bitnet_context_free(cold);
    bitnet_context_free(warm);
}

static void test_state(bitnet_model *model, bitnet_model *other_model) {
    int32_t prompt[100], next;
    size_t size = 0, written = 0;
    unsigned char *buf;
    char path[256];
    bitnet_context *a = new_context(model, 256, BITNET_KV_F16, BITNET_OVERFLOW_STOP);
    bitnet_context *b = new_context(model, 256, BITNET_KV_F16, BITNET_OVERFLOW_STOP);
    bitnet_context *c = new_context(other_model, 256, BITNET_KV_F16, BITNET_OVERFLOW_STOP);
    fill_tokens(prompt, 100, 2);
    CHECK(bitnet_context_eval(a, prompt, 100) == BITNET_OK);
    CHECK(bitnet_state_size(a, &size) == BITNET_OK);
    CHECK(size > 100u * 2 * 2 * 128 * 2);
    buf = malloc(size);
    CHECK(bitnet_state_save_buffer(a, buf, size - 1, &written) == BITNET_E_BUFFER_TOO_SMALL);
    CHECK(bitnet_state_save_buffer(a, buf, size, &written) == BITNET_OK);
    CHECK(written == size);

    CHECK(bitnet_context_eval(b, prompt, 5) == BITNET_OK);
    buf[size / 2] ^= 1;
    CHECK(bitnet_state_load_buffer(b, buf, size) == BITNET_E_FORMAT);
    buf[size / 2] ^= 1;
    CHECK(bitnet_state_load_buffer(b, buf, size - 8) == BITNET_E_FORMAT);
    CHECK(bitnet_state_load_buffer(c, buf, size) == BITNET_E_STATE_MISMATCH);
    CHECK(bitnet_context_n_past(b) == 5 && bitnet_context_n_past(c) == 0);
    CHECK(bitnet_state_load_buffer(b, buf, size) == BITNET_OK);
    CHECK(bitnet_context_n_past(b) == 100);
    CHECK(same_logits(a, b));

    /* Files: atomic save, load, then both continue identically. */
    snprintf(path, sizeof path, "/tmp/bitnet-c-state-%ld.bin", (long)getpid());
    CHECK(bitnet_state_save(a, path) == BITNET_OK);
    CHECK(bitnet_context_reset(b) == BITNET_OK);
    CHECK(bitnet_state_load(b, path) == BITNET_OK);
    CHECK(bitnet_state_load(c, path) == BITNET_E_STATE_MISMATCH);
    CHECK(bitnet_state_load(b, "/nonexistent/state.bin") == BITNET_E_IO);
    CHECK(bitnet_state_save(b, "/nonexistent/dir/state.bin") == BITNET_E_IO);
    CHECK(bitnet_state_save(b, NULL) == BITNET_E_INVALID_ARGUMENT);
    next = 17;
    CHECK(bitnet_context_eval(a, &next, 1) == BITNET_OK);
    CHECK(bitnet_context_eval(b, &next, 1) == BITNET_OK);
    CHECK(same_logits(a, b));
    unlink(path);
    free(buf);
    bitnet_context_free(a);
    bitnet_context_free(b);
    bitnet_context_free(c);
}

static void test_overflow(bitnet_model *model) {
    int32_t tokens[100];
    int i, ok = 1, finite = 1;
    int32_t dropped = -1;
    bitnet_context *shift = new_context(model, 32, BITNET_KV_Q8, BITNET_OVERFLOW_SHIFT);
    bitnet_context *stop = new_context(model, 32, BITNET_KV_F16, BITNET_OVERFLOW_STOP);
    fill_tokens(tokens, 100, 3);
    for (i = 0; i < 100; i++) {
        const float *logits;
        int j;
        if (bitnet_context_eval(shift, &tokens[i], 1) != BITNET_OK) ok = 0;
        logits = bitnet_context_logits(shift);
        if (!logits) { ok = 0; continue; }
        for (j = 0; j < N_VOCAB; j++) if (!isfinite(logits[j])) finite = 0;
        if (bitnet_context_n_past(shift) > 32) ok = 0;
    }
    CHECK(ok);
    CHECK(finite);
    {
        /* Full: a bad id fails the call before the policy shifts anything. */
        int32_t before, bad[2] = {tokens[0], N_VOCAB};
        while (bitnet_context_n_past(shift) < 32 && bitnet_context_eval(shift, tokens, 1) == BITNET_OK) {}
        before = bitnet_context_n_past(shift);
        CHECK(before == 32);
        CHECK(bitnet_context_eval(shift, bad, 2) == BITNET_E_INVALID_ARGUMENT);
        CHECK(bitnet_context_n_past(shift) == before);
        CHECK(bitnet_context_eval(shift, bad, 1) == BITNET_OK); /* the good id alone shifts, then fits */
        CHECK(bitnet_context_n_past(shift) < before);
    }
    CHECK(bitnet_context_shift(shift, &dropped) == BITNET_OK);
    CHECK(dropped > 0);
    CHECK(bitnet_context_shift(NULL, &dropped) == BITNET_E_INVALID_ARGUMENT);

    CHECK(bitnet_context_eval(stop, tokens, 32) == BITNET_OK);
    CHECK(bitnet_context_eval(stop, tokens, 1) == BITNET_E_CONTEXT_FULL);
    CHECK(bitnet_context_n_past(stop) == 32);
    CHECK(bitnet_context_shift(stop, NULL) == BITNET_OK);
    CHECK(bitnet_context_n_past(stop) == 18); /* keeps 4, drops half of 28 */
    CHECK(bitnet_context_eval(stop, tokens, 1) == BITNET_OK);
    bitnet_context_free(shift);
    bitnet_context_free(stop);
}

int main(int argc, char **argv) {
    bitnet_model *model = NULL, *other = NULL;
    snprintf(shared_dir, sizeof shared_dir, "%s", argc > 1 ? argv[1] : "Tests/Fixtures");
    CHECK(bitnet_model_load(golden("m1-b158-relu2-i2_s.gguf"), NULL, &model) == BITNET_OK);
    CHECK(bitnet_model_load(golden("m2-bitnet-silu-tq2_0.gguf"), NULL, &other) == BITNET_OK);
    if (!model || !other) return CHECK_DONE();
    test_params_and_memory(model);
    test_prefix_cache(model);
    test_state(model, other);
    test_overflow(model);
    bitnet_model_free(model);
    bitnet_model_free(other);
    return CHECK_DONE();
}
