/*
 * Decode attention at depth, the kernel alone: bnk_attention_decode4_f16_avx512
 * (on a CPU with AVX-512 F) or _avx2 over a synthetic f16 KV cache laid out as KVCache lays it out (one row per
 * position holding every KV head, keys and values in separate planes), called
 * in the order TiledAttention's decode calls it (tile by tile, every KV head
 * of a tile in turn) with the same prefetch plan (each call prefetches its
 * share of the next tile's rows, whole rows in address order). Threads split
 * the layers. Prints the time per key per KV head and the KV bytes read per
 * second, and the same for a loads-only pass over the same rows in the same
 * order (the memory floor of that access pattern).
 *
 * With layout "heads" the same bytes are laid out head-major within each
 * 64-key tile (a tile's keys of head 0, then of head 1, ...: each call reads
 * one contiguous 16 KiB stretch of keys and one of values) and each call
 * prefetches its own head's stretch of the next tile: the layout KVCache
 * would need for that, emulated, so its effect can be measured before
 * anyone changes the cache (BENCHMARKS.md has the result).
 *
 * How threads share the work (split, row layout only): "layers" gives each
 * thread whole layers (no joins, every tile prefetches its successor: the
 * kernel's own speed); "items" splits each layer as decode does, in work
 * items of 256 keys (a superblock, every KV head) that threads claim from a
 * shared count, joining at the end of each layer, with the prefetch stopping
 * at an item's last tile; "ahead" is "items" with the next item claimed
 * before the current one's last tile, which prefetches its first tile (what
 * TiledAttention's decode does). A comma list (items,ahead) times each split
 * in turn within every repetition, one median each: the way to compare them
 * on a host whose bandwidth drifts.
 *
 * Build and run from the repository root (x86-64 with AVX2, FMA and F16C):
 *   clang -O3 -mf16c -pthread -I Sources/CBitNetKernels/include -I Sources/CBitNetKernels \
 *      tools/bench/decode_attention.c Sources/CBitNetKernels/attention_decode4.c -lm -o /tmp/decode_attention
 *   /tmp/decode_attention [depth=4096] [threads=2] [repetitions=5] [layers=30] [layout=rows|heads] [rounds=1]
 *                         [kernel=auto|avx2|avx512] [split=layers|items|ahead, or a comma list]
 * rounds: passes over the same layers per timed run; a small cache (for
 * example depth 256, 2 layers, 200 rounds) stays in cache, which times the
 * kernel's arithmetic instead of the memory.
 * (clang, as SwiftPM builds the library: GCC schedules the kernel differently.)
 * The default shape is 2B4T's: 5 KV heads of 128, 4 query heads per KV head.
 * Exits 77 (skipped) on a CPU without those features; `make test-c` builds it
 * and runs a tiny shape so it keeps compiling.
 */
#include "bitnet_attention.h"
#include "bench_common.h"

#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { HEADS = 5, DIM = 128, TILE = 64, ROW = HEADS * DIM, SUPERBLOCK = 256 };
enum split { SPLIT_LAYERS, SPLIT_ITEMS, SPLIT_AHEAD };

static size_t layers = 30, depth = 4096;
static int threads = 2;
static int head_major = 0; /* layout "heads" */
static int rounds = 1;
static enum split split = SPLIT_LAYERS; /* of the pass under way */
/* Per (round, layer) of a timed pass under "items"/"ahead": the next item to
 * claim and the threads done with the layer. */
static atomic_size_t *next_item;
static atomic_int *finished;
static uint16_t *keys_plane, *values_plane;
typedef void (*decode4_f16_fn)(const float *, const uint16_t *, const uint16_t *, size_t, size_t, size_t, int32_t,
                               float *, float *, float *, float *, const bnk_attention_prefetch *);
static decode4_f16_fn decode4_f16 = bnk_attention_decode4_f16_avx2;
static const char *kernel_name = "decode4_f16_avx2";
static float queries[HEADS][DIM * 16];

