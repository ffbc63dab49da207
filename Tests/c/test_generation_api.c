/* Generation from C: push mode (greedy = argmax, pause/resume, cancel, interrupt, stops,
 * UTF-8 chunks, busy detection), pull streams (backpressure, timeouts, cancel), NULL args. */
#define _POSIX_C_SOURCE 200809L
#include <bitnet.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

#define N_VOCAB 512
#define MAX_TEXT 65536
#define MAX_TOKENS 4096

static const char *PROMPT = "The quick brown fox jumps over the lazy dog";

static char model_path[1024];

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void sleep_ms(int ms) {
    struct timespec t;
    t.tv_sec = ms / 1000;
    t.tv_nsec = (long)(ms % 1000) * 1000000L;
    nanosleep(&t, NULL);
}

/* Strict UTF-8 check: no overlongs, no surrogates, nothing above U+10FFFF, nothing cut. */
static int valid_utf8(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned min;
        unsigned cp;
        size_t k;
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

/* What a stream callback saw. */
typedef struct collector {
    char text[MAX_TEXT];
    size_t len;
    int32_t tokens[MAX_TOKENS];
    size_t n_tokens;
    size_t chunk_ends[MAX_TOKENS]; /* text offset after each chunk */
    int chunks;
    int invalid_chunks;
    int empty_chunks;
    int pause_every;  /* > 0: return PAUSE after every n-th chunk */
    int cancel_after; /* > 0: return this code after that many chunks */
    int32_t cancel_code;
    int interrupt_after;
    bitnet_context *ctx; /* for re-entrancy checks */
    int reentrancy_checked;
    int busy_results;
} collector;

static int32_t collect(const char *text, size_t len, const bitnet_token_info *info, void *user_data) {
    collector *c = user_data;
    size_t i;
    if (len == 0) c->empty_chunks++;
    if (!valid_utf8((const unsigned char *)text, len)) c->invalid_chunks++;
    if (c->len + len < MAX_TEXT) {
        memcpy(c->text + c->len, text, len);
        c->len += len;
        c->text[c->len] = 0;
    }
    for (i = 0; i < info->n_tokens && c->n_tokens < MAX_TOKENS; i++) c->tokens[c->n_tokens++] = info->tokens[i];
    if (c->chunks < MAX_TOKENS) c->chunk_ends[c->chunks] = c->len;
    c->chunks++;
    if (c->ctx && !c->reentrancy_checked) {
        int32_t one = 1;
        c->reentrancy_checked = 1;
        c->busy_results += bitnet_generate(c->ctx, "x", NULL, NULL, NULL, NULL) == BITNET_E_BUSY;
        c->busy_results += bitnet_generate_resume(c->ctx, NULL, NULL, NULL) == BITNET_E_BUSY;
        c->busy_results += bitnet_context_eval(c->ctx, &one, 1) == BITNET_E_BUSY;
        c->busy_results += bitnet_context_reset(c->ctx) == BITNET_E_BUSY;
        {
            bitnet_stream *s = NULL;
            c->busy_results += bitnet_stream_start(c->ctx, "x", NULL, 1, &s) == BITNET_E_BUSY && s == NULL;
        }
        bitnet_context_free(c->ctx); /* refused while busy: must not crash */
    }
    if (c->interrupt_after > 0 && c->chunks == c->interrupt_after) bitnet_context_interrupt(c->ctx);
    if (c->cancel_after > 0 && c->chunks == c->cancel_after) return c->cancel_code;
    if (c->pause_every > 0 && c->chunks % c->pause_every == 0) return BITNET_PAUSE;
    return BITNET_CONTINUE;
}

static bitnet_context *new_context(bitnet_model *model, uint32_t n_ctx) {
    bitnet_context_params params;
    bitnet_context *ctx = NULL;
    bitnet_context_params_init(&params);
    params.n_ctx = n_ctx;
    params.kv_type = BITNET_KV_F32;
    params.n_threads = 2;
    CHECK(bitnet_context_new(model, &params, &ctx) == BITNET_OK);
    return ctx;
}

static bitnet_generation_params greedy_params(int32_t max_new) {
    bitnet_generation_params p;
    bitnet_generation_params_init(&p);
    CHECK(bitnet_generation_params_preset(&p, BITNET_PRESET_FAST) == BITNET_OK);
    p.max_new_tokens = max_new;
    p.ignore_eos = 1;
    return p;
}

static bitnet_generation_result new_result(void) {
    bitnet_generation_result r;
    memset(&r, 0, sizeof r);
    r.size = sizeof r;
    return r;
}

static int argmax(const float *x, int n) {
    int best = 0, i;
    for (i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

/* Greedy generation picks, token by token, the argmax of the eval API's logits. */
static void test_greedy_is_argmax(bitnet_model *model) {
    bitnet_context *ctx = new_context(model, 256);
    bitnet_context *ref = new_context(model, 256);
    bitnet_generation_params p = greedy_params(40);
    bitnet_generation_result r = new_result();
    collector *c = calloc(1, sizeof *c);
    int32_t prompt[256];
    size_t n_prompt = 0, i;
    CHECK(bitnet_generate(ctx, PROMPT, &p, collect, c, &r) == BITNET_OK);
    CHECK(r.stop_reason == BITNET_STOP_MAX_TOKENS);
    CHECK(r.n_generated == 40);
    CHECK(c->n_tokens == 40);
    CHECK(c->invalid_chunks == 0 && c->empty_chunks == 0);
    CHECK(bitnet_tokenize(model, PROMPT, strlen(PROMPT), 1, 0, prompt, 256, &n_prompt) == BITNET_OK);
    CHECK(r.n_prompt_tokens == (int32_t)n_prompt);
    CHECK(r.n_prompt_tokens_reused == 0);
    CHECK(r.time_to_first_token_ms > 0 && r.generation_tokens_per_second > 0 && r.prompt_tokens_per_second > 0);
    /* Every generated token is in the context (the last one too, after max tokens). */
    CHECK(bitnet_context_n_past(ctx) == (int32_t)n_prompt + 40);
    CHECK(bitnet_context_eval(ref, prompt, n_prompt) == BITNET_OK);
    for (i = 0; i < c->n_tokens; i++) {
        int32_t expected = argmax(bitnet_context_logits(ref), N_VOCAB);
        CHECK(c->tokens[i] == expected);
        CHECK(bitnet_context_eval(ref, &expected, 1) == BITNET_OK);
    }
    /* The same prompt again reuses all but its last token and gives the same text. */
    {
        collector *again = calloc(1, sizeof *again);
        bitnet_generation_result r2 = new_result();
        CHECK(bitnet_generate(ctx, PROMPT, &p, collect, again, &r2) == BITNET_OK);
        CHECK(r2.n_prompt_tokens_reused == (int32_t)n_prompt - 1);
        CHECK(again->len == c->len && memcmp(again->text, c->text, c->len) == 0);
        free(again);
    }
    /* prompt == NULL continues from the context: eval'd prompt + NULL = same text. */
    {
        collector *cont = calloc(1, sizeof *cont);
        bitnet_generation_result r3 = new_result();
        CHECK(bitnet_context_reset(ctx) == BITNET_OK);
        CHECK(bitnet_generate(ctx, NULL, &p, collect, cont, &r3) == BITNET_E_INVALID_ARGUMENT); /* empty */
        CHECK(cont->chunks == 0);
        CHECK(bitnet_context_eval(ctx, prompt, n_prompt) == BITNET_OK);
        CHECK(bitnet_generate(ctx, NULL, &p, collect, cont, &r3) == BITNET_OK);
        CHECK(r3.n_prompt_tokens == (int32_t)n_prompt && r3.n_prompt_tokens_reused == (int32_t)n_prompt);
        CHECK(cont->len == c->len && memcmp(cont->text, c->text, c->len) == 0);
        free(cont);
    }
    printf("  greedy: %d tokens, ttft %.2f ms, prompt %.0f tok/s, generation %.0f tok/s\n", r.n_generated,
           r.time_to_first_token_ms, r.prompt_tokens_per_second, r.generation_tokens_per_second);
    free(c);
    bitnet_context_free(ref);
    bitnet_context_free(ctx);
}

/* Pausing after every chunk and resuming gives exactly the uninterrupted text. */
static void test_pause_resume(bitnet_model *model, const bitnet_generation_params *p, const char *what) {
    bitnet_context *ctx = new_context(model, 256);
    collector *whole = calloc(1, sizeof *whole);
    collector *paused = calloc(1, sizeof *paused);
    bitnet_generation_result r = new_result();
    int32_t status;
    int pauses = 0;
    CHECK(bitnet_generate(ctx, PROMPT, p, collect, whole, NULL) == BITNET_OK);
    paused->pause_every = 1;
    status = bitnet_generate(ctx, PROMPT, p, collect, paused, &r);
    while (status == BITNET_PAUSED && pauses < 10000) {
        pauses++;
        CHECK(r.stop_reason == BITNET_STOP_NONE);
        status = bitnet_generate_resume(ctx, collect, paused, &r);
    }
    CHECK(status == BITNET_OK);
    CHECK(pauses == paused->chunks);
    CHECK(paused->len == whole->len && memcmp(paused->text, whole->text, whole->len) == 0);
    CHECK(paused->n_tokens == whole->n_tokens);
    CHECK(bitnet_generate_resume(ctx, collect, paused, NULL) == BITNET_E_INVALID_ARGUMENT); /* nothing paused */
    /* A context changed while paused refuses to resume instead of producing wrong text. */
    paused->pause_every = 1;
    CHECK(bitnet_generate(ctx, PROMPT, p, collect, paused, NULL) == BITNET_PAUSED);
    CHECK(bitnet_context_truncate(ctx, 3) == BITNET_OK);
    CHECK(bitnet_generate_resume(ctx, collect, paused, NULL) == BITNET_E_INVALID_ARGUMENT);
    printf("  pause/resume (%s): %d pauses, %zu bytes identical\n", what, pauses, whole->len);
    free(whole);
    free(paused);
    bitnet_context_free(ctx);
}

/* Cancel from the callback (BITNET_CANCEL or any unknown value) or by interrupt; the next call works. */
static void test_cancel_and_interrupt(bitnet_model *model) {
    bitnet_context *ctx = new_context(model, 256);
    bitnet_generation_params p = greedy_params(30);
    collector *ref = calloc(1, sizeof *ref);
    collector *c = calloc(1, sizeof *c);
    bitnet_generation_result r = new_result();
    int32_t codes[2] = {BITNET_CANCEL, 77};
    int k;
    CHECK(bitnet_generate(ctx, PROMPT, &p, collect, ref, NULL) == BITNET_OK);
    for (k = 0; k < 2; k++) {
        memset(c, 0, sizeof *c);
        c->cancel_after = 5;
        c->cancel_code = codes[k];
        CHECK(bitnet_generate(ctx, PROMPT, &p, collect, c, &r) == BITNET_E_CANCELLED);
        CHECK(r.stop_reason == BITNET_STOP_CANCELLED);
        CHECK(c->chunks == 5);
        memset(c, 0, sizeof *c);
        CHECK(bitnet_generate(ctx, PROMPT, &p, collect, c, &r) == BITNET_OK);
        CHECK(c->len == ref->len && memcmp(c->text, ref->text, ref->len) == 0);
    }
    /* Interrupt between tokens (from the callback, as another thread would). */
    memset(c, 0, sizeof *c);
    c->interrupt_after = 3;
    c->ctx = NULL;
    {
        collector *ic = c;
        ic->ctx = ctx;
        ic->reentrancy_checked = 1; /* only the interrupt here */
        CHECK(bitnet_generate(ctx, PROMPT, &p, collect, ic, &r) == BITNET_E_CANCELLED);
        CHECK(r.stop_reason == BITNET_STOP_CANCELLED);
        CHECK(ic->chunks == 3);
    }
    memset(c, 0, sizeof *c);
    CHECK(bitnet_generate(ctx, PROMPT, &p, collect, c, &r) == BITNET_OK);
    CHECK(c->len == ref->len && memcmp(c->text, ref->text, ref->len) == 0);
    free(ref);
    free(c);
    bitnet_context_free(ctx);
}

/* Inside a callback every call that would change the context says BUSY; free refuses. */
static void test_busy_from_callback(bitnet_model *model) {
    bitnet_context *ctx = new_context(model, 256);
    bitnet_generation_params p = greedy_params(5);
    collector *c = calloc(1, sizeof *c);
    c->ctx = ctx;
    CHECK(bitnet_generate(ctx, PROMPT, &p, collect, c, NULL) == BITNET_OK);
    CHECK(c->busy_results == 5);
    CHECK(c->chunks == 5);
    /* Still alive and usable after the refused free. */
    CHECK(bitnet_generate(ctx, PROMPT, &p, NULL, NULL, NULL) == BITNET_OK);
    free(c);
    bitnet_context_free(ctx);
}

static int32_t count_progress(size_t done, size_t total, void *user_data) {
    int *calls = user_data;
    (*calls)++;
    return done > total ? 1 : 0;
}

static int32_t cancel_progress(size_t done, size_t total, void *user_data) {
    (void)done;
    (void)total;
    (void)user_data;
    return 1;
}

static void test_progress(bitnet_model *model) {
    bitnet_context *ctx = new_context(model, 256);
    bitnet_generation_params p = greedy_params(3);
    collector *c = calloc(1, sizeof *c);
    int calls = 0;
    p.progress = count_progress;
    p.progress_user_data = &calls;
    CHECK(bitnet_generate(ctx, PROMPT, &p, collect, c, NULL) == BITNET_OK);
    CHECK(calls >= 2);
    p.progress = cancel_progress;
    memset(c, 0, sizeof *c);
    CHECK(bitnet_context_reset(ctx) == BITNET_OK);
    CHECK(bitnet_generate(ctx, PROMPT, &p, collect, c, NULL) == BITNET_E_CANCELLED);
    CHECK(c->chunks == 0);
    free(c);
    bitnet_context_free(ctx);
}

static size_t ascii_only_bias(bitnet_model *model, bitnet_logit_bias *bias);

/* A stop sequence that straddles a token boundary ends the text right before it. */
static void test_stop_sequence(bitnet_model *model) {
    bitnet_context *ctx = new_context(model, 512);
    bitnet_generation_params p = greedy_params(60);
    collector *whole = calloc(1, sizeof *whole);
    collector *c = calloc(1, sizeof *c);
    bitnet_generation_result r = new_result();
    char stop[8];
    const char *stops[2];
    int k, found = 0;
    bitnet_logit_bias *bias = calloc(N_VOCAB, sizeof *bias);
    p.logit_bias = bias;
    p.n_logit_bias = ascii_only_bias(model, bias); /* printable ASCII only: easy to cut anywhere */
    CHECK(bitnet_generate(ctx, PROMPT, &p, collect, whole, NULL) == BITNET_OK);
    /* Find a chunk boundary with ASCII on both sides (two bytes each). */
    for (k = 4; k < whole->chunks - 1 && !found; k++) {
        size_t e = whole->chunk_ends[k];
        size_t j;
        int ascii = e >= 2 && e + 2 <= whole->len;
        for (j = 0; ascii && j < 4; j++) ascii = (unsigned char)whole->text[e - 2 + j] < 0x80 && whole->text[e - 2 + j] != 0;
        if (ascii && whole->chunk_ends[k] - whole->chunk_ends[k - 1] >= 2) {
            memcpy(stop, whole->text + e - 2, 4);
            stop[4] = 0;
            found = 1;
        }
    }
    CHECK(found);
    if (found) {
        const char *at = strstr(whole->text, stop);
        stops[0] = "\xE2\x82\xAC never";
        stops[1] = stop;
        p.stop_sequences = stops;
        p.n_stop_sequences = 2;
        CHECK(bitnet_generate(ctx, PROMPT, &p, collect, c, &r) == BITNET_OK);
        CHECK(r.stop_reason == BITNET_STOP_SEQUENCE);
        CHECK(r.stop_index == 1);
        CHECK(at != NULL && c->len == (size_t)(at - whole->text));
        CHECK(memcmp(c->text, whole->text, c->len) == 0);
        CHECK(strstr(c->text, stop) == NULL);
        printf("  stop sequence \"%s\" across a token boundary: stopped after %zu bytes\n", stop, c->len);
    }
    /* Invalid stop sequences are rejected before anything runs. */
    {
        const char *bad[1] = {"\xC3"};
        const char *null_entry[1] = {NULL};
        memset(c, 0, sizeof *c);
        p.stop_sequences = bad;
        p.n_stop_sequences = 1;
        CHECK(bitnet_generate(ctx, PROMPT, &p, collect, c, NULL) == BITNET_E_INVALID_ARGUMENT);
        p.stop_sequences = null_entry;
        CHECK(bitnet_generate(ctx, PROMPT, &p, collect, c, NULL) == BITNET_E_INVALID_ARGUMENT);
        p.stop_sequences = NULL;
        CHECK(bitnet_generate(ctx, PROMPT, &p, collect, c, NULL) == BITNET_E_INVALID_ARGUMENT);
        CHECK(c->chunks == 0);
    }
    free(whole);
    free(c);
    free(bias);
    bitnet_context_free(ctx);
}

/* The id of the token whose bytes are exactly `piece`, or -1. */
static int32_t token_for(bitnet_model *model, const char *piece) {
    int32_t t;
    char buf[64];
    size_t len;
    for (t = 0; t < N_VOCAB; t++) {
        if (bitnet_token_to_piece(model, t, buf, sizeof buf, &len) == BITNET_OK && len == strlen(piece) &&
            memcmp(buf, piece, len) == 0)
            return t;
    }
    return -1;
}

/* Byte tokens of multi-byte characters, forced by logit bias: every chunk stays valid UTF-8. */
static void test_utf8_chunks(bitnet_model *model) {
    bitnet_context *ctx = new_context(model, 512);
    bitnet_generation_params p;
    collector *c = calloc(1, sizeof *c);
    const char *pieces[5] = {"\xC3", "\xA9", "\xE2", "\x82", "\xAC"}; /* é = C3 A9, € = E2 82 AC */
    bitnet_logit_bias bias[5];
    int k, n = 0;
    size_t multibyte = 0, i;
    bitnet_generation_params_init(&p);
    for (k = 0; k < 5; k++) {
        int32_t t = token_for(model, pieces[k]);
        CHECK(t >= 0);
        if (t >= 0) {
            bias[n].token = t;
            bias[n].bias = 200.0f;
            n++;
        }
    }
    p.logit_bias = bias;
    p.n_logit_bias = (size_t)n;
    p.temperature = 10.0f; /* near-uniform over the five biased byte tokens */
    p.top_k = 0;
    p.top_p = 1.0f;
    p.seed = 7;
    p.max_new_tokens = 200;
    p.ignore_eos = 1;
    CHECK(bitnet_generate(ctx, "abc", &p, collect, c, NULL) == BITNET_OK);
    CHECK(c->invalid_chunks == 0);
    CHECK(c->chunks > 0 && (size_t)c->chunks < c->n_tokens); /* some tokens were held back */
    for (i = 0; i < c->len; i++) multibyte += ((unsigned char)c->text[i] & 0xC0) == 0xC0;
    CHECK(multibyte > 0);
    {
        size_t complete = 0;
        const char *at = c->text;
        while ((at = strstr(at, "\xC3\xA9")) != NULL) { complete++; at += 2; }
        for (at = c->text; (at = strstr(at, "\xE2\x82\xAC")) != NULL; at += 3) complete++;
        CHECK(complete > 0); /* characters assembled from byte tokens across chunks */
        printf("  UTF-8: %zu byte tokens -> %d chunks, %zu multi-byte sequences (%zu assembled e-acute/euro), all valid\n",
               c->n_tokens, c->chunks, multibyte, complete);
    }
    free(c);
    bitnet_context_free(ctx);
}

/* Same seed, same prompt, same params: same text; another seed: (almost surely) another text. */
static void test_seeded_sampling(bitnet_model *model) {
    bitnet_context *ctx = new_context(model, 256);
    bitnet_generation_params p;
    collector *a = calloc(1, sizeof *a);
    collector *b = calloc(1, sizeof *b);
    collector *d = calloc(1, sizeof *d);
    bitnet_generation_params_init(&p);
    CHECK(bitnet_generation_params_preset(&p, BITNET_PRESET_QUALITY) == BITNET_OK);
    CHECK(fabsf(p.temperature - 0.8f) < 1e-6f && p.top_k == 100 && fabsf(p.repetition_penalty - 1.1f) < 1e-6f);
    CHECK(bitnet_generation_params_preset(&p, BITNET_PRESET_BALANCED) == BITNET_OK);
    CHECK(fabsf(p.temperature - 0.7f) < 1e-6f && p.top_k == 50 && fabsf(p.top_p - 0.9f) < 1e-6f);
    p.temperature = 1.5f; /* a random model is very peaked: spread it so seeds matter */
    p.seed = 1234;
    p.max_new_tokens = 48;
    p.ignore_eos = 1;
    CHECK(bitnet_generate(ctx, PROMPT, &p, collect, a, NULL) == BITNET_OK);
    CHECK(bitnet_context_reset(ctx) == BITNET_OK);
    CHECK(bitnet_generate(ctx, PROMPT, &p, collect, b, NULL) == BITNET_OK);
    p.seed = 99;
    CHECK(bitnet_generate(ctx, PROMPT, &p, collect, d, NULL) == BITNET_OK);
    CHECK(a->len == b->len && memcmp(a->text, b->text, a->len) == 0);
    CHECK(a->n_tokens == b->n_tokens && memcmp(a->tokens, b->tokens, a->n_tokens * sizeof(int32_t)) == 0);
    CHECK(!(d->n_tokens == a->n_tokens && memcmp(d->tokens, a->tokens, a->n_tokens * sizeof(int32_t)) == 0));
    free(a);
    free(b);
    free(d);
    bitnet_context_free(ctx);
}

/* ---- Streams ---- */

/* Bans every token whose bytes are not plain printable ASCII, so each token is one chunk. */
static size_t ascii_only_bias(bitnet_model *model, bitnet_logit_bias *bias) {
    int32_t t;
    size_t n = 0;
    for (t = 0; t < N_VOCAB; t++) {
        char buf[64];
        size_t len = 0, i;
        int ok = bitnet_token_to_piece(model, t, buf, sizeof buf, &len) == BITNET_OK && len > 0;
        for (i = 0; ok && i < len; i++) ok = (unsigned char)buf[i] >= 0x20 && (unsigned char)buf[i] < 0x7F;
        if (!ok) {
            bias[n].token = t;
            bias[n].bias = -INFINITY;
            n++;
        }
    }
    return n;
}

static void test_stream_matches_push(bitnet_model *model) {
    bitnet_context *ctx = new_context(model, 512);
    bitnet_generation_params p = greedy_params(40);
    bitnet_logit_bias *bias = calloc(N_VOCAB, sizeof *bias);
    collector *push = calloc(1, sizeof *push);
    char *text = calloc(1, MAX_TEXT);
    size_t total = 0, len = 0;
    char buf[256];
    bitnet_stream *s = NULL;
    bitnet_generation_result r = new_result();
    int32_t status, one = 1;
    int chunks = 0;
    p.logit_bias = bias;
    p.n_logit_bias = ascii_only_bias(model, bias);
    CHECK(bitnet_generate(ctx, PROMPT, &p, collect, push, NULL) == BITNET_OK);
    CHECK(bitnet_stream_start(ctx, PROMPT, &p, 1, &s) == BITNET_OK);
    CHECK(s != NULL);
    CHECK(bitnet_context_eval(ctx, &one, 1) == BITNET_E_BUSY); /* the stream holds the context */
    CHECK(bitnet_generate(ctx, PROMPT, &p, NULL, NULL, NULL) == BITNET_E_BUSY);
    /* A slow consumer: the producer must wait for room, never running far ahead. */
    for (;;) {
        sleep_ms(5);
        status = bitnet_stream_next(s, buf, sizeof buf, &len, -1);
        if (status != BITNET_OK) break;
        CHECK(len > 0 && buf[len] == 0);
        memcpy(text + total, buf, len);
        total += len;
        chunks++;
    }
    CHECK(status == BITNET_DONE);
    CHECK(bitnet_stream_next(s, buf, sizeof buf, &len, 0) == BITNET_DONE);
    CHECK(bitnet_stream_result(s, &r) == BITNET_OK);
    CHECK(r.stop_reason == BITNET_STOP_MAX_TOKENS && r.n_generated == 40);
    CHECK(r.max_tokens_ahead >= 1 && r.max_tokens_ahead <= 2); /* capacity + 1 */
    CHECK(total == push->len && memcmp(text, push->text, total) == 0);
    printf("  stream capacity 1, slow consumer: %d chunks, producer at most %d tokens ahead\n", chunks,
           r.max_tokens_ahead);
    bitnet_stream_free(s);
    /* Context usable again after the stream is gone. */
    CHECK(bitnet_context_eval(ctx, &one, 1) == BITNET_OK);
    free(bias);
    free(push);
    free(text);
    bitnet_context_free(ctx);
}

static int32_t slow_progress(size_t done, size_t total, void *user_data) {
    (void)done;
    (void)total;
    (void)user_data;
    sleep_ms(150);
    return 0;
}

static void test_stream_edges(bitnet_model *model) {
    bitnet_context *ctx = new_context(model, 512);
    bitnet_generation_params p = greedy_params(0); /* until the context is full */
    bitnet_stream *s = NULL;
    char buf[256];
    size_t len = 0, needed;
    double t0, freed_ms;
    /* Timeouts: the prompt progress callback keeps the producer busy for a while. */
    p.progress = slow_progress;
    CHECK(bitnet_stream_start(ctx, PROMPT, &p, 1, &s) == BITNET_OK);
    CHECK(bitnet_stream_next(s, buf, sizeof buf, &len, 0) == BITNET_E_TIMEOUT);
    t0 = now_ms();
    CHECK(bitnet_stream_next(s, buf, sizeof buf, &len, 30) == BITNET_E_TIMEOUT);
    CHECK(now_ms() - t0 >= 25);
    /* Too small a buffer: the size is reported and the chunk is not lost. */
    CHECK(bitnet_stream_next(s, buf, 1, &len, -1) == BITNET_E_BUFFER_TOO_SMALL);
    needed = len;
    CHECK(needed >= 1);
    CHECK(bitnet_stream_next(s, buf, sizeof buf, &len, -1) == BITNET_OK);
    CHECK(len == needed);
    /* Let the producer fill the queue and block, then free: must return promptly. */
    sleep_ms(200);
    t0 = now_ms();
    bitnet_stream_free(s);
    freed_ms = now_ms() - t0;
    CHECK(freed_ms < 500);
    printf("  stream_free with the producer blocked on a full queue: %.2f ms\n", freed_ms);
    /* Cancel, then next says CANCELLED; free after cancel. */
    p.progress = NULL;
    CHECK(bitnet_stream_start(ctx, PROMPT, &p, 2, &s) == BITNET_OK);
    CHECK(bitnet_stream_next(s, buf, sizeof buf, &len, -1) == BITNET_OK);
    CHECK(bitnet_stream_cancel(s) == BITNET_OK);
    CHECK(bitnet_stream_next(s, buf, sizeof buf, &len, -1) == BITNET_E_CANCELLED);
    bitnet_stream_free(s);
    /* Interrupt through the context: the stream ends with CANCELLED. */
    CHECK(bitnet_stream_start(ctx, PROMPT, &p, 1, &s) == BITNET_OK);
    CHECK(bitnet_stream_next(s, buf, sizeof buf, &len, -1) == BITNET_OK);
    CHECK(bitnet_context_interrupt(ctx) == BITNET_OK);
    {
        int32_t status;
        int guard = 0;
        bitnet_generation_result r = new_result();
        while ((status = bitnet_stream_next(s, buf, sizeof buf, &len, -1)) == BITNET_OK && guard < 10) guard++;
        CHECK(status == BITNET_E_CANCELLED);
        CHECK(bitnet_stream_result(s, &r) == BITNET_OK && r.stop_reason == BITNET_STOP_CANCELLED);
    }
    bitnet_stream_free(s);
    /* A prompt that does not fit fails on the stream, not at start. */
    {
        char *long_prompt = malloc(8000);
        int i;
        for (i = 0; i < 7998; i += 2) memcpy(long_prompt + i, "a ", 2);
        long_prompt[7998] = 0;
        CHECK(bitnet_stream_start(ctx, long_prompt, &p, 1, &s) == BITNET_OK);
        CHECK(bitnet_stream_next(s, buf, sizeof buf, &len, -1) == BITNET_E_CONTEXT_FULL);
        bitnet_stream_free(s);
        free(long_prompt);
    }
    bitnet_context_free(ctx);
}

static void test_invalid_arguments(bitnet_model *model) {
    bitnet_context *ctx = new_context(model, 64);
    bitnet_generation_params p;
    bitnet_generation_result r = new_result();
    bitnet_stream *s = (bitnet_stream *)&p;
    char buf[8];
    size_t len;
    bitnet_generation_params_init(NULL);
    bitnet_generation_params_init(&p);
    CHECK(p.size == sizeof p && p.max_new_tokens == 256 && p.add_bos == 1 && p.seed == BITNET_SEED_RANDOM);
    CHECK(bitnet_generation_params_preset(NULL, BITNET_PRESET_FAST) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_generation_params_preset(&p, 17) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_generate(NULL, "x", NULL, NULL, NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_generate(ctx, "\xFF", NULL, NULL, NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(strstr(bitnet_last_error(), "UTF-8") != NULL);
    p.size = 2;
    CHECK(bitnet_generate(ctx, "x", &p, NULL, NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
    bitnet_generation_params_init(&p);
    p.temperature = -1;
    CHECK(bitnet_generate(ctx, "x", &p, NULL, NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(strstr(bitnet_last_error(), "temperature") != NULL);
    bitnet_generation_params_init(&p);
    p.max_new_tokens = -3;
    CHECK(bitnet_generate(ctx, "x", &p, NULL, NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
    bitnet_generation_params_init(&p);
    p.n_stop_tokens = 1;
    CHECK(bitnet_generate(ctx, "x", &p, NULL, NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
    {
        int32_t bad_stop = N_VOCAB;
        bitnet_logit_bias bad_bias = {N_VOCAB + 5, 1.0f};
        p.stop_tokens = &bad_stop;
        CHECK(bitnet_generate(ctx, "x", &p, NULL, NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
        bitnet_generation_params_init(&p);
        p.logit_bias = &bad_bias;
        p.n_logit_bias = 1;
        CHECK(bitnet_generate(ctx, "x", &p, NULL, NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
        p.logit_bias = NULL;
        CHECK(bitnet_generate(ctx, "x", &p, NULL, NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
    }
    r.size = 0;
    CHECK(bitnet_generate(ctx, "x", NULL, NULL, NULL, &r) == BITNET_E_INVALID_ARGUMENT);
    r.size = sizeof r;
    /* A prompt longer than the context. */
    {
        char long_prompt[512];
        int i;
        for (i = 0; i < 500; i += 2) memcpy(long_prompt + i, " a", 2);
        long_prompt[500] = 0;
        CHECK(bitnet_generate(ctx, long_prompt, NULL, NULL, NULL, &r) == BITNET_E_CONTEXT_FULL);
    }
    /* Context full while generating: stops with CONTEXT_FULL. */
    bitnet_generation_params_init(&p);
    p.max_new_tokens = 0;
    p.ignore_eos = 1;
    CHECK(bitnet_generate(ctx, "x", &p, NULL, NULL, &r) == BITNET_OK);
    CHECK(r.stop_reason == BITNET_STOP_CONTEXT_FULL && bitnet_context_n_past(ctx) == 64);
    CHECK(bitnet_generate_resume(NULL, NULL, NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_generate_resume(ctx, NULL, NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
    s = NULL;
    CHECK(bitnet_stream_start(NULL, "x", NULL, 1, &s) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_stream_start(ctx, "x", NULL, 1, NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_stream_start(ctx, "x", NULL, 0, &s) == BITNET_E_INVALID_ARGUMENT && s == NULL);
    CHECK(bitnet_stream_start(ctx, "\xC3(", NULL, 1, &s) == BITNET_E_INVALID_ARGUMENT && s == NULL);
    CHECK(bitnet_stream_next(NULL, buf, sizeof buf, &len, 0) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_stream_cancel(NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_stream_result(NULL, &r) == BITNET_E_INVALID_ARGUMENT);
    bitnet_stream_free(NULL);
    CHECK(bitnet_stream_start(ctx, "x", NULL, 1, &s) == BITNET_OK);
    CHECK(bitnet_stream_next(s, buf, sizeof buf, NULL, 0) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_stream_next(s, NULL, 4, &len, 0) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_stream_result(s, NULL) == BITNET_E_INVALID_ARGUMENT);
    bitnet_stream_free(s);
    bitnet_context_free(ctx);
}

int main(int argc, char **argv) {
    bitnet_model *model = NULL;
    bitnet_generation_params sampled;
    if (argc < 2) {
        fprintf(stderr, "usage: %s FIXTURES_DIR\n", argv[0]);
        return 2;
    }
    snprintf(model_path, sizeof model_path, "%s/golden/m1-b158-relu2-i2_s.gguf", argv[1]);
    if (bitnet_model_load(model_path, NULL, &model) != BITNET_OK) {
        fprintf(stderr, "cannot load %s: %s\n", model_path, bitnet_last_error());
        return 1;
    }
    test_invalid_arguments(model);
    test_greedy_is_argmax(model);
    {
        bitnet_generation_params greedy = greedy_params(50);
        test_pause_resume(model, &greedy, "greedy");
    }
    bitnet_generation_params_init(&sampled);
    sampled.seed = 42;
    sampled.max_new_tokens = 50;
    sampled.ignore_eos = 1;
    sampled.temperature = 1.2f;
    test_pause_resume(model, &sampled, "sampled, seed 42");
    test_cancel_and_interrupt(model);
    test_busy_from_callback(model);
    test_progress(model);
    test_stop_sequence(model);
    test_utf8_chunks(model);
    test_seeded_sampling(model);
    test_stream_matches_push(model);
    test_stream_edges(model);
    bitnet_model_free(model);
    return CHECK_DONE();
}
