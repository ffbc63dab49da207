/* The tool-call paths: tools JSON and tool_choice (bitnet_tools_validate),
 * messages JSON rendered with tools (bitnet_apply_chat_template_tools), reply
 * parsing (bitnet_tool_calls_parse), and now and then a short generation
 * constrained by the tools. The first byte picks the path (bits 0-1), the
 * template (bits 2-3) and whether to generate (bits 4-6 all zero); the rest
 * is the text (for rendering: messages, a NUL, then tools). Every call must
 * return OK or a documented error with a message, never crash, hang or take
 * unbounded memory; parsed calls must be well formed. */
#include "fuzz_common.h"

static bitnet_model *model;
static bitnet_context *ctx;
static const char *templates[] = {"llama3", "chatml", "bitnet", "unknown"};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    bitnet_context_params cp;
    (void)argc;
    (void)argv;
    if (bitnet_model_load(fuzz_fixture_path("families/qwen3.tq2_0.gguf"), NULL, &model) != BITNET_OK) {
        fprintf(stderr, "cannot load the model: %s\n", bitnet_last_error());
        abort();
    }
    bitnet_context_params_init(&cp);
    cp.n_ctx = 256;
    cp.n_threads = 1;
    if (bitnet_context_new(model, &cp, &ctx) != BITNET_OK) {
        fprintf(stderr, "cannot create a context: %s\n", bitnet_last_error());
        abort();
    }
    return 0;
}

static void check_error(int32_t rc) {
    FUZZ_STATUS(rc);
    if (rc != BITNET_OK) FUZZ_ASSERT(strlen(bitnet_last_error()) > 0);
}

static void check_parse(const char *template_name, const char *text, size_t len) {
    bitnet_tool_calls *calls = NULL;
    int32_t rc = bitnet_tool_calls_parse(model, template_name, text, len, &calls);
    FUZZ_ASSERT(rc == BITNET_OK || rc == BITNET_E_INVALID_ARGUMENT);
    check_error(rc);
    if (rc != BITNET_OK) {
        FUZZ_ASSERT(calls == NULL);
        return;
    }
    FUZZ_ASSERT(calls != NULL && calls->content != NULL);
    FUZZ_ASSERT(fuzz_valid_utf8((const uint8_t *)calls->content, strlen(calls->content)));
    FUZZ_ASSERT((calls->n_calls == 0) == (calls->calls == NULL));
    for (size_t i = 0; i < calls->n_calls; i++) {
        const bitnet_tool_call *call = &calls->calls[i];
        FUZZ_ASSERT(call->size == sizeof *call);
        FUZZ_ASSERT(strncmp(call->id, "call_", 5) == 0);
        FUZZ_ASSERT(strlen(call->name) >= 1 && strlen(call->name) <= 64);
        FUZZ_ASSERT(call->arguments_json[0] == '{');
    }
    /* No calls: the content is the whole reply. */
    if (calls->n_calls == 0) FUZZ_ASSERT(memcmp(calls->content, text, len) == 0 && calls->content[len] == 0);
    bitnet_tool_calls_free(calls);
}

static int32_t on_chunk(const char *text, size_t len, const bitnet_token_info *info, void *user_data) {
    (void)info;
    (void)user_data;
    FUZZ_ASSERT(len > 0 && fuzz_valid_utf8((const uint8_t *)text, len));
    return BITNET_CONTINUE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t control;
    char *text, buf[4096];
    size_t len = 0, text_len;
    const char *template_name;
    int32_t rc;
    if (size < 1 || size > (2u << 20)) return 0;
    control = data[0];
    template_name = templates[(control >> 2) & 3];
    text_len = size - 1;
    text = malloc(size + 1);
    memcpy(text, data + 1, text_len);
    text[text_len] = 0;

    switch (control & 3) {
    case 0: { /* tools, and the part after a NUL as tool_choice */
        size_t first = strlen(text);
        const char *choice = first < text_len ? text + first + 1 : NULL;
        rc = bitnet_tools_validate(text, choice);
        FUZZ_ASSERT(rc == BITNET_OK || rc == BITNET_E_INVALID_ARGUMENT);
        check_error(rc);
        if (rc == BITNET_OK && (control & 0x70) == 0 && (control & 0x0C) != 0x0C) {
            bitnet_generation_params p;
            bitnet_generation_result r;
            bitnet_generation_params_init(&p);
            p.tools_json = text;
            p.tool_choice = choice;
            p.tool_template = template_name;
            p.seed = control;
            p.temperature = (control & 0x80) ? 0.0f : 1.0f;
            p.max_new_tokens = 8;
            r.size = sizeof r;
            rc = bitnet_generate(ctx, "x", &p, on_chunk, NULL, &r);
            FUZZ_ASSERT(rc == BITNET_OK || rc == BITNET_E_INVALID_ARGUMENT || rc == BITNET_E_UNSUPPORTED);
            check_error(rc);
        }
        break;
    }
    case 1: { /* messages, a NUL, tools */
        size_t first = strlen(text);
        const char *tools = first < text_len ? text + first + 1 : NULL;
        rc = bitnet_apply_chat_template_tools(NULL, template_name, text, tools, control >> 7, buf, sizeof buf, &len);
        FUZZ_ASSERT(rc == BITNET_OK || rc == BITNET_E_INVALID_ARGUMENT || rc == BITNET_E_BUFFER_TOO_SMALL);
        check_error(rc);
        if (rc == BITNET_OK) FUZZ_ASSERT(len < sizeof buf && strlen(buf) == len && fuzz_valid_utf8((const uint8_t *)buf, len));
        break;
    }
    default: /* a reply (any bytes, NULs included) */
        check_parse(template_name, text, text_len);
        break;
    }
    free(text);
    return 0;
}