typedef struct {
    int index;
    int loads_only;
    float *scratch;
    float out[HEADS][16 * DIM], row_max[HEADS][16], row_sum[HEADS][16];
    float sink;
} worker;

/* The loads of one call without the arithmetic: every f16 of the head's key
 * and value rows, converted and summed. */
__attribute__((target("avx2,f16c"))) static float load_rows(const uint16_t *k, const uint16_t *v, size_t rows, size_t stride) {
    __m256 a = _mm256_setzero_ps(), b = a;
    for (size_t j = 0; j < rows; j++)
        for (size_t d = 0; d < DIM; d += 8) {
            a = _mm256_add_ps(a, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k + j * stride + d))));
            b = _mm256_add_ps(b, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + j * stride + d))));
        }
    float lanes[8];
    _mm256_storeu_ps(lanes, _mm256_add_ps(a, b));
    return lanes[0];
}

/* Keys begin..end of one layer, every KV head of a tile in turn, each call
 * prefetching its share of the next tile: the range's own next tile; for
 * the last, with a `claim` count, the first tile of the superblock item it
 * claims (stored in *claimed), else nothing. */
static void run_range(worker *w, size_t layer, size_t begin, size_t end, atomic_size_t *claim, size_t *claimed) {
    const uint16_t *k = keys_plane + layer * depth * ROW, *v = values_plane + layer * depth * ROW;
    for (int g = 0; g < HEADS; g++) {
        for (int r = 0; r < 16; r++) { w->row_max[g][r] = -INFINITY; w->row_sum[g][r] = 0; }
        memset(w->out[g], 0, sizeof w->out[g]);
    }
    for (size_t start = begin; start < end; start += TILE) {
        size_t count = end - start < TILE ? end - start : TILE;
        size_t next_start = start + TILE, next_end = end;
        if (next_start >= end && claim != NULL) {
            *claimed = atomic_fetch_add(claim, 1);
            next_start = *claimed * SUPERBLOCK;
            next_end = depth;
        }
        size_t next_count = next_start < next_end ? (next_end - next_start < TILE ? next_end - next_start : TILE) : 0;
        for (int g = 0; g < HEADS; g++) {
            /* Rows layout: head g of position p at p * ROW + g * DIM. Heads
             * layout: at tile * ROW + g * count * DIM + (p % TILE) * DIM. */
            const size_t stride = head_major ? DIM : ROW;
            const size_t at = start * ROW + (head_major ? (size_t)g * count * DIM : (size_t)g * DIM);
            const uint16_t *kr = k + at, *vr = v + at;
            if (w->loads_only) { w->sink += load_rows(kr, vr, count, stride); continue; }
            bnk_attention_prefetch next = {NULL, NULL, 0, 0, 0};  /* nothing: the layer's or the items' end */
            if (next_count > 0 && head_major) {
                const size_t next_at = next_start * ROW + (size_t)g * next_count * DIM;
                next = (bnk_attention_prefetch){(const uint8_t *)(k + next_at), (const uint8_t *)(v + next_at),
                                                DIM * 2, next_count, DIM * 2};
            } else if (next_count > 0) {
                size_t first = g * next_count / HEADS, last = (g + 1) * next_count / HEADS;
                next = (bnk_attention_prefetch){(const uint8_t *)(k + (next_start + first) * ROW),
                                                (const uint8_t *)(v + (next_start + first) * ROW), ROW * 2,
                                                last - first, ROW * 2};
            }
            decode4_f16(queries[g], kr, vr, stride, count, DIM, (int32_t)count, w->row_max[g], w->row_sum[g],
                        w->out[g], w->scratch, &next);
        }
    }
    w->sink += w->out[0][0] / w->row_sum[0][0];
}

/* One layer in superblock items claimed from `counter`; under "ahead" the
 * worker claims its next item before the current one's last tile. */
