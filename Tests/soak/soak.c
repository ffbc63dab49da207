/* Soak: N generations (default 10000) across 4 contexts sharing one model,
 * driven by 2 threads that pick contexts at random (so they also collide:
 * BITNET_E_BUSY), with random pauses (resumed, abandoned, or discarded by
 * the other thread's call on the same context), callback
 * cancels, interrupts from the other thread, pull streams cancelled or freed
 * mid-way, prefix-cache warms and context shifts.
 *
 * Checks: no crash; no deadlock (a watchdog fails the run when no generation
 * finishes for 60 s); every status is an expected one; RSS flat (the end
 * within 10% + 16 MiB of the RSS after the first 10%, printed as a curve);
 * no file descriptor or thread leak (counts back to the baseline after the
 * contexts are freed).
 *
 *   soak FIXTURES_DIR [N_GENERATIONS]
 * SOAK_SANITIZER=1 (sanitizer builds): no RSS check, one thread more is
 * allowed at the end (ThreadSanitizer starts a background thread of its own),
 * and pipes are not counted as descriptors (see count_dir). */
#define _GNU_SOURCE
#include <bitnet.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { N_CONTEXTS = 4, N_THREADS = 2, N_SAMPLES = 11 };

static bitnet_model *model;
static bitnet_context *contexts[N_CONTEXTS];
static long total;
static atomic_long started, finished;
static atomic_long n_cancelled, n_paused, n_resumed, n_abandoned, n_interrupts, n_busy, n_streams, n_stream_cancels,
    n_tokens, n_warms, n_shifts, n_context_full, n_taken_over, n_unexpected;
/* Per context, driver visits in progress and visits begun (a visit opens
 * before it counts as begun). Any call on a context discards a paused
 * generation there, so a resume finds none exactly when another visit
 * overlapped the pause: one open when it returned, or one begun since. */
static atomic_int visits_open[N_CONTEXTS];
static atomic_long visits_begun[N_CONTEXTS];
static atomic_int stop_all;

