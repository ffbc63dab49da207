/* State loading: the input is a saved context state (after one selector byte
 * that picks the context: f16, f32 or q8 KV cache, and buffer or file
 * loading). A state that loads must leave a usable context: n_past within
 * n_ctx, evaluation and a one-token generation continuing from it work. A
 * state that fails must leave the context as it was.
 *
 * With FUZZ_WRITE_SEEDS=DIR set, initialisation writes real states of each
 * context into DIR (the seed corpus) and the run continues normally. */
#include "fuzz_common.h"

enum { N_CONTEXTS = 3 };
static bitnet_model *model;
static bitnet_context *contexts[N_CONTEXTS];

static void write_seed(const char *dir, int which, int variant, const uint8_t *state, size_t size) {
    char path[1024];
    snprintf(path, sizeof path, "%s/state-%d-%d.bin", dir, which, variant);
    FILE *f = fopen(path, "wb");
    if (!f) return;
    uint8_t selector = (uint8_t)which;
    fwrite(&selector, 1, 1, f);
    fwrite(state, 1, size, f);
    fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    if (bitnet_model_load(fuzz_fixture_path("golden/m1-b158-relu2-i2_s.gguf"), NULL, &model) != BITNET_OK) {
        fprintf(stderr, "cannot load the model: %s\n", bitnet_last_error());
        abort();
    }
    const int32_t kv_types[N_CONTEXTS] = {BITNET_KV_F16, BITNET_KV_F32, BITNET_KV_Q8};
    const char *seed_dir = getenv("FUZZ_WRITE_SEEDS");
    int i;
    for (i = 0; i < N_CONTEXTS; i++) {
        bitnet_context_params p;
        bitnet_context_params_init(&p);
        p.n_ctx = 48;
        p.n_threads = 1;
        p.kv_type = kv_types[i];
        p.prefix_cache_bytes = 0;
        FUZZ_ASSERT(bitnet_context_new(model, &p, &contexts[i]) == BITNET_OK);
        if (!seed_dir) continue;
        int variant;
        for (variant = 0; variant < 3; variant++) {
            int32_t toks[40];
            int k, n = variant == 0 ? 0 : variant == 1 ? 3 : 40;
            for (k = 0; k < n; k++) toks[k] = (k * 37 + variant) % 500 + 1;
            bitnet_context_reset(contexts[i]);
            if (n > 0) FUZZ_ASSERT(bitnet_context_eval(contexts[i], toks, (size_t)n) == BITNET_OK);
            size_t size = 0;
            FUZZ_ASSERT(bitnet_state_size(contexts[i], &size) == BITNET_OK);
            uint8_t *buf = malloc(size);
            FUZZ_ASSERT(bitnet_state_save_buffer(contexts[i], buf, size, &size) == BITNET_OK);
            write_seed(seed_dir, i, variant, buf, size);
            free(buf);
        }
        bitnet_context_reset(contexts[i]);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    bitnet_context *ctx = contexts[data[0] % N_CONTEXTS];
    int from_file = (data[0] >> 4) & 1;
    FUZZ_ASSERT(bitnet_context_reset(ctx) == BITNET_OK);
    int32_t one = 7;
    FUZZ_ASSERT(bitnet_context_eval(ctx, &one, 1) == BITNET_OK); /* a known state to compare with */
    int32_t rc;
    if (from_file) {
        fuzz_memfile f;
        if (fuzz_memfile_open(&f, data + 1, size - 1) != 0) return 0;
        rc = bitnet_state_load(ctx, f.path);
        fuzz_memfile_close(&f);
    } else {
        rc = bitnet_state_load_buffer(ctx, data + 1, size - 1);
    }
    FUZZ_STATUS(rc);
    int32_t n_past = bitnet_context_n_past(ctx);
    int32_t n_ctx = bitnet_context_n_ctx(ctx);
    if (rc != BITNET_OK) {
        FUZZ_ASSERT(n_past == 1); /* unchanged */
        return 0;
    }
    FUZZ_ASSERT(n_past >= 0 && n_past <= n_ctx);
    if (n_past < n_ctx) FUZZ_ASSERT(bitnet_context_eval(ctx, &one, 1) == BITNET_OK);
    if (bitnet_context_n_past(ctx) > 0 && bitnet_context_n_past(ctx) < n_ctx) {
        bitnet_generation_params gp;
        bitnet_generation_params_init(&gp);
        gp.max_new_tokens = 1;
        gp.temperature = 0;
        rc = bitnet_generate(ctx, NULL, &gp, NULL, NULL, NULL);
        FUZZ_ASSERT(rc == BITNET_OK);
    }
    return 0;
}
