/* The GGUF reader alone, fast: header, metadata, tensor table, the
 * architecture's hyperparameters and required tensors (names, types, shapes,
 * bounds), and the tokenizer — through bitnet_model_params.validate_only, the
 * same entry point and checks as a real load minus reading the weights. No
 * repacking, no forward pass, so millions of inputs fit in a campaign
 * (fuzz_gguf keeps the deep path: full loads and an evaluation).
 *
 * Invariants: only documented statuses; a validated model answers the info,
 * metadata and tokenizer calls and refuses to make a context. That a full
 * load never succeeds where validation fails is checked by fuzz_gguf. */
#include "fuzz_common.h"

static void query(bitnet_model *model) {
    bitnet_model_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    FUZZ_ASSERT(bitnet_model_info_get(model, &info) == BITNET_OK);
    FUZZ_ASSERT(info.validate_only == 1 && info.vocab_only == 0);
    FUZZ_ASSERT(info.n_layer > 0 && info.n_embd > 0 && info.n_vocab > 0);
    char buf[256];
    size_t len = 0;
    int32_t count = bitnet_model_meta_count(model);
    FUZZ_ASSERT(count >= 0);
    for (int32_t i = 0; i < count && i < 64; i++) {
        int32_t rc = bitnet_model_meta_key(model, i, buf, sizeof buf, &len);
        FUZZ_STATUS(rc);
        if (rc == BITNET_OK) FUZZ_STATUS(bitnet_model_meta_get(model, buf, buf, sizeof buf, &len));
    }
    int32_t ids[32];
    size_t n = 0;
    int32_t rc = bitnet_tokenize(model, "Hi <s> caf\xc3\xa9", 12, 1, 1, ids, 32, &n);
    FUZZ_STATUS(rc);
    if (rc == BITNET_OK && n > 0) FUZZ_STATUS(bitnet_detokenize(model, ids, n, buf, sizeof buf, &len));
    bitnet_context *ctx = NULL;
    FUZZ_ASSERT(bitnet_context_new(model, NULL, &ctx) == BITNET_E_INVALID_ARGUMENT && ctx == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_memfile f;
    if (fuzz_memfile_open(&f, data, size) != 0) return 0;
    bitnet_model_params p;
    bitnet_model_params_init(&p);
    p.validate_only = 1;
    bitnet_model *model = NULL;
    int32_t rc = bitnet_model_load(f.path, &p, &model);
    FUZZ_STATUS(rc);
    FUZZ_ASSERT((rc == BITNET_OK) == (model != NULL));
    if (model) query(model);
    bitnet_model_free(model);
    fuzz_memfile_close(&f);
    return 0;
}
