/* The tokenizer: arbitrary bytes as text, with every vocabulary in
 * Tests/Fixtures/vocab/ and the generator's built-in one (golden model). The first
 * byte picks the vocabulary and the flags. Valid UTF-8 must tokenize; the ids
 * must be in range; for byte-level BPE without special parsing, detokenizing
 * must give the text back byte for byte. Invalid UTF-8 must be refused. */
#include "fuzz_common.h"

static const char *vocab_files[] = {
    "vocab/ggml-vocab-llama-bpe.gguf", /* byte-level BPE, Llama 3 pre-tokenizer */
    "vocab/ggml-vocab-gpt-2.gguf",     /* byte-level BPE, GPT-2 pre-tokenizer */
    "vocab/ggml-vocab-llama-spm.gguf", /* SentencePiece with byte fallback */
    "golden/m1-b158-relu2-i2_s.gguf",  /* the generator's small BPE */
};
enum { N_VOCABS = sizeof vocab_files / sizeof vocab_files[0] };
static bitnet_model *vocabs[N_VOCABS];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    bitnet_model_params p;
    bitnet_model_params_init(&p);
    p.vocab_only = 1;
    int i;
    for (i = 0; i < N_VOCABS; i++) {
        if (bitnet_model_load(fuzz_fixture_path(vocab_files[i]), &p, &vocabs[i]) != BITNET_OK) {
            fprintf(stderr, "cannot load %s: %s\n", vocab_files[i], bitnet_last_error());
            abort();
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t control = data[0];
    const uint8_t *text = data + 1;
    size_t len = size - 1;
    int which = control % N_VOCABS;
    int add_bos = (control >> 2) & 1;
    int parse_special = (control >> 3) & 1;
    bitnet_model *model = vocabs[which];

    size_t cap = len + 8, n = 0;
    int32_t *ids = malloc(sizeof *ids * cap);
    int32_t rc = bitnet_tokenize(model, (const char *)text, len, add_bos, parse_special, ids, cap, &n);
    FUZZ_STATUS(rc);
    if (!fuzz_valid_utf8(text, len)) {
        FUZZ_ASSERT(rc == BITNET_E_INVALID_ARGUMENT);
        free(ids);
        return 0;
    }
    if (rc == BITNET_E_BUFFER_TOO_SMALL) { /* more ids than bytes: possible with byte fallback + BOS */
        free(ids);
        cap = n;
        ids = malloc(sizeof *ids * cap);
        rc = bitnet_tokenize(model, (const char *)text, len, add_bos, parse_special, ids, cap, &n);
    }
    FUZZ_ASSERT(rc == BITNET_OK);
    int32_t vocab = bitnet_vocab_size(model);
    size_t i;
    for (i = 0; i < n; i++) FUZZ_ASSERT(ids[i] >= 0 && ids[i] < vocab);
    size_t out_len = 0;
    rc = bitnet_detokenize(model, ids, n, NULL, 0, &out_len);
    FUZZ_ASSERT(rc == BITNET_OK || rc == BITNET_E_BUFFER_TOO_SMALL);
    char *out = malloc(out_len + 1);
    FUZZ_ASSERT(bitnet_detokenize(model, ids, n, out, out_len + 1, &out_len) == BITNET_OK);
    if (which <= 1 && !parse_special) { /* byte-level BPE is lossless */
        FUZZ_ASSERT(out_len == len && memcmp(out, text, len) == 0);
    }
    /* Pieces one by one: every id has one. */
    for (i = 0; i < n && i < 32; i++) {
        size_t piece_len;
        rc = bitnet_token_to_piece(model, ids[i], out, out_len + 1, &piece_len);
        FUZZ_ASSERT(rc == BITNET_OK || rc == BITNET_E_BUFFER_TOO_SMALL);
    }
    free(out);
    free(ids);
    return 0;
}
