/* libbitnet embedded the way a generic language runtime does it: dlopen the library,
 * describe the structs to libffi (ffi_get_struct_offsets gives the layout), call every
 * function through ffi_call, and receive the stream callback through an ffi_closure.
 *   ./test_libffi LIBRARY.so MODEL.gguf
 * bitnet.h is included only to cross-check libffi's layouts and for a direct-call
 * reference; the library itself is never linked. */
#define _GNU_SOURCE
#include <bitnet.h>
#include <dlfcn.h>
#include <ffi.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures = 0;
#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); failures++; } } while (0)

static void *library;
static const char *kPrompt = "The quick brown fox jumps over the lazy dog";
#define FFI_SIZE_T (sizeof(size_t) == 8 ? &ffi_type_uint64 : &ffi_type_uint32)

/* MARK: - Struct descriptions, as a runtime would build them from its own declarations */

typedef struct {
    ffi_type type;
    ffi_type *elements[32];
    size_t offsets[32];
} struct_desc;

static void describe(struct_desc *d, ffi_type **fields, size_t n) {
    memset(d, 0, sizeof *d);
    memcpy(d->elements, fields, n * sizeof *fields);
    d->elements[n] = NULL;
    d->type.type = FFI_TYPE_STRUCT;
    d->type.elements = d->elements;
    if (ffi_get_struct_offsets(FFI_DEFAULT_ABI, &d->type, d->offsets) != FFI_OK) abort();
}

enum { CP_N_CTX = 1, CP_N_THREADS = 3 };
enum { GP_TEMPERATURE = 1, GP_MAX_NEW_TOKENS = 11, GP_IGNORE_EOS = 18 };
enum { TI_N_GENERATED = 4 };
enum { GR_STOP_REASON = 1, GR_N_GENERATED = 6 };
static struct_desc context_params, generation_params, token_info, generation_result;

static void describe_all(void) {
    ffi_type *u32 = &ffi_type_uint32, *i32 = &ffi_type_sint32, *u64 = &ffi_type_uint64, *f = &ffi_type_float,
             *p = &ffi_type_pointer, *sz = FFI_SIZE_T, *d = &ffi_type_double;
    ffi_type *cp[] = {u32, u32, u32, i32, i32, i32, u64, i32, i32, i32, i32, p};
    ffi_type *gp[] = {u32, f, i32, f, f, f, f, i32, f, f, u64, i32, p, sz, p, sz, p, sz, i32, i32, i32, p, p, p, p, p, p, p};
    ffi_type *ti[] = {u32, p, p, sz, i32, i32};
    ffi_type *gr[] = {u32, i32, i32, i32, i32, i32, i32, i32, d, d, d};
    describe(&context_params, cp, sizeof cp / sizeof *cp);
    describe(&generation_params, gp, sizeof gp / sizeof *gp);
    describe(&token_info, ti, sizeof ti / sizeof *ti);
    describe(&generation_result, gr, sizeof gr / sizeof *gr);
}

/* MARK: - Calling through libffi */

/* Calls `name` with n arguments of the given types; the return value lands in *ret. */
static void call(const char *name, ffi_type *rtype, void *ret, unsigned n, ffi_type **types, void **values) {
    void *fn = dlsym(library, name);
    ffi_cif cif;
    if (!fn || ffi_prep_cif(&cif, FFI_DEFAULT_ABI, n, rtype, types) != FFI_OK) {
        fprintf(stderr, "cannot call %s\n", name);
        exit(1);
    }
    ffi_arg raw = 0;
    ffi_call(&cif, FFI_FN(fn), rtype == &ffi_type_void ? NULL : &raw, values);
    /* Integer results narrower than a register come back widened in an ffi_arg. */
    if (rtype == &ffi_type_sint32) *(int32_t *)ret = (int32_t)raw;
    else if (rtype == &ffi_type_pointer) *(void **)ret = (void *)(uintptr_t)raw;
}

static int32_t call_status(const char *name, unsigned n, ffi_type **types, void **values) {
    int32_t status = 0;
    call(name, &ffi_type_sint32, &status, n, types, values);
    return status;
}

static const char *last_error(void) {
    const char *message = NULL;
    call("bitnet_last_error", &ffi_type_pointer, &message, 0, NULL, NULL);
    return message;
}

static void *load_model(const char *path, int32_t *status) {
    void *model = NULL, *params = NULL, *out = &model;
    ffi_type *types[] = {&ffi_type_pointer, &ffi_type_pointer, &ffi_type_pointer};
    void *values[] = {&path, &params, &out};
    *status = call_status("bitnet_model_load", 3, types, values);
    return model;
}

