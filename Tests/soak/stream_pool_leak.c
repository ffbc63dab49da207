/* Expected failure (known issue, RELIABILITY.md): a context with n_threads 2
 * whose thread pool did work for a pull stream keeps its pool worker thread
 * alive after bitnet_context_free(); 300 create/stream/free cycles leave ~300
 * threads. Contexts used only from the calling thread (bitnet_generate,
 * bitnet_context_eval) or with n_threads 1 do not leak.
 * Prints XFAIL while the leak is there, XPASS once it is fixed; exits 0 either
 * way so that the suite stays green (then move it into the strict checks).
 *   stream_pool_leak MODEL.gguf */
#define _DEFAULT_SOURCE
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
    if (argc < 2 || bitnet_model_load(argv[1], NULL, &model) != BITNET_OK) {
        fprintf(stderr, "usage: %s MODEL.gguf\n", argv[0]);
        return 1;
    }
    int before = count_threads(), k;
    for (k = 0; k < 50; k++) {
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
    }
    usleep(100000);
    int after = count_threads();
    bitnet_model_free(model);
    printf("%s stream_pool_leak: threads %d before, %d after 50 context+stream cycles\n",
           after > before + 5 ? "XFAIL" : "XPASS", before, after);
    return 0;
}
