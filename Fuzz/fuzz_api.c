/* C-API sequences: the input is a program of random calls with random
 * arguments on a tiny model — contexts with random params, eval (ids in and
 * out of range), truncate, reset, shift, generate with callbacks that
 * continue, pause, cancel or return garbage, resume, streams (started, read,
 * cancelled, freed at any point), prefix cache warm/clear, state save/load,
 * stats, logits, interrupt, tokenize/detokenize. Every status must be a
 * documented one, never BITNET_E_INTERNAL; n_past never exceeds n_ctx; chunks
 * are non-empty valid UTF-8; a saved state loads back to the same n_past. */
#include "fuzz_common.h"

static bitnet_model *model;
static int32_t n_vocab;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    if (bitnet_model_load(fuzz_fixture_path("golden/m1-b158-relu2-i2_s.gguf"), NULL, &model) != BITNET_OK) {
        fprintf(stderr, "cannot load the model: %s\n", bitnet_last_error());
        abort();
    }
    n_vocab = bitnet_vocab_size(model);
    return 0;
}

typedef struct script {
    fuzz_input *in;
    int chunks;
} script;

static int32_t on_chunk(const char *text, size_t len, const bitnet_token_info *info, void *user_data) {
    script *s = user_data;
    FUZZ_ASSERT(len > 0 && fuzz_valid_utf8((const uint8_t *)text, len));
    FUZZ_ASSERT(info != NULL && info->n_past >= 0);
    s->chunks++;
    /* max_new_tokens 0 + BITNET_OVERFLOW_SHIFT + no EOS generates forever, as documented:
     * the caller has to stop it (found as a libFuzzer timeout). */
    if (s->chunks > 64) return BITNET_CANCEL;
    switch (fuzz_byte(s->in) % 6) {
    case 0: case 1: case 2: return BITNET_CONTINUE;
    case 3: return BITNET_PAUSE;
    case 4: return BITNET_CANCEL;
    default: return (int32_t)fuzz_u32(s->in); /* garbage: means cancel */
    }
}

static int32_t on_progress(size_t done, size_t total, void *user_data) {
    fuzz_input *in = user_data;
    FUZZ_ASSERT(done <= total);
    return fuzz_byte(in) == 0xFF; /* cancel now and then */
}

static bitnet_context *new_context(fuzz_input *in) {
    bitnet_context_params p;
    bitnet_context_params_init(&p);
    p.n_ctx = 1 + fuzz_byte(in) % 64;
    p.n_batch = fuzz_byte(in) % 20; /* 0 is invalid */
    p.n_threads = 1 + fuzz_byte(in) % 2;
    p.kv_type = fuzz_byte(in) % 4; /* 3 is invalid */
    uint8_t flags = fuzz_byte(in);
    p.prefix_cache_bytes = (flags & 1) ? 0 : (uint64_t)(flags >> 1) << 12;
    p.prefix_cache_auto = (flags >> 6) & 1;
    p.overflow_policy = (flags >> 7) & 1;
    p.n_keep = fuzz_byte(in) % 8;
    p.logits_all = fuzz_byte(in) & 1;
    bitnet_context *ctx = NULL;
    int32_t rc = bitnet_context_new(model, &p, &ctx);
    FUZZ_STATUS(rc);
    FUZZ_ASSERT((rc == BITNET_OK) == (ctx != NULL));
    return ctx;
}

/* Up to 24 bytes of the input as a NUL-terminated prompt (NUL cuts it, invalid UTF-8 is possible). */
static void read_text(fuzz_input *in, char *out, size_t cap) {
    size_t got, want = fuzz_byte(in) % 24;
    const uint8_t *p = fuzz_bytes(in, want < cap - 1 ? want : cap - 1, &got);
    memcpy(out, p, got);
    out[got] = 0;
}

