/* Push-mode streaming with pause and resume: the callback pauses after every
 * 8 tokens, the caller does other work, then resumes. The text is the same as an
 * uninterrupted run. Also shows pull mode (bitnet_stream_next) and cancelling.
 *   cc stream_pause.c $(pkg-config --cflags --libs bitnet) -o stream_pause && ./stream_pause MODEL.gguf */
#include <bitnet.h>
#include <stdio.h>

static int32_t pause_every_8(const char *text, size_t len, const bitnet_token_info *info, void *user_data) {
    int32_t *next_pause = user_data;
    fwrite(text, 1, len, stdout);
    if (info->n_generated >= *next_pause) {
        *next_pause += 8;
        return BITNET_PAUSE; /* bitnet_generate returns BITNET_PAUSED; resume goes on from here */
    }
    return BITNET_CONTINUE;
}

static int fail(int32_t rc) {
    fprintf(stderr, "%s: %s\n", bitnet_status_string(rc), bitnet_last_error());
    return 1;
}

int main(int argc, char **argv) {
    bitnet_model *model = NULL;
    bitnet_context *ctx = NULL;
    bitnet_stream *stream = NULL;
    bitnet_generation_params gen;
    int32_t rc, next_pause = 8, pauses = 0;
    char chunk[256];
    size_t len = 0;
    int chunks = 0;

    if (argc < 2) return 1;
    if ((rc = bitnet_model_load(argv[1], NULL, &model)) != BITNET_OK) return fail(rc);
    if ((rc = bitnet_context_new(model, NULL, &ctx)) != BITNET_OK) return fail(rc);
    bitnet_generation_params_init(&gen);
    gen.temperature = 0.0f; /* greedy: reproducible */
    gen.max_new_tokens = 40;
    gen.ignore_eos = 1;

    /* Push mode with pauses. */
    rc = bitnet_generate(ctx, "Once upon a time", &gen, pause_every_8, &next_pause, NULL);
    while (rc == BITNET_PAUSED) {
        pauses++;
        printf(" [paused after %d tokens] ", next_pause - 8);
        rc = bitnet_generate_resume(ctx, pause_every_8, &next_pause, NULL);
    }
    if (rc != BITNET_OK) return fail(rc);
    printf("\n%d pauses\n", pauses);

    /* Pull mode: take five chunks, then cancel by freeing the stream. */
    if ((rc = bitnet_stream_start(ctx, "Once upon a time", &gen, 4, &stream)) != BITNET_OK) return fail(rc);
    while (chunks < 5 && (rc = bitnet_stream_next(stream, chunk, sizeof chunk, &len, -1)) == BITNET_OK) {
        fwrite(chunk, 1, len, stdout);
        chunks++;
    }
    bitnet_stream_free(stream); /* cancels the rest, waits for the thread, frees the context */
    if (rc < 0) return fail(rc);
    printf("\n[pulled %d chunks, then cancelled]\n", chunks);

    bitnet_context_free(ctx);
    bitnet_model_free(model);
    return pauses > 0 ? 0 : 1;
}
