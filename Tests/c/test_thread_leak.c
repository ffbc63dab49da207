/* Regression (found by the soak): a context with n_threads 2 whose pool
 * workers had started kept them alive after bitnet_context_free() — each
 * worker held a strong reference to its pool for its whole loop, so the
 * pool's deinit (which stops and joins them) never ran. 50 cycles of
 * context + stream + free must leave the thread count where it was.
 *   test_thread_leak FIXTURES_DIR */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <bitnet.h>
#include <dirent.h>
#include <stdio.h>
#include <unistd.h>

static int count_threads(void) {
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

int main(int argc, char **argv) {
    bitnet_model *model = NULL;
    char path[1024];
    snprintf(path, sizeof path, "%s/golden/m1-b158-relu2-i2_s.gguf", argc > 1 ? argv[1] : "Tests/Fixtures");
    if (bitnet_model_load(path, NULL, &model) != BITNET_OK) {
        fprintf(stderr, "cannot load %s: %s\n", path, bitnet_last_error());
        return 1;
    }
    int before = -1, k;
    for (k = 0; k < 51; k++) {
        /* Counted after one cycle: sanitizer runtimes start a background thread of their own. */
        if (k == 1) {
            usleep(100000);
            before = count_threads();
        }
        bitnet_context *ctx = NULL;
        bitnet_context_params cp;
        bitnet_context_params_init(&cp);
        cp.n_threads = 2;
        cp.n_ctx = 64;
        if (bitnet_context_new(model, &cp, &ctx) != BITNET_OK) return 1;
        bitnet_generation_params gp;
        bitnet_generation_params_init(&gp);
        gp.max_new_tokens = 2;
        bitnet_stream *s = NULL;
        if (bitnet_stream_start(ctx, "hi there", &gp, 2, &s) != BITNET_OK) return 1;
        char buf[64];
        size_t len;
        while (bitnet_stream_next(s, buf, sizeof buf, &len, -1) == BITNET_OK) {}
        bitnet_stream_free(s);
        bitnet_context_free(ctx);
        /* Push mode and plain eval after the workers have surely started. */
        if (bitnet_context_new(model, &cp, &ctx) != BITNET_OK) return 1;
        int32_t toks[3] = {1, 2, 3};
        usleep(2000);
        if (bitnet_context_eval(ctx, toks, 3) != BITNET_OK) return 1;
        if (bitnet_generate(ctx, "hello", &gp, NULL, NULL, NULL) != BITNET_OK) return 1;
        bitnet_context_free(ctx);
    }
    usleep(100000);
    int after = count_threads();
    bitnet_model_free(model);
    if (after != before) {
        fprintf(stderr, "thread leak: %d threads before, %d after 100 context cycles\n", before, after);
        return 1;
    }
    return 0;
}
