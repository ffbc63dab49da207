/* The GGUF loader: the input is a whole model file. It is loaded twice, from
 * memory (a memfd, mapped) and read into the heap (use_mmap = 0); both must
 * agree. A file that loads is then used: info, metadata, tokenizer, and a
 * context that evaluates two tokens (which touches every weight). */
#include "fuzz_common.h"

static void exercise(bitnet_model *model) {
    bitnet_model_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    FUZZ_ASSERT(bitnet_model_info_get(model, &info) == BITNET_OK);
    char buf[512];
    size_t len;
    int32_t count = bitnet_model_meta_count(model);
    FUZZ_ASSERT(count >= 0);
    int32_t i;
    for (i = 0; i < count && i < 64; i++) {
        FUZZ_STATUS(bitnet_model_meta_key(model, i, buf, sizeof buf, &len));
        if (bitnet_model_meta_key(model, i, buf, sizeof buf, &len) == BITNET_OK)
            FUZZ_STATUS(bitnet_model_meta_get(model, buf, buf, sizeof buf, &len));
    }
    int32_t ids[64];
    size_t n = 0;
    int32_t rc = bitnet_tokenize(model, "Hello world", 11, 1, 1, ids, 64, &n);
    FUZZ_STATUS(rc);
    if (rc == BITNET_OK && n > 0) FUZZ_STATUS(bitnet_detokenize(model, ids, n, buf, sizeof buf, &len));
    if (info.vocab_only || info.n_vocab <= 0) return;
    bitnet_context_params cp;
    bitnet_context_params_init(&cp);
    cp.n_ctx = 8;
    cp.n_threads = 1;
    cp.prefix_cache_bytes = 0;
    bitnet_context *ctx = NULL;
    rc = bitnet_context_new(model, &cp, &ctx);
    FUZZ_STATUS(rc);
    if (rc != BITNET_OK) return;
    int32_t toks[2] = {0, info.n_vocab - 1};
    FUZZ_STATUS(bitnet_context_eval(ctx, toks, 2));
    bitnet_context_free(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_memfile f;
    if (fuzz_memfile_open(&f, data, size) != 0) return 0;
    bitnet_model_params p;
    bitnet_model_params_init(&p);
    bitnet_model *mapped = NULL, *heap = NULL;
    int32_t rc_mapped = bitnet_model_load(f.path, &p, &mapped);
    FUZZ_STATUS(rc_mapped);
    FUZZ_ASSERT((rc_mapped == BITNET_OK) == (mapped != NULL));
    p.use_mmap = 0;
    int32_t rc_heap = bitnet_model_load(f.path, &p, &heap);
    FUZZ_STATUS(rc_heap);
    FUZZ_ASSERT(rc_mapped == rc_heap); /* mapping and reading judge a file alike */
    if (mapped) exercise(mapped);
    bitnet_model_free(mapped);
    bitnet_model_free(heap);
    /* vocab_only takes another path through the loader. */
    p.use_mmap = 1;
    p.vocab_only = 1;
    bitnet_model *vocab = NULL;
    int32_t rc_vocab = bitnet_model_load(f.path, &p, &vocab);
    FUZZ_STATUS(rc_vocab);
    if (rc_mapped == BITNET_OK) FUZZ_ASSERT(rc_vocab == BITNET_OK);
    if (vocab) exercise(vocab);
    bitnet_model_free(vocab);
    /* validate_only (fuzz_gguf_parse's fast path) must never pass a file the
     * full load refuses for its structure, nor refuse one it accepts. */
    p.vocab_only = 0;
    p.validate_only = 1;
    bitnet_model *validated = NULL;
    int32_t rc_validated = bitnet_model_load(f.path, &p, &validated);
    FUZZ_STATUS(rc_validated);
    if (rc_mapped == BITNET_OK) FUZZ_ASSERT(rc_validated == BITNET_OK);
    if (rc_validated != BITNET_OK) FUZZ_ASSERT(rc_mapped == rc_validated);
    bitnet_model_free(validated);
    fuzz_memfile_close(&f);
    return 0;
}