static void *new_context(void *model, uint32_t n_ctx) {
    unsigned char *params = calloc(1, context_params.type.size);
    void *ctx = NULL, *out = &ctx;
    ffi_type *t1[] = {&ffi_type_pointer};
    void *v1[] = {&params};
    call("bitnet_context_params_init", &ffi_type_void, NULL, 1, t1, v1);
    memcpy(params + context_params.offsets[CP_N_CTX], &n_ctx, 4);
    int32_t threads = 1;
    memcpy(params + context_params.offsets[CP_N_THREADS], &threads, 4);
    ffi_type *t3[] = {&ffi_type_pointer, &ffi_type_pointer, &ffi_type_pointer};
    void *v3[] = {&model, &params, &out};
    CHECK(call_status("bitnet_context_new", 3, t3, v3) == BITNET_OK);
    free(params);
    return ctx;
}

static void free_handle(const char *name, void *handle) {
    ffi_type *types[] = {&ffi_type_pointer};
    void *values[] = {&handle};
    call(name, &ffi_type_void, NULL, 1, types, values);
}

static unsigned char *greedy_params(int32_t max_new_tokens) {
    unsigned char *params = calloc(1, generation_params.type.size);
    ffi_type *types[] = {&ffi_type_pointer};
    void *values[] = {&params};
    call("bitnet_generation_params_init", &ffi_type_void, NULL, 1, types, values);
    float zero = 0.0f;
    int32_t one = 1;
    memcpy(params + generation_params.offsets[GP_TEMPERATURE], &zero, 4);
    memcpy(params + generation_params.offsets[GP_MAX_NEW_TOKENS], &max_new_tokens, 4);
    memcpy(params + generation_params.offsets[GP_IGNORE_EOS], &one, 4);
    return params;
}

/* MARK: - The stream callback as an ffi_closure */

typedef struct {
    char text[4096];
    size_t len;
    int chunks;
    int32_t answer;        /* what the callback returns: BITNET_CONTINUE / PAUSE / CANCEL */
    int32_t last_generated;
} collector;

/* The closure's handler: args are (const char *, size_t, const bitnet_token_info *, void *). */
static void on_chunk(ffi_cif *cif, void *ret, void **args, void *user) {
    (void)cif;
    collector *c = user;
    const char *text = *(const char **)args[0];
    size_t len = *(size_t *)args[1];
    const unsigned char *info = *(const unsigned char **)args[2];
    if (c->len + len < sizeof c->text) {
        memcpy(c->text + c->len, text, len);
        c->len += len;
    }
    c->chunks++;
    memcpy(&c->last_generated, info + token_info.offsets[TI_N_GENERATED], 4);
    *(ffi_arg *)ret = (ffi_arg)c->answer;
}

typedef struct {
    ffi_closure *closure;
    void *code;
    ffi_cif cif;
    ffi_type *args[4];
} stream_closure;

static void make_closure(stream_closure *s, collector *c) {
    s->args[0] = &ffi_type_pointer;
    s->args[1] = FFI_SIZE_T;
    s->args[2] = &ffi_type_pointer;
    s->args[3] = &ffi_type_pointer;
    s->closure = ffi_closure_alloc(sizeof(ffi_closure), &s->code);
    if (!s->closure || ffi_prep_cif(&s->cif, FFI_DEFAULT_ABI, 4, &ffi_type_sint32, s->args) != FFI_OK ||
        ffi_prep_closure_loc(s->closure, &s->cif, on_chunk, c, s->code) != FFI_OK) {
        fprintf(stderr, "cannot make the closure\n");
        exit(1);
    }
}

static int32_t generate(void *ctx, const char *prompt, void *params, stream_closure *s, collector *c, void *result) {
    void *fn = s->code;
    ffi_type *types[] = {&ffi_type_pointer, &ffi_type_pointer, &ffi_type_pointer, &ffi_type_pointer,
                         &ffi_type_pointer, &ffi_type_pointer};
    void *values[] = {&ctx, &prompt, &params, &fn, &c, &result};
    return call_status("bitnet_generate", 6, types, values);
}

static int32_t resume(void *ctx, stream_closure *s, collector *c, void *result) {
    void *fn = s->code;
    ffi_type *types[] = {&ffi_type_pointer, &ffi_type_pointer, &ffi_type_pointer, &ffi_type_pointer};
    void *values[] = {&ctx, &fn, &c, &result};
    return call_status("bitnet_generate_resume", 4, types, values);
}

/* MARK: - The reference: a direct, typed call */

static int32_t append(const char *text, size_t len, const bitnet_token_info *info, void *user) {
    (void)info;
    collector *c = user;
    if (c->len + len < sizeof c->text) memcpy(c->text + c->len, text, len), c->len += len;
    return BITNET_CONTINUE;
}