static void run_items(worker *w, size_t layer, atomic_size_t *counter) {
    const size_t items = (depth + SUPERBLOCK - 1) / SUPERBLOCK;
    size_t item = atomic_fetch_add(counter, 1);
    while (item < items) {
        size_t begin = item * SUPERBLOCK, end = begin + SUPERBLOCK < depth ? begin + SUPERBLOCK : depth;
        size_t following = items;
        run_range(w, layer, begin, end, split == SPLIT_AHEAD ? counter : NULL, &following);
        item = split == SPLIT_AHEAD ? following : atomic_fetch_add(counter, 1);
    }
}

static void *run_worker(void *argument) {
    worker *w = argument;
    size_t slot = 0;
    for (int round = 0; round < rounds; round++) {
        if (split == SPLIT_LAYERS) {
            for (size_t layer = (size_t)w->index; layer < layers; layer += (size_t)threads)
                run_range(w, layer, 0, depth, NULL, NULL);
            continue;
        }
        for (size_t layer = 0; layer < layers; layer++, slot++) {
            run_items(w, layer, &next_item[slot]);
            atomic_fetch_add(&finished[slot], 1);
            while (atomic_load(&finished[slot]) < threads) _mm_pause();
        }
    }
    return NULL;
}

static double pass(worker *workers, int loads_only) {
    pthread_t ids[64];
    for (size_t i = 0; i < (size_t)rounds * layers; i++) {
        atomic_store(&next_item[i], 0);
        atomic_store(&finished[i], 0);
    }
    double start = bench_seconds();
    for (int i = 0; i < threads; i++) {
        workers[i].loads_only = loads_only;
        pthread_create(&ids[i], NULL, run_worker, &workers[i]);
    }
    for (int i = 0; i < threads; i++) pthread_join(ids[i], NULL);
    return bench_seconds() - start;
}

