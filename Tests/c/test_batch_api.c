/* Batched decoding from C: contexts of one bitnet_batch generate on their own
 * threads with the unchanged generation calls, and each gets exactly the text
 * it gets alone; stats, limits and argument errors. */
#define _POSIX_C_SOURCE 200809L
#include <bitnet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define N_SEQ 4
#define N_NEW 24

static const char *prompts[N_SEQ] = {"The quick brown fox", "In the beginning", "Hello there", "1, 2, 3,"};

typedef struct {
    char text[4096];
    size_t len;
} collector;

static int32_t collect(const char *text, size_t len, const bitnet_token_info *info, void *user_data) {
    collector *c = user_data;
    (void)info;
    if (c->len + len < sizeof c->text) {
        memcpy(c->text + c->len, text, len);
        c->len += len;
    }
    return BITNET_CONTINUE;
}

static bitnet_generation_params sampled(int i) {
    bitnet_generation_params p;
    bitnet_generation_params_init(&p);
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 0.95f;
    p.seed = (uint64_t)(40 + i);
    p.max_new_tokens = N_NEW;
    p.ignore_eos = 1;
    return p;
}

typedef struct {
    bitnet_model *model;
    bitnet_batch *batch; /* NULL: alone */
    int index;
    int status;
    collector out;
} job;

static void *run_job(void *arg) {
    job *j = arg;
    bitnet_context_params cp;
    bitnet_context *ctx = NULL;
    bitnet_generation_params p = sampled(j->index);
    bitnet_context_params_init(&cp);
    cp.n_ctx = 128;
    cp.n_threads = 2;
    cp.batch = j->batch;
    j->status = bitnet_context_new(j->model, &cp, &ctx);
    if (j->status == BITNET_OK) j->status = bitnet_generate(ctx, prompts[j->index], &p, collect, &j->out, NULL);
    bitnet_context_free(ctx);
    return NULL;
}

static void test_batched_threads_equal_solo(bitnet_model *model) {
    job solo[N_SEQ], batched[N_SEQ];
    pthread_t threads[N_SEQ];
    bitnet_batch_params bp;
    bitnet_batch *batch = NULL;
    bitnet_batch_stats stats;
    int i;
    memset(solo, 0, sizeof solo);
    memset(batched, 0, sizeof batched);
    for (i = 0; i < N_SEQ; i++) {
        solo[i].model = model;
        solo[i].index = i;
        run_job(&solo[i]);
        CHECK(solo[i].status == BITNET_OK && solo[i].out.len > 0);
    }
    bitnet_batch_params_init(&bp);
    CHECK(bp.size == sizeof bp && bp.max_sequences == 8 && bp.prompt_chunk == 16 && bp.n_threads == 0);
    bp.max_sequences = N_SEQ;
    bp.n_threads = 2;
    CHECK(bitnet_batch_new(model, &bp, &batch) == BITNET_OK && batch != NULL);
    if (!batch) return;
    for (i = 0; i < N_SEQ; i++) {
        batched[i].model = model;
        batched[i].batch = batch;
        batched[i].index = i;
        CHECK(pthread_create(&threads[i], NULL, run_job, &batched[i]) == 0);
    }
    for (i = 0; i < N_SEQ; i++) pthread_join(threads[i], NULL);
    for (i = 0; i < N_SEQ; i++) {
        CHECK(batched[i].status == BITNET_OK);
        CHECK(batched[i].out.len == solo[i].out.len && memcmp(batched[i].out.text, solo[i].out.text, solo[i].out.len) == 0);
    }
    memset(&stats, 0, sizeof stats);
    stats.size = sizeof stats;
    CHECK(bitnet_batch_stats_get(batch, &stats) == BITNET_OK);
    CHECK(stats.n_sequences == 0); /* every context was freed */
    CHECK(stats.n_steps > 0 && stats.n_steps < (uint64_t)(N_SEQ * N_NEW));
    CHECK(stats.n_tokens >= (uint64_t)(N_SEQ * N_NEW));
    CHECK(stats.mean_batch_size > 1.0 && stats.tokens_per_second > 0);
    /* A caller built against a shorter struct gets only its bytes. */
    {
        bitnet_batch_stats small;
        memset(&small, 0xAB, sizeof small);
        small.size = 8;
        CHECK(bitnet_batch_stats_get(batch, &small) == BITNET_OK && small.size == 8);
        CHECK(small.n_steps == 0xABABABABABABABABull);
    }
    bitnet_batch_free(batch);
}

