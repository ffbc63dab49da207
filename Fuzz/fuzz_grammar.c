/* The GBNF and JSON Schema parsers, and now and then a short constrained
 * generation with what they accepted. The first byte picks GBNF or JSON
 * Schema (bit 0) and whether to generate (bits 1-3 all zero: one input in
 * eight); the rest is the text. bitnet_grammar_validate must return OK or
 * BITNET_E_INVALID_ARGUMENT with a message (never crash, hang or take
 * unbounded memory, whatever the nesting or size); a grammar it accepts must
 * be accepted by bitnet_generate too, and generating under it may only end
 * with OK (any stop reason) or a documented error. */
#include "fuzz_common.h"

static bitnet_model *model;
static bitnet_context *ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    bitnet_context_params cp;
    (void)argc;
    (void)argv;
    if (bitnet_model_load(fuzz_fixture_path("golden/m1-b158-relu2-i2_s.gguf"), NULL, &model) != BITNET_OK) {
        fprintf(stderr, "cannot load the model: %s\n", bitnet_last_error());
        abort();
    }
    bitnet_context_params_init(&cp);
    cp.n_ctx = 64;
    cp.n_threads = 1;
    if (bitnet_context_new(model, &cp, &ctx) != BITNET_OK) {
        fprintf(stderr, "cannot create a context: %s\n", bitnet_last_error());
        abort();
    }
    return 0;
}

static int32_t on_chunk(const char *text, size_t len, const bitnet_token_info *info, void *user_data) {
    (void)info;
    (void)user_data;
    FUZZ_ASSERT(len > 0 && fuzz_valid_utf8((const uint8_t *)text, len));
    return BITNET_CONTINUE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t control;
    char *text;
    int schema;
    int32_t rc;
    if (size < 1 || size > (5u << 20)) return 0;
    control = data[0];
    schema = control & 1;
    text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;

    rc = schema ? bitnet_grammar_validate(NULL, text) : bitnet_grammar_validate(text, NULL);
    FUZZ_ASSERT(rc == BITNET_OK || rc == BITNET_E_INVALID_ARGUMENT);
    if (rc != BITNET_OK) FUZZ_ASSERT(strlen(bitnet_last_error()) > 0);

    if (rc == BITNET_OK && (control & 0x0E) == 0) {
        bitnet_generation_params p;
        bitnet_generation_result r;
        bitnet_generation_params_init(&p);
        if (schema) p.json_schema = text; else p.grammar = text;
        p.seed = control;
        p.temperature = (control & 0x10) ? 0.0f : 1.0f;
        p.top_k = (control & 0x20) ? 0 : 20;
        p.max_new_tokens = 8;
        r.size = sizeof r;
        rc = bitnet_generate(ctx, "{", &p, on_chunk, NULL, &r);
        /* A grammar the vocabulary cannot continue is an invalid argument; one too
         * ambiguous to track is unsupported; anything else must just work. */
        FUZZ_ASSERT(rc == BITNET_OK || rc == BITNET_E_INVALID_ARGUMENT || rc == BITNET_E_UNSUPPORTED);
        FUZZ_STATUS(rc);
    }
    free(text);
    return 0;
}
