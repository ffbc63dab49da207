/* Checks the Tokens section of the C API against the Llama 3 vocabulary.
 * Build and run from the package root after `swift build`:
 *   ln -sf libbitnet.so .build/debug/libbitnet.so.0
 *   cc -std=c99 -Wall -I include tools/tokenizer-bench/capi_tokens_check.c -L .build/debug -lbitnet \
 *      -Wl,-rpath,$PWD/.build/debug -o /tmp/capi_tokens_check
 *   /tmp/capi_tokens_check Tests/Fixtures/vocab/ggml-vocab-llama-bpe.gguf
 */
#include <bitnet.h>
#include <stdio.h>
#include <string.h>
#define CHECK(c) do { if (!(c)) { printf("FAIL line %d: %s (%s)\n", __LINE__, #c, bitnet_last_error()); fails++; } } while (0)
int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s ggml-vocab-llama-bpe.gguf\n", argv[0]); return 2; }
    int fails = 0;
    bitnet_model_params p; bitnet_model_params_init(&p); p.vocab_only = 1;
    bitnet_model *m = NULL;
    CHECK(bitnet_model_load(argv[1], &p, &m) == BITNET_OK);
    CHECK(bitnet_token_bos(m) == 128000 && bitnet_token_eos(m) == 128001 && bitnet_token_eot(m) == 128009);
    CHECK(bitnet_vocab_size(m) == 128256);
    CHECK(bitnet_token_bos(NULL) == -1);
    const char *text = "Hello world<|eot_id|>";
    size_t n = 0;
    CHECK(bitnet_tokenize(m, text, strlen(text), 1, 1, NULL, 0, &n) == BITNET_E_BUFFER_TOO_SMALL);
    CHECK(n == 4);
    int32_t ids[16];
    CHECK(bitnet_tokenize(m, text, strlen(text), 1, 1, ids, 2, &n) == BITNET_E_BUFFER_TOO_SMALL && ids[0] == 128000 && ids[1] == 9906);
    CHECK(bitnet_tokenize(m, text, strlen(text), 1, 1, ids, 16, &n) == BITNET_OK && n == 4 && ids[3] == 128009);
    CHECK(bitnet_tokenize(m, "\xff\x41", 2, 0, 0, ids, 16, &n) == BITNET_E_INVALID_ARGUMENT);
    printf("invalid utf8 message: %s\n", bitnet_last_error());
    CHECK(bitnet_tokenize(m, NULL, 0, 0, 0, NULL, 0, &n) == BITNET_OK && n == 0);
    CHECK(bitnet_tokenize(m, NULL, 3, 0, 0, NULL, 0, &n) == BITNET_E_INVALID_ARGUMENT);
    char buf[64]; size_t len = 0;
    CHECK(bitnet_detokenize(m, ids, 4, buf, sizeof buf, &len) == BITNET_OK && strcmp(buf, "Hello world") == 0 && len == 11);
    CHECK(bitnet_detokenize(m, ids, 4, buf, 5, &len) == BITNET_E_BUFFER_TOO_SMALL && len == 11 && strcmp(buf, "Hell") == 0);
    CHECK(bitnet_detokenize(m, ids, 4, NULL, 0, &len) == BITNET_E_BUFFER_TOO_SMALL && len == 11);
    int32_t bad = 999999;
    CHECK(bitnet_detokenize(m, &bad, 1, buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_token_to_piece(m, 128009, buf, sizeof buf, &len) == BITNET_OK && strcmp(buf, "<|eot_id|>") == 0);
    CHECK(bitnet_token_to_piece(m, -5, buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    const char *roles[] = {"system", "user"};
    const char *contents[] = {"Be brief.", "Hi"};
    char chat[256];
    CHECK(bitnet_apply_chat_template(m, "bitnet", roles, contents, 2, 1, chat, sizeof chat, &len) == BITNET_OK);
    printf("bitnet: [%s]\n", chat);
    CHECK(strcmp(chat, "<|begin_of_text|>System: Be brief.<|eot_id|>User: Hi<|eot_id|>Assistant: ") == 0);
    CHECK(bitnet_apply_chat_template(m, NULL, roles, contents, 2, 1, chat, sizeof chat, &len) == BITNET_OK);
    printf("model default: [%s]\n", chat);
    CHECK(bitnet_apply_chat_template(m, "nope", roles, contents, 2, 1, chat, sizeof chat, &len) == BITNET_E_INVALID_ARGUMENT);
    bitnet_model_free(m);
    printf("%s (%d failures)\n", fails ? "FAILED" : "OK", fails);
    return fails != 0;
}