int main(int argc, char **argv) {
    if (argc > 1) depth = (size_t)atol(argv[1]);
    if (argc > 2) threads = atoi(argv[2]);
    int repetitions = argc > 3 ? atoi(argv[3]) : 5;
    if (argc > 4) layers = (size_t)atol(argv[4]);
    if (argc > 5) {
        if (strcmp(argv[5], "heads") == 0) head_major = 1;
        else if (strcmp(argv[5], "rows") != 0) layers = 0; /* usage */
    }
    if (argc > 6) rounds = atoi(argv[6]);
    const char *kernel_choice = argc > 7 ? argv[7] : "auto";
    static const char *const split_names[] = {"layers", "items", "ahead"};
    enum split splits[3] = {SPLIT_LAYERS};
    int n_splits = 1;
    if (argc > 8) { /* a comma list: the splits alternate pass by pass, so the host's drift hits them alike */
        n_splits = 0;
        for (const char *at = argv[8]; n_splits >= 0;) {
            size_t length = strcspn(at, ",");
            int found = -1;
            for (int i = 0; i < 3; i++)
                if (strlen(split_names[i]) == length && strncmp(at, split_names[i], length) == 0) found = i;
            if (found < 0 || n_splits == 3 || (found != SPLIT_LAYERS && head_major)) {
                n_splits = -1; /* usage (items read the row layout) */
                break;
            }
            splits[n_splits++] = (enum split)found;
            if (at[length] == '\0') break;
            at += length + 1;
        }
        if (n_splits < 0) layers = 0;
    }
    const int has_avx512 = __builtin_cpu_supports("avx512f");
    if (strcmp(kernel_choice, "avx512") == 0 || (strcmp(kernel_choice, "auto") == 0 && has_avx512)) {
        if (!has_avx512) {
            fprintf(stderr, "skipped: kernel avx512 needs AVX-512 F\n");
            return 77;
        }
        decode4_f16 = bnk_attention_decode4_f16_avx512;
        kernel_name = "decode4_f16_avx512";
    } else if (strcmp(kernel_choice, "avx2") != 0 && strcmp(kernel_choice, "auto") != 0) {
        layers = 0; /* usage */
    }
    if (depth == 0 || threads < 1 || threads > 64 || repetitions < 1 || repetitions > 100 || layers == 0 ||
        rounds < 1 || rounds > 100000) {
        fprintf(stderr, "usage: %s [depth] [threads 1-64] [repetitions 1-100] [layers] [rows|heads] [rounds] "
                        "[auto|avx2|avx512] [layers|items|ahead, or a comma list]\n", argv[0]);
        return 2;
    }
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma") || !__builtin_cpu_supports("f16c")) {
        fprintf(stderr, "skipped: decode_attention needs AVX2, FMA and F16C\n");
        return 77;
    }
    size_t halves = layers * depth * ROW;
    next_item = calloc((size_t)rounds * layers, sizeof *next_item);
    finished = calloc((size_t)rounds * layers, sizeof *finished);
    keys_plane = aligned_alloc(64, halves * 2);
    values_plane = aligned_alloc(64, halves * 2);
    if (!keys_plane || !values_plane || !next_item || !finished) { fprintf(stderr, "out of memory\n"); return 1; }
    uint64_t state = 0x9E3779B97F4A7C15u;  /* xorshift: keys and values in [-1, 1) */
    for (size_t i = 0; i < halves; i++) {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17;
        keys_plane[i] = _cvtss_sh((float)(state >> 40) / (float)(1u << 23) - 1.0f, 0);
        values_plane[i] = _cvtss_sh((float)((state >> 16) & 0xFFFFFF) / (float)(1u << 23) - 1.0f, 0);
    }
    for (int g = 0; g < HEADS; g++)
        for (int d = 0; d < DIM; d++)
            for (int r = 0; r < 4; r++)  /* each row's query 4 times, as the kernel reads it */
                for (int j = 0; j < 4; j++) queries[g][d * 16 + 4 * r + j] = (float)((d * 7 + r * 3 + g) % 17) / 17.0f * 0.2f - 0.1f;
    worker *workers = calloc((size_t)threads, sizeof(worker));
    for (int i = 0; i < threads; i++) {
        workers[i].index = i;
        workers[i].scratch = malloc(bnk_attention_decode4_scratch(TILE, DIM) * sizeof(float));
    }
    split = splits[0];
    pass(workers, 0);  /* warm-up: page faults */
    double kernel[3][100], loads[100];
    for (int r = 0; r < repetitions; r++) {
        for (int i = 0; i < n_splits; i++) {
            split = splits[i];
            kernel[i][r] = pass(workers, 0);
        }
        split = SPLIT_LAYERS;
        loads[r] = pass(workers, 1);
    }
    double keys_heads = (double)rounds * (double)layers * (double)depth * HEADS, bytes = keys_heads * DIM * 2 * 2;
    printf("depth %zu, %zu layers, %d threads, %s layout, median of %d\n", depth, layers, threads,
           head_major ? "head-major" : "row", repetitions);
    for (int i = 0; i < n_splits; i++) {
        qsort(kernel[i], (size_t)repetitions, sizeof(double), bench_by_value);
        double k = kernel[i][repetitions / 2];
        printf("  %s, split %s: %.2f ms per token, %.1f ns per key per KV head per thread, %.1f GB/s of KV\n",
               kernel_name, split_names[splits[i]], k * 1e3 / rounds, k * 1e9 * threads / keys_heads, bytes / k / 1e9);
    }
    qsort(loads, (size_t)repetitions, sizeof(double), bench_by_value);
    double l = loads[repetitions / 2];
    printf("  loads only: %.2f ms per token, %.1f ns per key per KV head per thread, %.1f GB/s of KV\n",
           l * 1e3 / rounds, l * 1e9 * threads / keys_heads, bytes / l / 1e9);
    return workers[0].sink == 12345.0f;  /* keeps the sums alive */
}
