/* A two-turn conversation with the model's chat template.
 *   cc chat.c $(pkg-config --cflags --libs bitnet) -o chat && ./chat MODEL.gguf */
#include <bitnet.h>
#include <stdio.h>
#include <string.h>

static int32_t collect(const char *text, size_t len, const bitnet_token_info *info, void *user_data) {
    char *reply = user_data;
    size_t used = strlen(reply);
    (void)info;
    if (used + len < 1024) {
        memcpy(reply + used, text, len);
        reply[used + len] = '\0';
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
    bitnet_generation_params gen;
    const char *roles[4] = {"system", "user", "assistant", "user"};
    const char *contents[4] = {"You are a helpful assistant.", "What is a ternary weight?", NULL,
                               "And why does it save memory?"};
    char replies[2][1024] = {{0}};
    char prompt[8192];
    size_t len = 0;
    int32_t rc;
    int turn;

    if (argc < 2) return 1;
    if ((rc = bitnet_model_load(argv[1], NULL, &model)) != BITNET_OK) return fail(rc);
    if ((rc = bitnet_context_new(model, NULL, &ctx)) != BITNET_OK) return fail(rc);
    bitnet_generation_params_init(&gen);
    gen.max_new_tokens = 32;
    gen.seed = 42;
    gen.parse_special = 1; /* the template's control tokens (<|eot_id|>) become their ids */

    for (turn = 0; turn < 2; turn++) {
        size_t n = turn == 0 ? 2 : 4; /* turn 2 repeats the history plus the new question */
        contents[2] = replies[0];
        rc = bitnet_apply_chat_template(model, NULL, roles, contents, n, 1, prompt, sizeof prompt, &len);
        if (rc != BITNET_OK) return fail(rc);
        /* The context keeps the tokens it already holds: only the new turn is evaluated. */
        rc = bitnet_generate(ctx, prompt, &gen, collect, replies[turn], NULL);
        if (rc != BITNET_OK) return fail(rc);
        printf("user: %s\nassistant: %s\n", contents[turn == 0 ? 1 : 3], replies[turn]);
    }
    bitnet_context_free(ctx);
    bitnet_model_free(model);
    return 0;
}
