/*
 * C-side test of the model API (bitnet_model_*), compiled as C99 against
 * include/bitnet.h and linked to libbitnet.so:
 *
 *   swift build --product bitnet
 *   mkdir -p /tmp/bitnet-lib && ln -sf $PWD/.build/debug/libbitnet.so /tmp/bitnet-lib/libbitnet.so.0
 *   cc -std=c99 -Wall -Wextra -Werror -Iinclude Tests/CAPI/test_model_api.c \
 *      -L.build/debug -lbitnet -o /tmp/test_model_api
 *   LD_LIBRARY_PATH=/tmp/bitnet-lib /tmp/test_model_api Tests/Fixtures
 *
 * (The library's SONAME is libbitnet.so.0; SwiftPM only builds libbitnet.so.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitnet.h"

static int failures = 0;
#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n",        \
                    __FILE__, __LINE__, #cond, bitnet_last_error());             \
            failures++;                                                          \
        }                                                                        \
    } while (0)

static int progress_calls = 0;
static float last_progress = -1.0f;
static int32_t count_progress(float progress, void *user_data) {
    (void)user_data;
    progress_calls++;
    last_progress = progress;
    return 0;
}
static int32_t abort_progress(float progress, void *user_data) {
    (void)progress;
    ++*(int *)user_data;
    return 1;
}

static void path_join(char *out, size_t cap, const char *root, const char *rest) {
    snprintf(out, cap, "%s/%s", root, rest);
}

int main(int argc, char **argv) {
    const char *shared = argc > 1 ? argv[1] : "Tests/Fixtures";
    char i2s[1024], vocab[1024], cut[1024];
    path_join(i2s, sizeof i2s, shared, "golden/m1-b158-relu2-i2_s.gguf");
    path_join(vocab, sizeof vocab, shared, "vocab/ggml-vocab-llama-bpe.gguf");

    /* Params defaults. */
    bitnet_model_params params;
    memset(&params, 0xAB, sizeof params);
    bitnet_model_params_init(&params);
    CHECK(params.size == sizeof(bitnet_model_params));
    CHECK(params.use_mmap == 1 && params.use_mlock == 0 && params.vocab_only == 0);
    CHECK(params.progress_callback == NULL && params.progress_user_data == NULL);
    CHECK(params.lm_head_type == BITNET_LM_HEAD_AUTO);
    CHECK(params.use_huge_pages == 1);
    CHECK(params.validate_only == 0);
    bitnet_model_params_init(NULL);

    /* Argument errors. */
    bitnet_model *model = (bitnet_model *)&params;
    CHECK(bitnet_model_load(NULL, NULL, &model) == BITNET_E_INVALID_ARGUMENT);
    CHECK(model == NULL);
    CHECK(strstr(bitnet_last_error(), "path must not be NULL") != NULL);
    CHECK(bitnet_model_load(i2s, NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
    bitnet_model_params zero_size = params;
    zero_size.size = 0;
    CHECK(bitnet_model_load(i2s, &zero_size, &model) == BITNET_E_INVALID_ARGUMENT);
    bitnet_model_params bad_head = params;
    bad_head.lm_head_type = 7;
    CHECK(bitnet_model_load(i2s, &bad_head, &model) == BITNET_E_INVALID_ARGUMENT);
    CHECK(model == NULL);
    CHECK(strstr(bitnet_last_error(), "lm_head_type 7") != NULL);
    bitnet_model_params stored_head = params;
    stored_head.lm_head_type = BITNET_LM_HEAD_AS_STORED;
    stored_head.use_huge_pages = 0;
    CHECK(bitnet_model_load(i2s, &stored_head, &model) == BITNET_OK);
    bitnet_model_free(model);
    model = NULL;

    /* I/O and format errors. */
    CHECK(bitnet_model_load("/nonexistent/x.gguf", NULL, &model) == BITNET_E_IO);
    CHECK(strstr(bitnet_last_error(), "No such file") != NULL);
    CHECK(bitnet_model_load("/tmp", NULL, &model) == BITNET_E_IO);
    snprintf(cut, sizeof cut, "/tmp/bitnet-capi-cut-%d.gguf", (int)rand());
    {
        FILE *in = fopen(i2s, "rb"), *out = fopen(cut, "wb");
        CHECK(in != NULL && out != NULL);
        char buffer[4096];
        size_t total = 0, n;
        while ((n = fread(buffer, 1, sizeof buffer, in)) > 0 && total < 300000) {
            fwrite(buffer, 1, n, out);
            total += n;
        }
        fclose(in);
        fclose(out);
    }
    CHECK(bitnet_model_load(cut, NULL, &model) == BITNET_E_FORMAT);
    CHECK(strstr(bitnet_last_error(), "extends past the end of the file") != NULL);
    CHECK(model == NULL);
    {   /* validate_only sees the same structural fault, even when asked not to map. */
        bitnet_model_params check = params;
        check.validate_only = 1;
        check.use_mmap = 0;
        CHECK(bitnet_model_load(cut, &check, &model) == BITNET_E_FORMAT && model == NULL);
        CHECK(strstr(bitnet_last_error(), "extends past the end of the file") != NULL);
    }
    remove(cut);

    /* validate_only: every structural check, no weights; info and tokenizer work, contexts do not. */
    {
        bitnet_model_params check = params;
        check.validate_only = 1;
        CHECK(bitnet_model_load(i2s, &check, &model) == BITNET_OK && model != NULL);
        bitnet_model_info vinfo;
        memset(&vinfo, 0, sizeof vinfo);
        vinfo.size = sizeof vinfo;
        CHECK(bitnet_model_info_get(model, &vinfo) == BITNET_OK);
        CHECK(vinfo.validate_only == 1 && vinfo.vocab_only == 0);
        CHECK(vinfo.n_layer == 2 && vinfo.n_embd == 256 && vinfo.weight_type == 36);
        int32_t ids[16];
        size_t n_ids = 0;
        CHECK(bitnet_tokenize(model, "hello", 5, 1, 0, ids, 16, &n_ids) == BITNET_OK && n_ids > 0);
        bitnet_context *vctx = NULL;
        CHECK(bitnet_context_new(model, NULL, &vctx) == BITNET_E_INVALID_ARGUMENT && vctx == NULL);
        CHECK(strstr(bitnet_last_error(), "validate_only") != NULL);
        bitnet_model_free(model);
        model = NULL;
    }

    /* A real load with progress. */
    params.progress_callback = count_progress;
    CHECK(bitnet_model_load(i2s, &params, &model) == BITNET_OK);
    CHECK(model != NULL);
    CHECK(progress_calls >= 2 && last_progress == 1.0f);

    bitnet_model_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    CHECK(bitnet_model_info_get(model, &info) == BITNET_OK);
    CHECK(info.size == sizeof info);
    CHECK(strcmp(info.arch, "bitnet-b1.58") == 0);
    CHECK(info.n_vocab == 512 && info.n_ctx_train == 4096 && info.n_embd == 256 && info.n_layer == 2);
    CHECK(info.n_head == 4 && info.n_head_kv == 2 && info.n_ff == 768 && info.n_rot == 64);
    CHECK(info.weight_type == 36);
    CHECK(info.n_params == 1707264);
    CHECK(info.file_size == 682880);
    CHECK(info.rope_freq_base == 500000.0f);
    CHECK(info.activation == BITNET_ACTIVATION_RELU2 && info.tied_output == 1 && info.vocab_only == 0);

    /* An older caller's shorter struct: nothing written past its size. */
    unsigned char raw[sizeof(bitnet_model_info)];
    memset(raw, 0xEE, sizeof raw);
    uint32_t short_size = 8;
    memcpy(raw, &short_size, 4);
    CHECK(bitnet_model_info_get(model, (bitnet_model_info *)(void *)raw) == BITNET_OK);
    CHECK(raw[4] == 'b' && raw[7] == 'n');  /* arch starts at offset 4 */
    CHECK(raw[8] == 0xEE);
    bitnet_model_info bad_info;
    bad_info.size = 0;
    CHECK(bitnet_model_info_get(model, &bad_info) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_model_info_get(NULL, &info) == BITNET_E_INVALID_ARGUMENT);

    /* Metadata. */
    char buf[64];
    size_t len = 0;
    CHECK(bitnet_model_meta_get(model, "bitnet-b1.58.context_length", buf, sizeof buf, &len) == BITNET_OK);
    CHECK(strcmp(buf, "4096") == 0 && len == 4);
    CHECK(bitnet_model_meta_get(model, "general.architecture", buf, sizeof buf, &len) == BITNET_OK);
    CHECK(strcmp(buf, "bitnet-b1.58") == 0);
    CHECK(bitnet_model_meta_get(model, "bitnet-b1.58.attention.layer_norm_rms_epsilon", buf, sizeof buf, &len) == BITNET_OK);
    CHECK(strcmp(buf, "1e-05") == 0);
    CHECK(bitnet_model_meta_get(model, "tokenizer.ggml.add_bos_token", buf, sizeof buf, &len) == BITNET_OK);
    CHECK(strcmp(buf, "true") == 0);
    CHECK(bitnet_model_meta_get(model, "bitnet-b1.58.context_length", buf, 3, &len) == BITNET_E_BUFFER_TOO_SMALL);
    CHECK(strcmp(buf, "40") == 0 && len == 4);
    CHECK(bitnet_model_meta_get(model, "tokenizer.ggml.tokens", NULL, 0, &len) == BITNET_E_BUFFER_TOO_SMALL);
    CHECK(len > 512 * 3);
    char *tokens = malloc(len + 1);
    CHECK(bitnet_model_meta_get(model, "tokenizer.ggml.tokens", tokens, len + 1, NULL) == BITNET_OK);
    CHECK(tokens[0] == '[' && tokens[len - 1] == ']');
    free(tokens);
    CHECK(bitnet_model_meta_get(model, "no.such.key", buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    CHECK(strstr(bitnet_last_error(), "no.such.key") != NULL);
    CHECK(bitnet_model_meta_get(model, NULL, buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_model_meta_count(model) == 27);
    CHECK(bitnet_model_meta_count(NULL) == 0);
    CHECK(bitnet_model_meta_key(model, 0, buf, sizeof buf, &len) == BITNET_OK);
    CHECK(strcmp(buf, "general.architecture") == 0);
    CHECK(bitnet_model_meta_key(model, 27, buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_model_meta_key(model, -1, buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    bitnet_model_free(model);
    bitnet_model_free(NULL);

    /* Cancel from the progress callback, with and without mmap. */
    for (int mmap = 0; mmap <= 1; mmap++) {
        int calls = 0;
        bitnet_model_params cancel;
        bitnet_model_params_init(&cancel);
        cancel.use_mmap = mmap;
        cancel.progress_callback = abort_progress;
        cancel.progress_user_data = &calls;
        model = (bitnet_model *)&cancel;
        CHECK(bitnet_model_load(i2s, &cancel, &model) == BITNET_E_CANCELLED);
        CHECK(model == NULL && calls == 1);
    }

    /* A caller compiled against an older, shorter params struct (size + use_mmap only). */
    struct { uint32_t size; int32_t use_mmap; } old_params = { 8, 0 };
    CHECK(bitnet_model_load(i2s, (const bitnet_model_params *)(const void *)&old_params, &model) == BITNET_OK);
    bitnet_model_free(model);

    /* Vocab only. */
    bitnet_model_params vocab_params;
    bitnet_model_params_init(&vocab_params);
    /* Arch llama is supported; a vocabulary-only file lacks its tensors. */
    CHECK(bitnet_model_load(vocab, &vocab_params, &model) == BITNET_E_FORMAT && model == NULL);
    CHECK(strstr(bitnet_last_error(), "token_embd.weight") != NULL);
    vocab_params.vocab_only = 1;
    CHECK(bitnet_model_load(vocab, &vocab_params, &model) == BITNET_OK);
    info.size = sizeof info;
    CHECK(bitnet_model_info_get(model, &info) == BITNET_OK);
    CHECK(info.vocab_only == 1 && info.weight_type == -1 && info.n_vocab == 128256 && info.n_params == 0);
    CHECK(strcmp(info.arch, "llama") == 0);
    bitnet_model_free(model);

    if (failures == 0) printf("test_model_api: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