static long rss_bytes(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    if (f) fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s LIBRARY.so MODEL.gguf\n", argv[0]);
        return 2;
    }
    library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    describe_all();

    /* libffi's layouts agree with the header's. */
    CHECK(context_params.type.size == sizeof(bitnet_context_params));
    CHECK(context_params.offsets[CP_N_THREADS] == offsetof(bitnet_context_params, n_threads));
    CHECK(generation_params.type.size == sizeof(bitnet_generation_params));
    CHECK(generation_params.offsets[GP_MAX_NEW_TOKENS] == offsetof(bitnet_generation_params, max_new_tokens));
    CHECK(generation_params.offsets[GP_IGNORE_EOS] == offsetof(bitnet_generation_params, ignore_eos));
    CHECK(generation_params.offsets[22] == offsetof(bitnet_generation_params, progress_user_data));
    CHECK(token_info.offsets[TI_N_GENERATED] == offsetof(bitnet_token_info, n_generated));
    CHECK(generation_result.type.size == sizeof(bitnet_generation_result));
    CHECK(generation_result.offsets[GR_N_GENERATED] == offsetof(bitnet_generation_result, n_generated));

    int32_t abi = -1;
    call("bitnet_abi_version", &ffi_type_sint32, &abi, 0, NULL, NULL);
    CHECK(abi == BITNET_ABI_VERSION);

    int32_t status = 0;
    void *model = load_model(argv[2], &status);
    CHECK(status == BITNET_OK && model != NULL);
    if (!model) return 1;
    void *ctx = new_context(model, 256);
    unsigned char *params = greedy_params(24);
    unsigned char *result = calloc(1, generation_result.type.size);
    uint32_t result_size = (uint32_t)generation_result.type.size;
    memcpy(result, &result_size, 4);

    /* Reference text: the typed function pointer, called directly. */
    collector expected = {0};
    typedef int32_t (*generate_fn)(bitnet_context *, const char *, const bitnet_generation_params *,
                                   bitnet_stream_fn, void *, bitnet_generation_result *);
    generate_fn direct;
    *(void **)&direct = dlsym(library, "bitnet_generate");
    CHECK(direct(ctx, kPrompt, (const bitnet_generation_params *)params, append, &expected, NULL) == BITNET_OK);
    CHECK(expected.len > 0);

    /* The same through ffi_call + ffi_closure. */
    collector got = {0};
    stream_closure closure;
    make_closure(&closure, &got);
    got.answer = BITNET_CONTINUE;
    CHECK(generate(ctx, kPrompt, params, &closure, &got, result) == BITNET_OK);
    CHECK(got.len == expected.len && memcmp(got.text, expected.text, got.len) == 0);
    int32_t n_generated = 0;
    memcpy(&n_generated, result + generation_result.offsets[GR_N_GENERATED], 4);
    CHECK(n_generated == 24 && got.last_generated == 24);

    /* Pause at every chunk and resume until done: the same text. */
    memset(&got, 0, sizeof got);
    got.answer = BITNET_PAUSE;
    status = generate(ctx, kPrompt, params, &closure, &got, result);
    int pauses = 0;
    while (status == BITNET_PAUSED) {
        pauses++;
        status = resume(ctx, &closure, &got, result);
    }
    CHECK(status == BITNET_OK && pauses > 1 && pauses == got.chunks);
    CHECK(got.len == expected.len && memcmp(got.text, expected.text, got.len) == 0);

    /* Cancel from the closure. */
    memset(&got, 0, sizeof got);
    got.answer = BITNET_CANCEL;
    CHECK(generate(ctx, kPrompt, params, &closure, &got, result) == BITNET_E_CANCELLED && got.chunks == 1);
    int32_t stop_reason = 0;
    memcpy(&stop_reason, result + generation_result.offsets[GR_STOP_REASON], 4);
    CHECK(stop_reason == BITNET_STOP_CANCELLED);

    /* Errors: a missing file gives BITNET_E_IO and a message naming it. */
    const char *missing = "/nonexistent/dir/model.gguf";
    CHECK(load_model(missing, &status) == NULL && status == BITNET_E_IO);
    CHECK(strstr(last_error(), missing) != NULL);

    free_handle("bitnet_context_free", ctx);
    free_handle("bitnet_model_free", model);

    /* 1,000 load/create/free cycles through libffi leave the resident set flat. */
    long before = 0;
    for (int i = 0; i < 1050; i++) {
        if (i == 50) before = rss_bytes();
        void *m = load_model(argv[2], &status);
        void *c = m ? new_context(m, 64) : NULL;
        free_handle("bitnet_context_free", c);
        free_handle("bitnet_model_free", m);
    }
    long growth = rss_bytes() - before;
    printf("RSS growth over 1000 cycles: %ld KiB\n", growth / 1024);
    CHECK(growth < (4L << 20));

    ffi_closure_free(closure.closure);
    free(params);
    free(result);
    dlclose(library);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("ok   libffi embedding: all checks passed\n");
    return 0;
}