static const char *prompts[] = {
    "The quick brown fox jumps over the lazy dog",
    "Once upon a time",
    "In the beginning the ternary weights were",
    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 and more",
    "A",
    "System: be brief.<|eot_id|>User: hello<|eot_id|>Assistant: ",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.",
};
enum { N_PROMPTS = sizeof prompts / sizeof prompts[0] };

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long rss_kb(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Entries of a /proc directory: open descriptors (/proc/self/fd, without
 * the DIR's own) or threads (/proc/self/task). skip_pipes: do not count
 * descriptors that are pipes. Under a sanitizer the soak skips them: a
 * sanitizer runtime that symbolizes stacks mid-run (TSan did, to match the
 * suppressions the project used to have) does it through an llvm-symbolizer
 * child that it feeds through two pipes and keeps open, which is not a leak.
 * libbitnet opens no pipes, and the soak without a sanitizer counts every
 * descriptor. */
static int count_dir(const char *path, int skip_pipes) {
    int n = 0;
    DIR *d = opendir(path);
    struct dirent *e;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char target[64];
        if (skip_pipes && readlinkat(dirfd(d), e->d_name, target, sizeof target) > 5 &&
            strncmp(target, "pipe:", 5) == 0)
            continue;
        n++;
    }
    closedir(d);
    return n - (strcmp(path, "/proc/self/fd") == 0); /* the DIR's own descriptor */
}

static uint64_t next_random(uint64_t *s) { /* SplitMix64 */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void unexpected(const char *what, int32_t rc) {
    atomic_fetch_add(&n_unexpected, 1);
    fprintf(stderr, "unexpected: %s -> %d (%s)\n", what, rc, bitnet_last_error());
}

typedef struct plan {
    uint64_t rng;
    int chunks;
    int pause_at;  /* chunk number that pauses, 0 = never */
    int cancel_at; /* chunk number that cancels, 0 = never */
    int garbage;   /* cancel with a garbage value instead of BITNET_CANCEL */
} plan;

static int32_t on_chunk(const char *text, size_t len, const bitnet_token_info *info, void *user_data) {
    plan *p = user_data;
    (void)text;
    (void)len;
    p->chunks++;
    atomic_fetch_add(&n_tokens, (long)info->n_tokens);
    if (p->cancel_at && p->chunks == p->cancel_at) return p->garbage ? 0x5eed : BITNET_CANCEL;
    if (p->pause_at && p->chunks == p->pause_at) return BITNET_PAUSE;
    return BITNET_CONTINUE;
}

static int generation_status_ok(int32_t rc) {
    return rc == BITNET_OK || rc == BITNET_PAUSED || rc == BITNET_E_CANCELLED || rc == BITNET_E_BUSY ||
           rc == BITNET_E_CONTEXT_FULL;
}

static void count_outcome(int32_t rc) {
    if (rc == BITNET_E_CANCELLED) atomic_fetch_add(&n_cancelled, 1);
    else if (rc == BITNET_E_BUSY) atomic_fetch_add(&n_busy, 1);
    else if (rc == BITNET_E_CONTEXT_FULL) atomic_fetch_add(&n_context_full, 1);
}

static void push_generation(int index, uint64_t *rng) {
    bitnet_context *ctx = contexts[index];
    bitnet_generation_params gp;
    bitnet_generation_params_init(&gp);
    gp.max_new_tokens = 1 + (int32_t)(next_random(rng) % 16);
    gp.seed = next_random(rng);
    gp.temperature = next_random(rng) % 3 == 0 ? 0.0f : 0.8f;
    gp.parse_special = 1;
    plan p = {next_random(rng), 0, 0, 0, 0};
    uint64_t r = next_random(rng);
    if (r % 5 == 0) p.pause_at = 1 + (int)(r / 5 % 4);
    if (r % 7 == 0) p.cancel_at = 1 + (int)(r / 7 % 4);
    p.garbage = (r >> 20) & 1;
    /* One in eight continues from whatever the context holds (BITNET_E_INVALID_ARGUMENT when empty). */
    const char *prompt = r % 8 == 1 ? NULL : prompts[next_random(rng) % N_PROMPTS];
    bitnet_generation_result res;
    memset(&res, 0, sizeof res);
    res.size = sizeof res;
    int32_t rc = bitnet_generate(ctx, prompt, &gp, on_chunk, &p, &res);
    if (prompt == NULL && rc == BITNET_E_INVALID_ARGUMENT) return;
    if (!generation_status_ok(rc)) { unexpected("bitnet_generate", rc); return; }
    count_outcome(rc);
    while (rc == BITNET_PAUSED) {
        const long begun = atomic_load(&visits_begun[index]);
        const int others = atomic_load(&visits_open[index]) - 1;
        atomic_fetch_add(&n_paused, 1);
        if (next_random(rng) % 4 == 0) { atomic_fetch_add(&n_abandoned, 1); return; } /* the next call discards it */
        p.pause_at = 0;
        rc = bitnet_generate_resume(ctx, on_chunk, &p, &res);
        atomic_fetch_add(&n_resumed, 1);
        if (rc == BITNET_E_INVALID_ARGUMENT && (others > 0 || atomic_load(&visits_begun[index]) != begun)) {
            atomic_fetch_add(&n_taken_over, 1); /* the other thread's call discarded it */
            return;
        }
        if (!generation_status_ok(rc)) { unexpected("bitnet_generate_resume", rc); return; }
        count_outcome(rc);
    }
}

static void pull_generation(bitnet_context *ctx, uint64_t *rng) {
    bitnet_generation_params gp;
    bitnet_generation_params_init(&gp);
    gp.max_new_tokens = 1 + (int32_t)(next_random(rng) % 16);
    gp.seed = next_random(rng);
    bitnet_stream *s = NULL;
    int32_t rc = bitnet_stream_start(ctx, prompts[next_random(rng) % N_PROMPTS], &gp, 1 + next_random(rng) % 4, &s);
    if (rc == BITNET_E_BUSY) { atomic_fetch_add(&n_busy, 1); return; }
    if (rc != BITNET_OK) { unexpected("bitnet_stream_start", rc); return; }
    atomic_fetch_add(&n_streams, 1);
    int stop_after = (int)(next_random(rng) % 24); /* often before the end: cancel or free mid-way */
    int taken = 0;
    char buf[256];
    size_t len;
    for (;;) {
        rc = bitnet_stream_next(s, buf, sizeof buf, &len, 5000);
        if (rc != BITNET_OK) break;
        if (++taken == stop_after) {
            atomic_fetch_add(&n_stream_cancels, 1);
            if (next_random(rng) & 1) {
                bitnet_stream_cancel(s);
                rc = bitnet_stream_next(s, buf, sizeof buf, &len, 5000);
                if (rc != BITNET_E_CANCELLED && rc != BITNET_DONE) unexpected("bitnet_stream_next after cancel", rc);
            }
            rc = BITNET_DONE;
            break;
        }
    }
    if (rc == BITNET_E_CANCELLED) atomic_fetch_add(&n_cancelled, 1);
    else if (rc != BITNET_DONE && rc != BITNET_E_CONTEXT_FULL) unexpected("bitnet_stream_next", rc);
    bitnet_stream_free(s);
}

static void *driver(void *arg) {
    uint64_t rng = 0x50A4 + (uint64_t)(uintptr_t)arg * 7919;
    while (!atomic_load(&stop_all) && atomic_fetch_add(&started, 1) < total) {
        const int index = (int)(next_random(&rng) % N_CONTEXTS);
        bitnet_context *ctx = contexts[index];
        atomic_fetch_add(&visits_open[index], 1);
        atomic_fetch_add(&visits_begun[index], 1);
        uint64_t kind = next_random(&rng) % 20;
        if (kind < 13) push_generation(index, &rng);
        else if (kind < 18) pull_generation(ctx, &rng);
        else if (kind == 18) {
            int32_t rc = bitnet_cache_warm(ctx, prompts[next_random(&rng) % N_PROMPTS]);
            if (rc == BITNET_OK) atomic_fetch_add(&n_warms, 1);
            else if (rc == BITNET_E_BUSY) atomic_fetch_add(&n_busy, 1);
            else if (rc != BITNET_E_INVALID_ARGUMENT && rc != BITNET_E_CANCELLED && rc != BITNET_E_CONTEXT_FULL)
                unexpected("bitnet_cache_warm", rc); /* INVALID: cache disabled on that context */
            push_generation(index, &rng);
        } else {
            int32_t rc = bitnet_context_shift(ctx, NULL);
            if (rc == BITNET_OK) atomic_fetch_add(&n_shifts, 1);
            else if (rc == BITNET_E_BUSY) atomic_fetch_add(&n_busy, 1);
            else if (rc != BITNET_E_CONTEXT_FULL) unexpected("bitnet_context_shift", rc);
            push_generation(index, &rng);
        }
        atomic_fetch_sub(&visits_open[index], 1);
        /* Interrupt some context now and then: maybe the other thread's running call. */
        if (next_random(&rng) % 6 == 0) {
            bitnet_context_interrupt(contexts[next_random(&rng) % N_CONTEXTS]);
            atomic_fetch_add(&n_interrupts, 1);
        }
        atomic_fetch_add(&finished, 1);
    }
    return NULL;
}

int main(int argc, char **argv) {
    char path[1024];
    snprintf(path, sizeof path, "%s/golden/m1-b158-relu2-i2_s.gguf", argc > 1 ? argv[1] : "Tests/Fixtures");
    total = argc > 2 ? atol(argv[2]) : 10000;
    const int sanitizer = getenv("SOAK_SANITIZER") != NULL;
    int fds_before = count_dir("/proc/self/fd", sanitizer), threads_before = count_dir("/proc/self/task", 0);
    long rss_before = rss_kb();
    if (bitnet_model_load(path, NULL, &model) != BITNET_OK) {
        fprintf(stderr, "cannot load %s: %s\n", path, bitnet_last_error());
        return 1;
    }
    int i;
    for (i = 0; i < N_CONTEXTS; i++) {
        bitnet_context_params cp;
        bitnet_context_params_init(&cp);
        cp.n_threads = 1 + i % 2;
        cp.n_ctx = i == 3 ? 48 : 256; /* the small one fills up and shifts */
        cp.kv_type = i == 2 ? BITNET_KV_Q8 : BITNET_KV_F16;
        cp.prefix_cache_bytes = i == 1 ? 0 : (uint64_t)2 << 20;
        cp.prefix_cache_auto = i == 0;
        cp.overflow_policy = i == 3 ? BITNET_OVERFLOW_SHIFT : BITNET_OVERFLOW_STOP;
        if (bitnet_context_new(model, &cp, &contexts[i]) != BITNET_OK) {
            fprintf(stderr, "context %d: %s\n", i, bitnet_last_error());
            return 1;
        }
    }
    double t0 = now_s();
    pthread_t threads[N_THREADS];
    for (i = 0; i < N_THREADS; i++) pthread_create(&threads[i], NULL, driver, (void *)(uintptr_t)i);

    /* Watchdog and RSS curve. */
    long samples[N_SAMPLES];
    long warm_rss = 0;
    int next_sample = 0;
    long last_finished = -1;
    double last_progress = now_s();
    int deadlock = 0;
    while (atomic_load(&finished) < total) {
        usleep(20000);
        long done = atomic_load(&finished);
        if (done != last_finished) { last_finished = done; last_progress = now_s(); }
        else if (now_s() - last_progress > 60) { deadlock = 1; break; }
        while (next_sample < N_SAMPLES && done >= total * next_sample / (N_SAMPLES - 1)) {
            samples[next_sample] = rss_kb();
            if (next_sample == 1) warm_rss = samples[next_sample];
            next_sample++;
        }
    }
    if (deadlock) {
        fprintf(stderr, "DEADLOCK: no generation finished for 60 s (%ld of %ld done)\n", last_finished, total);
        fflush(stderr);
        _exit(2); /* joining would hang */
    }
    for (i = 0; i < N_THREADS; i++) pthread_join(threads[i], NULL);
    double seconds = now_s() - t0;
    while (next_sample < N_SAMPLES) samples[next_sample++] = rss_kb();
    long rss_end = samples[N_SAMPLES - 1];
    int fds_open = count_dir("/proc/self/fd", sanitizer), threads_open = count_dir("/proc/self/task", 0);
    for (i = 0; i < N_CONTEXTS; i++) bitnet_context_free(contexts[i]);
    bitnet_model_free(model);
    usleep(100000); /* detached stream threads finish their last instructions */
    int fds_after = count_dir("/proc/self/fd", sanitizer), threads_after = count_dir("/proc/self/task", 0);

    printf("soak: %ld generations in %.1f s on %d threads, %d contexts, one model\n", total, seconds, N_THREADS,
           N_CONTEXTS);
    printf("  tokens %ld, streams %ld (cut short %ld), pauses %ld (resumed %ld, abandoned %ld, taken over %ld), "
           "cancelled %ld,\n"
           "  interrupts sent %ld, busy collisions %ld, context full %ld, prefix warms %ld, shifts %ld, unexpected %ld\n",
           atomic_load(&n_tokens), atomic_load(&n_streams), atomic_load(&n_stream_cancels), atomic_load(&n_paused),
           atomic_load(&n_resumed), atomic_load(&n_abandoned), atomic_load(&n_taken_over), atomic_load(&n_cancelled),
           atomic_load(&n_interrupts), atomic_load(&n_busy), atomic_load(&n_context_full), atomic_load(&n_warms),
           atomic_load(&n_shifts), atomic_load(&n_unexpected));
    printf("  RSS curve (KiB, every 10%%): before load %ld |", rss_before);
    for (i = 0; i < N_SAMPLES; i++) printf(" %ld", samples[i]);
    printf("\n  fds: %d before, %d during, %d after; threads: %d before, %d during, %d after\n", fds_before, fds_open,
           fds_after, threads_before, threads_open, threads_after);
    int failed = 0;
    if (atomic_load(&n_unexpected) > 0) { fprintf(stderr, "FAIL: unexpected statuses\n"); failed = 1; }
    /* Under AddressSanitizer freed memory sits in a quarantine (up to 256 MiB): no RSS check there. */
    if (!sanitizer && rss_end > warm_rss + warm_rss / 10 + 16384) {
        fprintf(stderr, "FAIL: RSS grew from %ld to %ld KiB\n", warm_rss, rss_end);
        failed = 1;
    }
    if (fds_after != fds_before) { fprintf(stderr, "FAIL: file descriptors leaked\n"); failed = 1; }
    if (threads_after != threads_before && !(sanitizer && threads_after == threads_before + 1)) {
        fprintf(stderr, "FAIL: threads leaked\n");
        failed = 1;
    }
    printf("soak: %s\n", failed ? "FAILED" : "ok");
    return failed;
}
