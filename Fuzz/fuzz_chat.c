/* Chat-template rendering: the input is split at NUL bytes into role,
 * content, role, content, ...; the first byte picks the template (bitnet,
 * llama3, the model's own) and add_assistant. Valid UTF-8 messages must
 * render; the snprintf-style sizing must agree with the rendered length. */
#include "fuzz_common.h"

static bitnet_model *models[2];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    bitnet_model_params p;
    bitnet_model_params_init(&p);
    p.vocab_only = 1;
    if (bitnet_model_load(fuzz_fixture_path("golden/m1-b158-relu2-i2_s.gguf"), &p, &models[0]) != BITNET_OK ||
        bitnet_model_load(fuzz_fixture_path("vocab/ggml-vocab-llama-bpe.gguf"), &p, &models[1]) != BITNET_OK) {
        fprintf(stderr, "cannot load the models: %s\n", bitnet_last_error());
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 1 << 16) return 0;
    uint8_t control = data[0];
    const char *names[] = {"bitnet", "llama3", NULL, "llama3"};
    const char *name = names[control & 3];
    int add_assistant = (control >> 2) & 1;
    bitnet_model *model = models[(control >> 3) & 1];

    /* Copy so that every piece is NUL-terminated (the last one too). */
    char *copy = malloc(size);
    memcpy(copy, data + 1, size - 1);
    copy[size - 1] = 0;
    const char *pieces[256];
    size_t n_pieces = 0, i, start = 0;
    for (i = 0; i < size && n_pieces < 256; i++) {
        if (copy[i] == 0) {
            pieces[n_pieces++] = copy + start;
            start = i + 1;
        }
    }
    size_t n = n_pieces / 2;
    const char *roles[128], *contents[128];
    for (i = 0; i < n; i++) {
        roles[i] = pieces[2 * i];
        contents[i] = pieces[2 * i + 1];
    }
    size_t len = 0;
    int32_t rc = bitnet_apply_chat_template(model, name, roles, contents, n, add_assistant, NULL, 0, &len);
    FUZZ_STATUS(rc);
    if (rc == BITNET_E_BUFFER_TOO_SMALL || rc == BITNET_OK) {
        char *out = malloc(len + 1);
        size_t len2 = 0;
        FUZZ_ASSERT(bitnet_apply_chat_template(model, name, roles, contents, n, add_assistant, out, len + 1, &len2) ==
                    BITNET_OK);
        FUZZ_ASSERT(len2 == len && strlen(out) <= len);
        /* The rendered prompt tokenizes (it is valid UTF-8 by construction). */
        size_t n_tokens = 0;
        int32_t trc = bitnet_tokenize(model, out, len, 1, 1, NULL, 0, &n_tokens);
        FUZZ_ASSERT(trc == BITNET_OK || trc == BITNET_E_BUFFER_TOO_SMALL);
        free(out);
    }
    free(copy);
    return 0;
}
