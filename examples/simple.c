/* The README's C example: load a model, stream 64 tokens to stdout.
 *   cc simple.c $(pkg-config --cflags --libs bitnet) -o simple && ./simple MODEL.gguf */
#include <bitnet.h>
#include <stdio.h>

static int32_t print_chunk(const char *text, size_t len, const bitnet_token_info *info, void *user_data) {
    (void)info; (void)user_data;
    fwrite(text, 1, len, stdout);   /* text is UTF-8, not NUL-terminated */
    return BITNET_CONTINUE;         /* or BITNET_PAUSE / BITNET_CANCEL */
}

int main(int argc, char **argv) {
    bitnet_model *model = NULL;
    bitnet_context *ctx = NULL;
    bitnet_generation_params gen;
    bitnet_generation_result result;
    int32_t rc;

    if (argc < 2 || bitnet_abi_version() != BITNET_ABI_VERSION) return 1;
    rc = bitnet_model_load(argv[1], NULL, &model);            /* NULL params = defaults (mmap) */
    if (rc == BITNET_OK) rc = bitnet_context_new(model, NULL, &ctx);
    if (rc != BITNET_OK) {
        fprintf(stderr, "%s: %s\n", bitnet_status_string(rc), bitnet_last_error());
        return 1;
    }
    bitnet_generation_params_init(&gen);
    bitnet_generation_params_preset(&gen, BITNET_PRESET_BALANCED);
    gen.max_new_tokens = 64;
    result.size = sizeof result;
    rc = bitnet_generate(ctx, "The ternary weights were", &gen, print_chunk, NULL, &result);
    if (rc != BITNET_OK) fprintf(stderr, "%s: %s\n", bitnet_status_string(rc), bitnet_last_error());
    printf("\n%d tokens, %.1f tok/s\n", (int)result.n_generated, result.generation_tokens_per_second);
    bitnet_context_free(ctx);
    bitnet_model_free(model);
    return rc == BITNET_OK ? 0 : 1;
}