static void fill_params(fuzz_input *in, bitnet_generation_params *gp, const char **stops) {
    bitnet_generation_params_init(gp);
    gp->temperature = (float)(fuzz_byte(in) % 8) / 4.0f; /* 0 = greedy */
    gp->top_k = fuzz_byte(in) % 60;
    gp->seed = fuzz_byte(in);
    gp->max_new_tokens = fuzz_byte(in) % 6;
    uint8_t flags = fuzz_byte(in);
    gp->ignore_eos = flags & 1;
    gp->add_bos = (flags >> 1) & 1;
    gp->parse_special = (flags >> 2) & 1;
    if ((flags >> 3) & 1) {
        gp->stop_sequences = stops;
        gp->n_stop_sequences = 2;
    }
    if ((flags >> 4) & 1) {
        gp->progress = on_progress;
        gp->progress_user_data = in;
    }
    if ((flags >> 5) & 1) gp->repetition_penalty = 1.3f;
}

static void check_context(bitnet_context *ctx) {
    int32_t n_past = bitnet_context_n_past(ctx), n_ctx = bitnet_context_n_ctx(ctx);
    FUZZ_ASSERT(n_past >= 0 && n_past <= n_ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_input in = {data, size, 0};
    bitnet_context *ctx = new_context(&in);
    bitnet_stream *stream = NULL;
    /* The last generation had max_new_tokens = 0 (no limit): with the shift
     * overflow policy and no EOS it runs until the caller stops it, so it is
     * only ever resumed with a callback, which cancels after 64 chunks (a
     * resume without one would be a host asking for an endless loop). */
    int unbounded = 0;
    const char *stops[] = {"e ", "\xc3\xa9"};
    int steps;
    for (steps = 0; steps < 48 && !fuzz_done(&in); steps++) {
        if (!ctx) { ctx = new_context(&in); continue; }
        uint8_t op = fuzz_byte(&in) % 17;
        int32_t rc = BITNET_OK;
        switch (op) {
        case 0: { /* eval */
            int32_t toks[16];
            size_t n = fuzz_byte(&in) % 17, k;
            for (k = 0; k < n; k++) toks[k] = (int32_t)(fuzz_byte(&in) * 2) - 4 + (fuzz_byte(&in) == 1 ? n_vocab : 0);
            rc = bitnet_context_eval(ctx, n ? toks : NULL, n);
            break;
        }
        case 1: rc = bitnet_context_truncate(ctx, (int32_t)fuzz_byte(&in) - 8); break;
        case 2: rc = bitnet_context_reset(ctx); break;
        case 3: { int32_t dropped = -1; rc = bitnet_context_shift(ctx, &dropped); break; }
        case 4: { /* generate */
            char prompt[32];
            bitnet_generation_params gp;
            bitnet_generation_result res;
            script s = {&in, 0};
            read_text(&in, prompt, sizeof prompt);
            int null_prompt = fuzz_byte(&in) % 4 == 0;
            fill_params(&in, &gp, stops);
            memset(&res, 0, sizeof res);
            res.size = sizeof res;
            unbounded = gp.max_new_tokens == 0;
            rc = bitnet_generate(ctx, null_prompt ? NULL : prompt, &gp, on_chunk, &s, &res);
            FUZZ_ASSERT(res.n_generated >= 0);
            break;
        }
        case 5: { /* resume */
            script s = {&in, 0};
            int with_callback = (fuzz_byte(&in) & 1) || unbounded;
            rc = bitnet_generate_resume(ctx, with_callback ? on_chunk : NULL, &s, NULL);
            break;
        }
        case 6: { /* stream start (replacing a running one) */
            char prompt[32];
            bitnet_generation_params gp;
            read_text(&in, prompt, sizeof prompt);
            fill_params(&in, &gp, stops);
            if (stream && (fuzz_byte(&in) & 1)) { bitnet_stream_free(stream); stream = NULL; }
            bitnet_stream *next = NULL;
            rc = bitnet_stream_start(ctx, fuzz_byte(&in) % 5 == 0 ? NULL : prompt, &gp, fuzz_byte(&in) % 4, &next);
            FUZZ_ASSERT((rc == BITNET_OK) == (next != NULL));
            if (next) { bitnet_stream_free(stream); stream = next; }
            break;
        }
        case 7: /* stream next */
            if (stream) {
                char buf[64];
                size_t len = 0;
                uint8_t how = fuzz_byte(&in);
                rc = bitnet_stream_next(stream, buf, how & 1 ? 4 : sizeof buf, &len, how & 2 ? -1 : 0);
                if (rc == BITNET_OK) FUZZ_ASSERT(len > 0 && fuzz_valid_utf8((const uint8_t *)buf, len));
            }
            break;
        case 8: if (stream) rc = bitnet_stream_cancel(stream); break;
        case 9: bitnet_stream_free(stream); stream = NULL; break;
        case 10: { /* prefix cache */
            char text[32];
            read_text(&in, text, sizeof text);
            rc = fuzz_byte(&in) & 1 ? bitnet_cache_warm(ctx, text) : bitnet_cache_clear(ctx);
            break;
        }
        case 11: { /* state round trip */
            size_t sz = 0;
            rc = bitnet_state_size(ctx, &sz);
            if (rc == BITNET_OK) {
                uint8_t *buf = malloc(sz ? sz : 1);
                int32_t before = bitnet_context_n_past(ctx);
                rc = bitnet_state_save_buffer(ctx, buf, sz, &sz);
                if (rc == BITNET_OK) {
                    FUZZ_ASSERT(bitnet_context_reset(ctx) == BITNET_OK);
                    rc = bitnet_state_load_buffer(ctx, buf, sz);
                    FUZZ_ASSERT(rc == BITNET_OK && bitnet_context_n_past(ctx) == before);
                }
                free(buf);
            }
            break;
        }
        case 12: {
            bitnet_context_stats st;
            memset(&st, 0, sizeof st);
            st.size = sizeof st;
            rc = bitnet_context_stats_get(ctx, &st);
            if (rc == BITNET_OK) FUZZ_ASSERT(st.n_past <= st.n_ctx);
            break;
        }
        case 13: { /* logits */
            const float *l = bitnet_context_logits_ith(ctx, (int32_t)fuzz_byte(&in) - 8);
            if (l) { volatile float x = l[0] + l[n_vocab - 1]; (void)x; }
            break;
        }
        case 14: { /* interrupt, then a call it must not cancel */
            int32_t tok = 5;
            FUZZ_ASSERT(bitnet_context_interrupt(ctx) == BITNET_OK);
            rc = bitnet_context_eval(ctx, &tok, 1);
            FUZZ_ASSERT(rc != BITNET_E_CANCELLED);
            break;
        }
        case 15: { /* tokens */
            char text[32];
            int32_t ids[64];
            size_t n = 0, len = 0;
            char out[256];
            read_text(&in, text, sizeof text);
            rc = bitnet_tokenize(model, text, strlen(text), fuzz_byte(&in) & 1, fuzz_byte(&in) & 1, ids, 64, &n);
            if (rc == BITNET_OK) FUZZ_STATUS(bitnet_detokenize(model, ids, n, out, sizeof out, &len));
            break;
        }
        default: /* a new context; the old one goes once its stream is gone */
            bitnet_stream_free(stream);
            stream = NULL;
            bitnet_context_free(ctx);
            ctx = new_context(&in);
            break;
        }
        FUZZ_STATUS(rc);
        if (getenv("FUZZ_TRACE")) fprintf(stderr, "step %d op %d -> %d (n_past %d)\n", steps, op, rc, bitnet_context_n_past(ctx));
        if (ctx && !stream) check_context(ctx);
    }
    bitnet_stream_free(stream);
    bitnet_context_free(ctx);
    return 0;
}