static void test_limits_and_errors(bitnet_model *model, const char *other_path) {
    bitnet_batch_params bp;
    bitnet_batch *batch = NULL;
    bitnet_context_params cp;
    bitnet_context *a = NULL, *b = NULL;
    bitnet_batch_stats stats;
    bitnet_model *other = NULL;
    CHECK(bitnet_batch_new(NULL, NULL, &batch) == BITNET_E_INVALID_ARGUMENT && batch == NULL);
    CHECK(bitnet_batch_new(model, NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
    bitnet_batch_params_init(&bp);
    bp.max_sequences = 0;
    CHECK(bitnet_batch_new(model, &bp, &batch) == BITNET_E_INVALID_ARGUMENT);
    CHECK(strstr(bitnet_last_error(), "max_sequences") != NULL);
    bitnet_batch_params_init(&bp);
    bp.prompt_chunk = -1;
    CHECK(bitnet_batch_new(model, &bp, &batch) == BITNET_E_INVALID_ARGUMENT);
    bitnet_batch_params_init(&bp);
    bp.prefix_eviction = 9;
    CHECK(bitnet_batch_new(model, &bp, &batch) == BITNET_E_INVALID_ARGUMENT);
    bitnet_batch_params_init(&bp);
    bp.size = 2;
    CHECK(bitnet_batch_new(model, &bp, &batch) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_batch_stats_get(NULL, &stats) == BITNET_E_INVALID_ARGUMENT);
    bitnet_batch_free(NULL);

    bitnet_batch_params_init(&bp);
    bp.max_sequences = 1;
    CHECK(bitnet_batch_new(model, &bp, &batch) == BITNET_OK);
    CHECK(bitnet_batch_stats_get(batch, NULL) == BITNET_E_INVALID_ARGUMENT);
    bitnet_context_params_init(&cp);
    CHECK(cp.batch == NULL);
    cp.n_ctx = 64;
    cp.batch = batch;
    CHECK(bitnet_context_new(model, &cp, &a) == BITNET_OK);
    CHECK(bitnet_context_new(model, &cp, &b) == BITNET_E_BUSY && b == NULL);
    CHECK(strstr(bitnet_last_error(), "max_sequences") != NULL);
    CHECK(bitnet_model_load(other_path, NULL, &other) == BITNET_OK);
    if (other) {
        bitnet_context_free(a); /* room in the batch: the refusal below is about the model */
        CHECK(bitnet_context_new(other, &cp, &b) == BITNET_E_INVALID_ARGUMENT && b == NULL);
        CHECK(strstr(bitnet_last_error(), "another model") != NULL);
        bitnet_model_free(other);
        CHECK(bitnet_context_new(model, &cp, &a) == BITNET_OK);
    }
    /* Freeing the batch handle first: the context keeps the batch running. */
    bitnet_batch_free(batch);
    {
        int32_t tokens[3] = {1, 2, 3};
        CHECK(bitnet_context_eval(a, tokens, 3) == BITNET_OK && bitnet_context_n_past(a) == 3);
    }
    bitnet_context_free(a);
}

int main(int argc, char **argv) {
    char path[1024];
    bitnet_model *model = NULL;
    snprintf(path, sizeof path, "%s/golden/m1-b158-relu2-i2_s.gguf", argc > 1 ? argv[1] : "Tests/Fixtures");
    CHECK(bitnet_model_load(path, NULL, &model) == BITNET_OK);
    if (!model) return CHECK_DONE();
    test_batched_threads_equal_solo(model);
    snprintf(path, sizeof path, "%s/golden/m1-bitnet-relu2-tq2_0.gguf", argc > 1 ? argv[1] : "Tests/Fixtures");
    test_limits_and_errors(model, path);
    bitnet_model_free(model);
    return CHECK_DONE();
}
