/*
 * bitnet.h — the C interface of libbitnet, an inference engine for ternary
 * (BitNet b1.58) language models.
 *
 * This header is the manual. Read it top to bottom once; every function has a
 * short specification: what it does, who owns what, which thread may call it,
 * and which status codes it returns.
 *
 * General rules
 * -------------
 * - Every fallible call returns an int32_t status: BITNET_OK (0), a positive
 *   value for a non-error outcome (BITNET_PAUSED, BITNET_DONE), or a negative
 *   BITNET_E_* error. After an error, bitnet_last_error() on the same thread
 *   describes it.
 * - Objects are opaque pointers. Every *_free function accepts NULL.
 * - Parameter structs start with `uint32_t size`, are filled with defaults by
 *   their bitnet_*_params_init() function, and are passed by pointer. The
 *   library reads only `size` bytes, so fields appended in later versions do
 *   not break older callers. A NULL params pointer means "all defaults".
 *   bitnet_*_params_init() is a macro over bitnet_*_params_init_sized(), which
 *   writes only as many bytes as the struct this header declares: a program
 *   built against this header is never overrun by a later library whose
 *   struct has grown. Bindings that mirror a struct (FFI) call the _sized
 *   function with their mirror's size.
 * - Strings passed in are UTF-8. Strings returned as `const char *` are owned
 *   by the library; caller buffers are filled snprintf-style (the needed size
 *   is reported when the buffer is too small).
 * - Threads: a bitnet_model is immutable after loading and may be shared by
 *   any number of threads and contexts. A bitnet_context (and a stream) is used
 *   by one thread at a time; concurrent use is detected and returns
 *   BITNET_E_BUSY, it never corrupts state. Functions documented as "any
 *   thread" (version queries, bitnet_status_string, bitnet_last_error,
 *   bitnet_context_interrupt) may be called at any time.
 * - The library never calls exit() or abort() because of bad input.
 */
#ifndef BITNET_H
#define BITNET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define BITNET_API __attribute__((visibility("default")))
#else
#define BITNET_API
#endif

/* ======================================================================== */
/* Versions                                                                  */
/* ======================================================================== */

#define BITNET_VERSION_MAJOR 0
#define BITNET_VERSION_MINOR 1
#define BITNET_VERSION_PATCH 0
/** MAJOR * 10000 + MINOR * 100 + PATCH, comparable with bitnet_version_number(). */
#define BITNET_VERSION_NUMBER \
    (BITNET_VERSION_MAJOR * 10000 + BITNET_VERSION_MINOR * 100 + BITNET_VERSION_PATCH)
/** ABI generation; equals the SONAME major (libbitnet.so.0). */
#define BITNET_ABI_VERSION 0

/** Version of the loaded library as "MAJOR.MINOR.PATCH". Static string. Any thread. */
BITNET_API const char *bitnet_version_string(void);

/** Version of the loaded library as MAJOR*10000 + MINOR*100 + PATCH. Any thread. */
BITNET_API int32_t bitnet_version_number(void);

/**
 * ABI version of the loaded library. A program compiled against this header
 * should check `bitnet_abi_version() == BITNET_ABI_VERSION` at start-up.
 * Any thread.
 */
BITNET_API int32_t bitnet_abi_version(void);

/**
 * Build description: version, compiler, the kernel sets compiled in and the
 * one chosen for this CPU (e.g. "bitnet 0.1.0; kernels: avx512vnni avx2
 * reference; using avx512vnni"). Static string, valid for the life of the
 * process. Any thread.
 */
BITNET_API const char *bitnet_build_info(void);

/* ======================================================================== */
/* Status codes and errors                                                   */
/* ======================================================================== */

enum {
    BITNET_OK = 0,
    /** A generation stopped because its callback asked for a pause; resume it. */
    BITNET_PAUSED = 1,
    /** A stream has delivered its last chunk. */
    BITNET_DONE = 2,

    /** An argument is NULL, out of range or inconsistent. */
    BITNET_E_INVALID_ARGUMENT = -1,
    /** A file could not be opened, read, mapped or written. */
    BITNET_E_IO = -2,
    /** A file is malformed (bad magic, truncated, inconsistent sizes, ...). */
    BITNET_E_FORMAT = -3,
    /** Well-formed input that this build does not support (tensor type, architecture, ...). */
    BITNET_E_UNSUPPORTED = -4,
    /** Memory could not be allocated. */
    BITNET_E_OUT_OF_MEMORY = -5,
    /** The context has no room for more tokens. */
    BITNET_E_CONTEXT_FULL = -6,
    /** The object is in use by another thread or by an enclosing call. */
    BITNET_E_BUSY = -7,
    /** The operation was cancelled (callback, interrupt or stream cancel). */
    BITNET_E_CANCELLED = -8,
    /** Saved state belongs to another model (a file of another format version is BITNET_E_FORMAT). */
    BITNET_E_STATE_MISMATCH = -9,
    /** A wait timed out. */
    BITNET_E_TIMEOUT = -10,
    /** A caller buffer is too small; the needed size is reported. */
    BITNET_E_BUFFER_TOO_SMALL = -11,
    /** A bug in the library. Please report it with bitnet_last_error(). */
    BITNET_E_INTERNAL = -12
};

/**
 * Static English name of a status code ("BITNET_E_FORMAT: malformed file").
 * Unknown codes give "unknown status". Never NULL. Any thread.
 */
BITNET_API const char *bitnet_status_string(int32_t status);

/**
 * Message describing the last error on the calling thread, e.g.
 * "tensor blk.3.ffn_up.weight: type 36 needs K % 128 == 0, got 300".
 * Empty string ("") when no call on this thread has failed yet. The pointer
 * stays valid until the next failing call on this thread. A successful call
 * does not clear it. Each thread sees only its own message.
 */
BITNET_API const char *bitnet_last_error(void);

/* ======================================================================== */
/* Logging                                                                   */
/* ======================================================================== */

enum {
    BITNET_LOG_ERROR = 0,
    BITNET_LOG_WARN = 1,
    BITNET_LOG_INFO = 2,
    BITNET_LOG_DEBUG = 3
};

/**
 * Receives one log line (no trailing newline, NUL-terminated, valid only
 * during the call). May be called from any thread that runs library code,
 * including worker threads; it must be thread-safe and must not call back
 * into the library.
 */
typedef void (*bitnet_log_fn)(int32_t level, const char *message, void *user_data);

/**
 * Installs a process-wide log callback receiving messages whose level is
 * <= max_level. The library is silent by default; fn == NULL silences it
 * again. Returns BITNET_E_INVALID_ARGUMENT for a level outside
 * BITNET_LOG_ERROR..BITNET_LOG_DEBUG. Any thread; takes effect for messages
 * emitted after it returns.
 */
BITNET_API int32_t bitnet_set_log_callback(bitnet_log_fn fn, void *user_data, int32_t max_level);

/* ======================================================================== */
/* Objects                                                                   */
/* ======================================================================== */

/** A loaded model: weights, hyperparameters and tokenizer. Immutable, shareable. */
typedef struct bitnet_model bitnet_model;
/** An inference context: KV cache, scratch buffers, threads. One thread at a time. */
typedef struct bitnet_context bitnet_context;
/** A group of contexts of one model whose evaluations share forward passes (batched decoding). */
typedef struct bitnet_batch bitnet_batch;

/* ======================================================================== */
/* Models                                                                    */
/* ======================================================================== */

/*
 * Supported files: GGUF v2 and v3 with architecture "bitnet-b1.58" or
 * "bitnet-25" (Microsoft's 2B4T uploads), "bitnet" (llama.cpp's converter,
 * 1bitLLM checkpoints), "llama" (Llama3-8B-1.58, Falcon3 1.58-bit) or "qwen3"
 * (Qwen3-based ternary models). Linear weights: I2_S, TQ1_0, TQ2_0, Q2_0 (type
 * 42, ternary codes only) or F32 / F16 / BF16 (for "llama" and "qwen3" they
 * must be ternary values times one scale); rows of any width (whole blocks for
 * the block types). Embeddings / LM head may be F32, F16, BF16, Q8_0, Q4_0,
 * Q4_K, Q5_K or Q6_K. README.md ("Where models come from") has the details.
 *
 * Every count, offset and size in the file is validated before any tensor data
 * is touched; a malformed file fails with BITNET_E_FORMAT (or BITNET_E_IO /
 * BITNET_E_UNSUPPORTED) and a message naming the key or tensor at fault.
 * Remaining risk with use_mmap = 1: if another process truncates the file while
 * it is loaded, reading the lost pages raises SIGBUS. Load with use_mmap = 0
 * (a private heap copy) when files may change underneath the process.
 */

/**
 * Progress of bitnet_model_load, from 0.0 to 1.0, called on the loading thread
 * (a few times when mapping; per 16 MiB chunk when reading with use_mmap = 0).
 * Return 0 to continue; any other value aborts the load with
 * BITNET_E_CANCELLED (nothing is leaked, *out stays NULL).
 */
typedef int32_t (*bitnet_progress_fn)(float progress, void *user_data);

/** Options for bitnet_model_load. Fill with bitnet_model_params_init() first. */
typedef struct bitnet_model_params {
    uint32_t size;           /**< sizeof(bitnet_model_params); set by _init */
    int32_t use_mmap;        /**< 1 (default): map the file; 0: read it into memory */
    int32_t use_mlock;       /**< 1: pin the weights in RAM (best effort, logged on failure); default 0 */
    int32_t vocab_only;      /**< 1: metadata/tokenizer only: tensors are not read, any architecture; default 0 */
    bitnet_progress_fn progress_callback; /**< NULL (default) = no progress reports */
    void *progress_user_data;             /**< passed to progress_callback */
    /**
     * How the LM head (the output matrix, or the tied token embedding) is
     * held for computing logits. BITNET_LM_HEAD_Q8_0 requantizes an
     * F16/F32/BF16 head at load to 8 bits per weight plus one f16 scale per
     * 32 (1.06 instead of 2 bytes per weight for F16), and fails the load
     * (BITNET_E_FORMAT) if the head holds a value Q8_0 cannot encode (NaN,
     * infinity, |x| > ~8.3e6). BITNET_LM_HEAD_AUTO (default) does the same
     * but keeps such a head as stored (with a warning). For the 2B4T
     * model that streams 0.87 instead of 1.18 GB per generated token: ~30%
     * faster generation, +0.4 s of load. Measured cost on the project's
     * trained model: logits move by at most 0.1 (mean 0.006), the argmax
     * never changed, held-out perplexity changed by -0.003% (BENCHMARKS.md).
     * BITNET_LM_HEAD_AS_STORED computes with the file's values, the
     * paper's full-precision head. Embedding lookups always use the stored
     * values; a head already stored as Q8_0 is used as it is.
     */
    int32_t lm_head_type;
    /**
     * 1 (default): the weights every generated token streams (repacked
     * ternary matrices, the LM head) are held on 2 MB transparent huge pages
     * where the kernel offers them (Linux THP in "madvise" or "always" mode),
     * because streaming ~1 GB per token through 4 KB pages costs TLB misses.
     * Measured on the 2B4T model (BENCHMARKS.md): +2.5% generation speed with
     * the default Q8_0 head, +12% with a stored F16 head (which is then
     * copied out of the file mapping; its file pages are released as it is
     * copied, so peak memory does not grow). On some virtual machines the
     * first touch of huge pages is slow: there loading took +0.8 s (Q8_0
     * head) or +3 s (F16 head).
     * 0: 4 KB pages, and a stored head is read in place from the mapping.
     */
    int32_t use_huge_pages;
    /**
     * 1: check the file as a full load would — header, metadata, the
     * architecture's hyperparameters, the tensor table (names, types, shapes,
     * offsets inside the file), every tensor the architecture needs, the
     * tokenizer — without reading or repacking weight values. The file is
     * mapped (use_mmap and use_mlock are ignored), so this takes
     * milliseconds even for multi-gigabyte files. What it cannot see is what
     * only the values tell (for example whether F16 weights really hold
     * ternary values): a file that passes may still fail a full load.
     * The model answers the info, metadata and tokenizer calls;
     * bitnet_context_new refuses it (BITNET_E_INVALID_ARGUMENT). Default 0.
     */
    int32_t validate_only;
} bitnet_model_params;

/** Values of bitnet_model_params.lm_head_type. */
enum {
    BITNET_LM_HEAD_AS_STORED = 0,
    BITNET_LM_HEAD_Q8_0 = 1,
    BITNET_LM_HEAD_AUTO = 2
};

/** FFN activations reported in bitnet_model_info.activation. */
enum {
    BITNET_ACTIVATION_RELU2 = 0, /**< relu(x)^2 (bitnet-b1.58, bitnet-25, bitnet + hidden_activation=relu2) */
    BITNET_ACTIVATION_SILU = 1   /**< x * sigmoid(x) (bitnet default, llama, qwen3) */
};

/** Facts about a loaded model, filled by bitnet_model_info_get(). */
typedef struct bitnet_model_info {
    uint32_t size;        /**< set to sizeof(bitnet_model_info) before the call */
    char arch[32];        /**< general.architecture, NUL-terminated (truncated if longer) */
    int32_t n_vocab;      /**< vocabulary size */
    int32_t n_ctx_train;  /**< context length the model was trained with */
    int32_t n_embd;       /**< hidden size */
    int32_t n_layer;      /**< transformer blocks */
    int32_t n_head;       /**< attention (query) heads */
    int32_t n_head_kv;    /**< key/value heads (GQA) */
    int32_t n_ff;         /**< FFN hidden size */
    int32_t weight_type;  /**< ggml type id of the linear weights (36 = I2_S, 34 = TQ1_0, 35 = TQ2_0, 1 = F16, ...); -1 if vocab-only */
    int32_t n_rot;        /**< rotary dimensions per head */
    int64_t n_params;     /**< elements in all tensors of the file */
    uint64_t file_size;   /**< bytes of the GGUF file */
    float rope_freq_base; /**< RoPE theta */
    float rms_norm_eps;   /**< RMSNorm epsilon */
    int32_t activation;   /**< BITNET_ACTIVATION_* */
    int32_t tied_output;  /**< 1 if the LM head is the token embedding */
    int32_t vocab_only;   /**< 1 if loaded with vocab_only (hyperparameters best effort, may be 0) */
    int32_t validate_only; /**< 1 if loaded with validate_only (no weights prepared) */
} bitnet_model_info;

/** Fills *params with defaults (including params->size). NULL is ignored. Any thread. */
BITNET_API void bitnet_model_params_init(bitnet_model_params *params);
/** bitnet_model_params_init writing at most `size` bytes (the caller's sizeof);
 *  `size` is set to the bytes written. NULL is ignored (BITNET_OK); a size
 *  below 4 is BITNET_E_INVALID_ARGUMENT. Any thread. */
BITNET_API int32_t bitnet_model_params_init_sized(bitnet_model_params *params, size_t size);
#define bitnet_model_params_init(params) \
    ((void)bitnet_model_params_init_sized((params), sizeof(bitnet_model_params)))

/**
 * Loads the GGUF model at `path` (params == NULL: defaults) and stores a new
 * handle in *out; free it with bitnet_model_free(). On failure *out is set to
 * NULL. The model is immutable and may be shared by any number of threads.
 * Returns BITNET_OK; BITNET_E_INVALID_ARGUMENT (path or out NULL, bad
 * params->size, an lm_head_type that is not a BITNET_LM_HEAD_* value); BITNET_E_IO (missing file, directory, unreadable);
 * BITNET_E_FORMAT (malformed or inconsistent file); BITNET_E_UNSUPPORTED
 * (unknown architecture, tensor type or GGUF version); BITNET_E_OUT_OF_MEMORY;
 * BITNET_E_CANCELLED (the progress callback returned non-zero).
 */
BITNET_API int32_t bitnet_model_load(const char *path, const bitnet_model_params *params, bitnet_model **out);

/**
 * Fills *info. Set info->size = sizeof(bitnet_model_info) first: the library
 * writes at most that many bytes and stores the number written in info->size.
 * Returns BITNET_OK or BITNET_E_INVALID_ARGUMENT (NULL pointer, size < 4).
 * Any thread.
 */
BITNET_API int32_t bitnet_model_info_get(const bitnet_model *model, bitnet_model_info *info);

/**
 * Copies the value of metadata `key` as text into buf (snprintf-style: at most
 * cap - 1 bytes plus a NUL; buf may be NULL when cap is 0) and the full length
 * without NUL into *len (len may be NULL). Strings are returned as stored
 * (invalid UTF-8 replaced by U+FFFD), numbers in decimal ("4096", "1e-05",
 * "500000.0"), booleans as "true"/"false", arrays as "[a, b, ...]" with
 * quoted strings. Returns BITNET_OK; BITNET_E_BUFFER_TOO_SMALL (the text was
 * truncated, *len has the needed length); BITNET_E_INVALID_ARGUMENT (NULL
 * model or key, or no such key — check bitnet_last_error()). Any thread.
 */
BITNET_API int32_t bitnet_model_meta_get(const bitnet_model *model, const char *key, char *buf, size_t cap, size_t *len);

/** Number of metadata keys of the model (0 for NULL). Any thread. */
BITNET_API int32_t bitnet_model_meta_count(const bitnet_model *model);

/**
 * Copies the name of metadata key number `index` (0 <= index <
 * bitnet_model_meta_count(), in file order) into buf, snprintf-style like
 * bitnet_model_meta_get(). BITNET_E_INVALID_ARGUMENT when index is out of
 * range. Any thread.
 */
BITNET_API int32_t bitnet_model_meta_key(const bitnet_model *model, int32_t index, char *buf, size_t cap, size_t *len);

/**
 * Releases a model. NULL is ignored. The caller must free every context using
 * the model first; after this call the handle is invalid.
 */
BITNET_API void bitnet_model_free(bitnet_model *model);

/* ======================================================================== */
/* Contexts and evaluation                                                   */
/* ======================================================================== */

/** How the KV cache stores keys and values. */
enum {
    /** IEEE half precision (default): half the memory of f32, logits within ~1e-3. */
    BITNET_KV_F16 = 0,
    /** Single precision: exact to the forward pass's own arithmetic. */
    BITNET_KV_F32 = 1,
    /**
     * Lossy compression: positions older than the last 256 before each query
     * are read as int8 with one float scale per head (keys and values), the
     * newest 256 (plus one batch) as f16. About half the bytes per token of
     * f16 at head size 128. Measured on the golden models over 600 positions:
     * logits within 0.34 of f16 KV, the same argmax at 97% of positions.
     */
    BITNET_KV_Q8 = 2
};

/** Which stored prefix the prefix cache drops when a new one does not fit. */
enum {
    /** Least recently used (stored or reused) first (default). */
    BITNET_EVICT_LRU = 0,
    /** Oldest stored first. */
    BITNET_EVICT_FIFO = 1
};

/** What a generation does when the context is full (n_past == n_ctx). */
enum {
    /** Stop; the result's reason is context_full (default). */
    BITNET_OVERFLOW_STOP = 0,
    /**
     * Keep the first n_keep tokens (attention sinks), drop the older half of
     * the rest and go on (see bitnet_context_shift). Later tokens then see an
     * approximation of the dropped text's influence, not the text itself.
     */
    BITNET_OVERFLOW_SHIFT = 1
};

typedef struct bitnet_context_params {
    uint32_t size;      /**< sizeof(bitnet_context_params); set by bitnet_context_params_init */
    uint32_t n_ctx;     /**< KV capacity in tokens (the sequence length limit). 0 (default) = the model's training context, at most 4096 */
    uint32_t n_batch;   /**< most prompt tokens computed at once; default 64. Larger batches reuse each weight load for more tokens */
    int32_t n_threads;  /**< threads including the caller; 0 (default) = one per online CPU */
    int32_t kv_type;    /**< BITNET_KV_F16 (default), BITNET_KV_F32 or BITNET_KV_Q8 */
    int32_t logits_all; /**< non-zero: keep the logits of every position of each eval, not only the last (default 0) */
    uint64_t prefix_cache_bytes; /**< budget of the prefix cache (stored prefixes' KV + ids); default 64 MiB, 0 disables it */
    int32_t prefix_eviction;     /**< BITNET_EVICT_LRU (default) or BITNET_EVICT_FIFO */
    int32_t prefix_cache_auto;   /**< non-zero: store every generation prompt in the prefix cache, not only warmed ones, when it fits the budget (a failed store is logged, not an error; default 0) */
    int32_t overflow_policy;     /**< BITNET_OVERFLOW_STOP (default) or BITNET_OVERFLOW_SHIFT; also applies to bitnet_context_eval */
    int32_t n_keep;              /**< tokens a shift never drops (default 4), >= 0 */
    /**
     * NULL (default): the context runs alone on its own n_threads threads.
     * A batch of the same model: the context's evaluations run in the batch's
     * shared steps (see bitnet_batch_new); n_threads, prefix_cache_bytes and
     * prefix_eviction are then ignored (the batch's own are used;
     * prefix_cache_auto still applies, to the batch's shared cache) and prompts are
     * read at most the batch's prompt_chunk tokens at a time. The batch must
     * outlive the context's use of it (the context keeps it alive: freeing the
     * batch handle first is allowed).
     */
    bitnet_batch *batch;
} bitnet_context_params;

/** Fills *params with the defaults above. NULL is ignored. Any thread. */
BITNET_API void bitnet_context_params_init(bitnet_context_params *params);
/** bitnet_context_params_init writing at most `size` bytes (the caller's sizeof);
 *  `size` is set to the bytes written. NULL is ignored (BITNET_OK); a size
 *  below 4 is BITNET_E_INVALID_ARGUMENT. Any thread. */
BITNET_API int32_t bitnet_context_params_init_sized(bitnet_context_params *params, size_t size);
#define bitnet_context_params_init(params) \
    ((void)bitnet_context_params_init_sized((params), sizeof(bitnet_context_params)))

/**
 * The bytes a context with these params would allocate for its KV cache
 * (q8's f16 window included), before allocating anything: *bytes receives
 * it. n_ctx 0 resolves as in bitnet_context_new. Errors:
 * BITNET_E_INVALID_ARGUMENT (NULL model/bytes, bad params, a vocab_only or
 * validate_only model, a size that overflows). With params->batch the
 * estimate does not apply the batch's prompt_chunk cap on n_batch, so for a
 * q8 cache it may count a larger f16 window than the context allocates. Any
 * thread.
 */
BITNET_API int32_t bitnet_kv_bytes_estimate(const bitnet_model *model, const bitnet_context_params *params,
                                            size_t *bytes);

/**
 * Creates a context for `model`: allocates the KV cache (n_ctx tokens),
 * scratch memory and the worker threads (none with a batch: its steps do the
 * work). The model must outlive the context.
 * On success *out receives the context (free it with bitnet_context_free).
 * Errors: BITNET_E_INVALID_ARGUMENT (NULL model/out, bad params, a
 * vocab_only or validate_only model, a batch of another model), BITNET_E_OUT_OF_MEMORY (n_ctx
 * too large for this machine; the message says how many bytes were needed),
 * BITNET_E_BUSY (the batch already holds max_sequences contexts). Any thread.
 */
BITNET_API int32_t bitnet_context_new(const bitnet_model *model, const bitnet_context_params *params,
                                      bitnet_context **out);

/**
 * Frees a context and joins its threads; a generation paused on it is
 * discarded. NULL is ignored. Never call it from the context's own stream
 * callback or while another thread uses it: when the context is visibly busy
 * (a running call, a callback, a running stream) it refuses, does nothing and
 * logs a warning instead of pulling memory from under the running call. A
 * finished stream keeps its context alive until bitnet_stream_free().
 */
BITNET_API void bitnet_context_free(bitnet_context *ctx);

/**
 * Appends `n` tokens to the context's sequence and computes the logits of
 * the last one (of every one with logits_all). A long input is processed in
 * batches of n_batch. All or nothing: on any error the sequence is unchanged.
 * When the context is empty (and logits_all is 0) a stored prefix of the
 * tokens is copied from the prefix cache instead of computed. With
 * BITNET_OVERFLOW_SHIFT, tokens that do not fit make room by shifting
 * first (as many times as needed) when n alone fits in n_ctx - n_keep; a
 * shift made this way stays even if the evaluation then fails.
 * Errors: BITNET_E_INVALID_ARGUMENT (NULL, n == 0, an id outside the
 * vocabulary), BITNET_E_CONTEXT_FULL (n_past + n > n_ctx), BITNET_E_BUSY
 * (another thread is using ctx), BITNET_E_CANCELLED (bitnet_context_interrupt).
 */
BITNET_API int32_t bitnet_context_eval(bitnet_context *ctx, const int32_t *tokens, size_t n);

/**
 * The logits (n_vocab floats) of the last position of the last successful
 * eval, or NULL when there are none (nothing evaluated since creation, reset
 * or truncate; ctx NULL). Owned by the context; valid until the next call
 * that changes it (eval, generate, reset, truncate, free).
 */
BITNET_API const float *bitnet_context_logits(const bitnet_context *ctx);

/**
 * Logits of row i of the last eval: with logits_all, row i is the i-th token
 * of that eval; without, only i = 0 (the last token) exists. Negative i
 * counts from the end (-1 = last). NULL when the row does not exist.
 * Lifetime as bitnet_context_logits.
 */
BITNET_API const float *bitnet_context_logits_ith(const bitnet_context *ctx, int32_t i);

/** Number of tokens in the context's sequence (0 for NULL). */
BITNET_API int32_t bitnet_context_n_past(const bitnet_context *ctx);

/** KV capacity in tokens (n_ctx), 0 for NULL. */
BITNET_API int32_t bitnet_context_n_ctx(const bitnet_context *ctx);

/**
 * Keeps the first n_keep tokens of the sequence and forgets the rest (their
 * cache entries are overwritten later). Errors: BITNET_E_INVALID_ARGUMENT
 * (n_keep > n_past), BITNET_E_BUSY.
 */
BITNET_API int32_t bitnet_context_truncate(bitnet_context *ctx, int32_t n_keep);

/** Empties the sequence (same as truncate to 0). Errors: BITNET_E_INVALID_ARGUMENT, BITNET_E_BUSY. */
BITNET_API int32_t bitnet_context_reset(bitnet_context *ctx);

/**
 * Asks the call running on ctx (eval, generate, a stream) to stop; it returns
 * BITNET_E_CANCELLED within one layer of work. An eval leaves the context as
 * it was before that call; a generation stops between tokens or within a
 * prompt batch and keeps the prompt batches and tokens it had evaluated (so
 * the next call reuses them). A request made while nothing runs is dropped when the next
 * call starts. Safe from any thread, including signal-free watchdog threads.
 * Errors: BITNET_E_INVALID_ARGUMENT (NULL).
 */
BITNET_API int32_t bitnet_context_interrupt(bitnet_context *ctx);

/**
 * Makes room in a full context: keeps the first n_keep tokens, drops the
 * older half of the rest, moves the newer half down and re-rotates its keys
 * (RoPE by minus the distance moved). *n_dropped (may be NULL) receives the
 * number of tokens dropped. The logits are dropped too: evaluate a token
 * next. Generation calls this itself under BITNET_OVERFLOW_SHIFT. Errors:
 * BITNET_E_INVALID_ARGUMENT (NULL ctx), BITNET_E_CONTEXT_FULL (n_keep leaves
 * nothing to drop), BITNET_E_BUSY.
 */
BITNET_API int32_t bitnet_context_shift(bitnet_context *ctx, int32_t *n_dropped);

/* ======================================================================== */
/* Batched decoding                                                          */
/* ======================================================================== */

/*
 * Decoding reads every weight once per step, so it is limited by memory
 * bandwidth: several sequences' next tokens cost little more than one when
 * they share a pass over the weights. A batch does that for the contexts
 * created with it (bitnet_context_params.batch): whatever they evaluate
 * concurrently — generations (bitnet_generate, streams, push callbacks with
 * pause/cancel), bitnet_context_eval, prompts — is coalesced into one forward
 * pass per step on the batch's threads (continuous batching). Callers do not
 * change how they generate.
 *
 * Threading rules: each context is still used by one thread at a time (as
 * always); different contexts of a batch are meant to be driven from
 * different threads at once (a thread per sequence, or a stream per
 * sequence). A context that evaluates waits for the next step; a step runs
 * every pending decode token plus prompt chunks of at most prompt_chunk
 * tokens, so a newcomer's prompt is read between the others' decode steps.
 * A sequence that pauses, finishes, is cancelled or interrupted stops
 * submitting and the others go on without it (they wait for it at most an
 * eighth of a step, 2-10 ms, once). bitnet_context_interrupt on a batched context takes effect between
 * steps. Driving two contexts of one batch from ONE thread in turn works but
 * gains nothing (each call waits for its own step).
 *
 * Determinism: a sequence's logits do not depend on what shares its steps,
 * so it generates exactly the tokens it generates alone with the same seed.
 *
 * Memory: each context keeps its own KV cache; the batch holds the scratch
 * of one step (max_sequences + prompt_chunk rows) and the prefix cache shared
 * by its contexts (a common system prompt is evaluated once for all).
 */

typedef struct bitnet_batch_params {
    uint32_t size;               /**< sizeof(bitnet_batch_params); set by bitnet_batch_params_init */
    int32_t max_sequences;       /**< most contexts in the batch at once, 1..256; default 8 */
    int32_t n_threads;           /**< threads of the batch's steps (its own included); 0 (default) = one per online CPU */
    int32_t prompt_chunk;        /**< most prompt tokens of one sequence per step, 1..512; default 16 */
    uint64_t prefix_cache_bytes; /**< budget of the prefix cache the contexts share; default 64 MiB, 0 disables it */
    int32_t prefix_eviction;     /**< BITNET_EVICT_LRU (default) or BITNET_EVICT_FIFO */
} bitnet_batch_params;

/** Fills *params with the defaults above. NULL is ignored. Any thread. */
BITNET_API void bitnet_batch_params_init(bitnet_batch_params *params);
/** bitnet_batch_params_init writing at most `size` bytes (the caller's sizeof);
 *  `size` is set to the bytes written. NULL is ignored (BITNET_OK); a size
 *  below 4 is BITNET_E_INVALID_ARGUMENT. Any thread. */
BITNET_API int32_t bitnet_batch_params_init_sized(bitnet_batch_params *params, size_t size);
#define bitnet_batch_params_init(params) \
    ((void)bitnet_batch_params_init_sized((params), sizeof(bitnet_batch_params)))

/**
 * Creates a batch for `model` (params NULL: defaults) and starts its step
 * thread and workers. Contexts join it through bitnet_context_params.batch;
 * more than max_sequences contexts fail with BITNET_E_BUSY. On success *out
 * receives the batch (free it with bitnet_batch_free). Errors:
 * BITNET_E_INVALID_ARGUMENT (NULL model/out, a field out of range, a
 * vocab_only or validate_only model), BITNET_E_OUT_OF_MEMORY. Any thread.
 */
BITNET_API int32_t bitnet_batch_new(const bitnet_model *model, const bitnet_batch_params *params,
                                    bitnet_batch **out);

/**
 * Releases the caller's handle. Contexts created with the batch keep it
 * alive until the last of them is freed; then its threads are joined. NULL
 * is ignored. Any thread.
 */
BITNET_API void bitnet_batch_free(bitnet_batch *batch);

typedef struct bitnet_batch_stats {
    uint32_t size;              /**< set to sizeof(bitnet_batch_stats) before the call */
    int32_t n_sequences;        /**< contexts in the batch now */
    uint64_t n_steps;           /**< forward passes run */
    uint64_t n_tokens;          /**< tokens evaluated in them (decode and prompt) */
    double mean_batch_size;     /**< sequences per step, on average */
    double tokens_per_second;   /**< n_tokens per second of step time */
    int32_t n_last_step;        /**< sequences in the most recent step */
} bitnet_batch_stats;

/**
 * Fills *stats (only the first stats->size bytes; size is set to what was
 * written). Errors: BITNET_E_INVALID_ARGUMENT (NULL, size < 4). Any thread.
 */
BITNET_API int32_t bitnet_batch_stats_get(const bitnet_batch *batch, bitnet_batch_stats *stats);

/* ======================================================================== */
/* Prefix cache, statistics, saved state                                     */
/* ======================================================================== */

/*
 * The prefix cache keeps the KV of token prefixes (a system prompt, a
 * document, the previous turn) so that a later prompt starting with one
 * copies it instead of computing it: bitnet_generate, bitnet_stream_start
 * and bitnet_context_eval on an empty context take the longest stored
 * token-level prefix of their prompt (the result's n_prompt_tokens_reused
 * counts it). Prefixes are stored by bitnet_cache_warm*, and with
 * prefix_cache_auto also every prompt. Each context has its own cache, within
 * prefix_cache_bytes, evicting by prefix_eviction. The copied KV is bit for
 * bit what computing it gives (under q8 when a whole stored prefix is used;
 * a part of one may read a few more positions in 8 bits than computing
 * would). Tokens kept by a shift are never
 * reused or stored: their KV is no longer what a fresh computation gives.
 */

/**
 * Tokenizes `text` (NUL-terminated UTF-8) as generation tokenizes prompts —
 * BOS as the tokenizer's add_bos default, control-token text such as
 * "<|eot_id|>" parsed (parse_special = 1) — computes its KV and stores it in
 * the prefix cache. The context is left holding the prefix, with the logits
 * of its last token. An identical stored prefix is only marked used.
 * Errors: BITNET_E_INVALID_ARGUMENT (NULL, empty text, invalid UTF-8, a
 * prefix larger than prefix_cache_bytes or the cache disabled),
 * BITNET_E_UNSUPPORTED (no tokenizer), BITNET_E_CONTEXT_FULL (longer than
 * n_ctx), BITNET_E_BUSY, BITNET_E_CANCELLED.
 */
BITNET_API int32_t bitnet_cache_warm(bitnet_context *ctx, const char *text);

/** As bitnet_cache_warm, for `n` token ids. */
BITNET_API int32_t bitnet_cache_warm_tokens(bitnet_context *ctx, const int32_t *tokens, size_t n);

/** Drops every stored prefix (the counters stay). Errors: BITNET_E_INVALID_ARGUMENT, BITNET_E_BUSY. */
BITNET_API int32_t bitnet_cache_clear(bitnet_context *ctx);

/** Memory and prefix cache counters of a context. */
typedef struct bitnet_context_stats {
    uint32_t size;                 /**< set to sizeof(bitnet_context_stats) before the call */
    uint32_t n_ctx;                /**< KV capacity in tokens */
    uint32_t n_past;               /**< tokens in the sequence */
    int32_t kv_type;               /**< BITNET_KV_* */
    uint64_t kv_bytes_per_token;   /**< KV bytes of one token, all layers, keys + values (q8: the 8-bit rows) */
    uint64_t kv_bytes;             /**< bytes the KV cache allocated (q8: with its f16 window) */
    uint64_t prefix_hits;          /**< prompts that copied KV from a stored prefix */
    uint64_t prefix_misses;        /**< prompts that looked for one and found none */
    uint64_t prefix_tokens_reused; /**< positions copied instead of computed */
    uint64_t prefix_evictions;     /**< prefixes dropped to make room */
    uint64_t prefix_bytes;         /**< bytes the stored prefixes use (at most prefix_cache_bytes) */
    uint64_t prefix_entries;       /**< prefixes stored */
} bitnet_context_stats;

/**
 * Fills *stats (only the first stats->size bytes; size is set to what was
 * written). Errors: BITNET_E_INVALID_ARGUMENT (NULL, size < 4). Reads only;
 * same thread rules as other context calls.
 */
BITNET_API int32_t bitnet_context_stats_get(const bitnet_context *ctx, bitnet_context_stats *stats);

/*
 * Saved state: the sequence's tokens, its KV and the last logits, with a
 * format version, a fingerprint of the model
 * (hyperparameters and tensor table) and a checksum. Loading checks
 * everything before changing anything: a file from another model, another
 * kv_type or a larger sequence than n_ctx fails with
 * BITNET_E_STATE_MISMATCH, a truncated or corrupted one with
 * BITNET_E_FORMAT, and the context stays as it was. The data is in the
 * machine's byte order (little-endian on every supported CPU). The prefix
 * cache is not part of the state, and neither is a sampler: every
 * generation seeds its own from bitnet_generation_params.seed, so a restored
 * context generates the same text as the saved one for the same prompt,
 * params and seed (a paused generation is not saved; resume it first).
 */

/** *size receives the bytes bitnet_state_save_buffer needs now. Errors: BITNET_E_INVALID_ARGUMENT, BITNET_E_BUSY. */
BITNET_API int32_t bitnet_state_size(bitnet_context *ctx, size_t *size);

/**
 * Writes the state into buf (cap bytes); *written (may be NULL) receives the
 * bytes used. Errors: BITNET_E_BUFFER_TOO_SMALL (ask bitnet_state_size),
 * BITNET_E_INVALID_ARGUMENT, BITNET_E_BUSY.
 */
BITNET_API int32_t bitnet_state_save_buffer(bitnet_context *ctx, void *buf, size_t cap, size_t *written);

/** Replaces the context's state by the `len` bytes at buf. Errors: see above, BITNET_E_BUSY. */
BITNET_API int32_t bitnet_state_load_buffer(bitnet_context *ctx, const void *buf, size_t len);

/**
 * Writes the state to the file `path`, atomically: a temporary file beside it
 * is written, fsynced and renamed over `path`. Errors: BITNET_E_IO (message
 * with the path and reason), BITNET_E_INVALID_ARGUMENT, BITNET_E_BUSY,
 * BITNET_E_OUT_OF_MEMORY.
 */
BITNET_API int32_t bitnet_state_save(bitnet_context *ctx, const char *path);

/**
 * Loads a state file. Errors: BITNET_E_INVALID_ARGUMENT (NULL ctx or path),
 * BITNET_E_IO, BITNET_E_FORMAT, BITNET_E_STATE_MISMATCH, BITNET_E_BUSY,
 * BITNET_E_OUT_OF_MEMORY (a file too large to read into memory).
 */
BITNET_API int32_t bitnet_state_load(bitnet_context *ctx, const char *path);

/* ======================================================================== */
/* Tokens                                                                    */
/* ======================================================================== */

/*
 * Every model carries its tokenizer: "gpt2" byte-level BPE (Llama 3 / 2B4T,
 * GPT-2, the pre-tokenizer chosen by tokenizer.ggml.pre) or "llama"
 * SentencePiece BPE with byte fallback. Token ids are int32_t in
 * 0 ..< bitnet_vocab_size(). All functions here only read the model and may be
 * called from any thread, concurrently. A model loaded from a file without
 * tokenizer metadata makes them fail with BITNET_E_UNSUPPORTED (the token-id
 * getters return -1).
 */

/**
 * Converts `len` bytes of UTF-8 `text` (not necessarily NUL-terminated; text
 * may be NULL when len is 0) into token ids.
 *
 * add_bos != 0 puts the model's BOS token first (unless the text already
 * produced it, e.g. "<|begin_of_text|>" with parse_special; never twice).
 * parse_special != 0 turns the text of control tokens such as "<|eot_id|>"
 * into their ids; with 0 such text is ordinary characters. Control tokens are
 * never produced from plain text otherwise. SentencePiece models prepend one
 * space to the text, as their reference implementation does.
 *
 * Writes at most `cap` ids to `tokens` (NULL allowed when cap is 0) and the
 * full count to *n_tokens (required). Returns BITNET_OK;
 * BITNET_E_BUFFER_TOO_SMALL when cap < *n_tokens (the first cap ids are
 * written; call again with a buffer of *n_tokens); BITNET_E_INVALID_ARGUMENT
 * for invalid UTF-8 (the message gives the byte offset) or NULL pointers;
 * BITNET_E_UNSUPPORTED when the model has no tokenizer.
 */
BITNET_API int32_t bitnet_tokenize(const bitnet_model *model, const char *text, size_t len, int add_bos,
                                   int parse_special, int32_t *tokens, size_t cap, size_t *n_tokens);

/**
 * Converts `n` token ids back into text, snprintf-style: writes at most
 * cap - 1 bytes plus a NUL to buf (buf may be NULL when cap is 0) and the full
 * length (without NUL) to *len (len may be NULL). Control tokens (BOS, EOS,
 * <|eot_id|>, ...) produce no text; SentencePiece models drop the one leading
 * space that tokenization prepends. The bytes are exactly those of the tokens:
 * a sequence cut inside a multi-byte character ends with an incomplete one
 * (use the streaming generation API for text that is always valid UTF-8).
 * Returns BITNET_OK; BITNET_E_BUFFER_TOO_SMALL (output truncated, *len has the
 * needed length); BITNET_E_INVALID_ARGUMENT (an id outside the vocabulary,
 * NULL tokens with n > 0); BITNET_E_UNSUPPORTED (no tokenizer).
 */
BITNET_API int32_t bitnet_detokenize(const bitnet_model *model, const int32_t *tokens, size_t n, char *buf,
                                     size_t cap, size_t *len);

/**
 * The bytes one token stands for, snprintf-style like bitnet_detokenize().
 * A byte-level token may be a fragment of a UTF-8 character. Control tokens
 * give their text ("<|eot_id|>"); SentencePiece pieces have '▁' turned into
 * spaces. Returns BITNET_OK, BITNET_E_BUFFER_TOO_SMALL,
 * BITNET_E_INVALID_ARGUMENT (token outside the vocabulary) or
 * BITNET_E_UNSUPPORTED.
 */
BITNET_API int32_t bitnet_token_to_piece(const bitnet_model *model, int32_t token, char *buf, size_t cap,
                                         size_t *len);

/** Beginning-of-text token id, or -1 (no such token, no tokenizer, NULL model). */
BITNET_API int32_t bitnet_token_bos(const bitnet_model *model);
/** End-of-text token id, or -1. */
BITNET_API int32_t bitnet_token_eos(const bitnet_model *model);
/**
 * End-of-turn token id (tokenizer.ggml.eot_token_id, else found by its text,
 * e.g. "<|eot_id|>" = 128009 for 2B4T), or -1. Chat generation stops at it.
 */
BITNET_API int32_t bitnet_token_eot(const bitnet_model *model);
/** Number of tokens in the tokenizer's vocabulary, or -1. */
BITNET_API int32_t bitnet_vocab_size(const bitnet_model *model);

/**
 * Renders a conversation of `n` messages (roles[i], contents[i]: NUL-terminated
 * UTF-8, e.g. "system", "user", "assistant") into a prompt, snprintf-style into
 * buf / *len like bitnet_detokenize(). add_assistant != 0 appends the opening of
 * the assistant's reply.
 *
 * template_name: "bitnet" (2B4T: "<|begin_of_text|>System: {s}<|eot_id|>User:
 * {u}<|eot_id|>Assistant: ", roles capitalised, contents trimmed), "llama3"
 * ("<|begin_of_text|><|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>")
 * or "chatml" (Qwen: "<|im_start|>{role}\n{content}<|im_end|>\n");
 * NULL selects the model's own: its tokenizer.chat_template when recognised,
 * else "bitnet" for the bitnet-b1.58 / bitnet-25 architectures, else "llama3"
 * when the vocabulary has a <|start_header_id|> token. The prompt
 * starts with the BOS text: tokenize it with parse_special = 1 (add_bos = 1
 * does not add a second BOS). Returns BITNET_OK; BITNET_E_BUFFER_TOO_SMALL;
 * BITNET_E_INVALID_ARGUMENT (unknown template name, NULL roles/contents or an
 * element of them, invalid UTF-8); BITNET_E_UNSUPPORTED (template_name NULL
 * and the model's template is not one of the above).
 */
BITNET_API int32_t bitnet_apply_chat_template(const bitnet_model *model, const char *template_name,
                                              const char *const *roles, const char *const *contents, size_t n,
                                              int add_assistant, char *buf, size_t cap, size_t *len);

/* ======================================================================== */
/* Generation                                                                */
/* ======================================================================== */

/*
 * Text generation from a prompt, push mode: bitnet_generate() runs the loop on
 * the calling thread and hands each piece of text to your callback.
 *
 * Callback rules
 * - A chunk handed to the callback is committed: whatever the callback
 *   returns, that chunk is never delivered again (not by resume either).
 * - Callbacks run synchronously on the thread that called bitnet_generate()
 *   or bitnet_generate_resume(), one at a time, never concurrently.
 * - Pointers passed to a callback (text, info and the arrays in it) are valid
 *   only during that call. The text is NOT NUL-terminated: use `len`.
 * - Every chunk is valid UTF-8 and non-empty: a token that ends inside a
 *   character is held back until the character is complete, and text that
 *   could still become a stop sequence is held back until it is decided.
 *   Stop-sequence text itself is never delivered.
 * - Inside a callback the context is busy: bitnet_generate, _resume,
 *   bitnet_context_eval/truncate/reset, bitnet_stream_start on the same
 *   context return BITNET_E_BUSY. Freeing the context from its own callback is
 *   forbidden; bitnet_context_free() refuses (does nothing and logs a warning)
 *   while the context is busy. bitnet_context_interrupt() is allowed.
 * - A call that fails before it starts (bad arguments, busy context, prompt
 *   that does not fit) never invokes any callback.
 *
 * Order of work per token: the token is sampled, evaluated (appended to the
 * context), then its text is released. So after a chunk the context holds
 * every generated token and a pause needs nothing else: resume continues with
 * the next token. A generation that stops at EOS/EOT or a stop token does not
 * add that token to the context.
 */

/** What a stream callback returns. Any other value means BITNET_CANCEL. */
enum {
    BITNET_CONTINUE = 0,
    /** Stop now and return BITNET_PAUSED; bitnet_generate_resume() continues. */
    BITNET_PAUSE = 1,
    /** Stop now and return BITNET_E_CANCELLED. */
    BITNET_CANCEL = 2
};

/** Why a generation ended (bitnet_generation_result.stop_reason). */
enum {
    /** Not finished (paused) or failed with an error. */
    BITNET_STOP_NONE = 0,
    /** max_new_tokens tokens were generated. */
    BITNET_STOP_MAX_TOKENS = 1,
    /** EOS, EOT or one of stop_tokens was sampled (stop_token names it). */
    BITNET_STOP_EOS = 2,
    /** A stop sequence appeared (stop_index names it). */
    BITNET_STOP_SEQUENCE = 3,
    /** Cancelled by a callback, bitnet_context_interrupt() or bitnet_stream_cancel(). */
    BITNET_STOP_CANCELLED = 4,
    /** The context has no room for another token. */
    BITNET_STOP_CONTEXT_FULL = 5
};

/** Sampling presets for bitnet_generation_params_preset(). */
enum {
    /** Greedy (temperature 0): deterministic, cheapest. */
    BITNET_PRESET_FAST = 0,
    /** Temperature 0.7, top-k 50, top-p 0.9 (the default). */
    BITNET_PRESET_BALANCED = 1,
    /** Temperature 0.8, top-k 100, top-p 0.95, repetition penalty 1.1 over 64 tokens. */
    BITNET_PRESET_QUALITY = 2
};

/** bitnet_generation_params.seed value asking for a seed from the operating system. */
#define BITNET_SEED_RANDOM UINT64_MAX

/** Added to one token's logit before sampling; -INFINITY bans the token. */
typedef struct bitnet_logit_bias {
    int32_t token;
    float bias;
} bitnet_logit_bias;

/**
 * Reports prompt evaluation: `done` of `total` prompt tokens are in the
 * context (reused ones included; called once before the first batch and after
 * each batch). Return 0 to continue, non-zero to cancel (the call then returns
 * BITNET_E_CANCELLED, the context keeps the batches already evaluated).
 */
typedef int32_t (*bitnet_prompt_progress_fn)(size_t done, size_t total, void *user_data);

/** Generation settings. Fill with bitnet_generation_params_init(). */
typedef struct bitnet_generation_params {
    uint32_t size;
    /** 0 = greedy (argmax; the filters and the seed are ignored). Default 0.7. */
    float temperature;
    /** Keep the k most likely tokens; 0 = off. Default 50. */
    int32_t top_k;
    /** Nucleus sampling; 1 = off. Default 0.9. */
    float top_p;
    /** Drop tokens less likely than min_p times the best; 0 = off. Default 0. */
    float min_p;
    /** Locally typical sampling; 1 = off. Default 1. */
    float typical_p;
    /** Recent tokens' logits divided by this (multiplied if negative); 1 = off. Default 1. */
    float repetition_penalty;
    /** Window of the penalties in tokens (the prompt counts); 0 = off, -1 = all. Default 64. */
    int32_t repeat_last_n;
    /** Subtracted once from each token in the window. Default 0. */
    float presence_penalty;
    /** Subtracted per occurrence in the window. Default 0. */
    float frequency_penalty;
    /** Same seed + same prompt + same params = same text. Default BITNET_SEED_RANDOM. */
    uint64_t seed;
    /**
     * Most tokens to generate. Default 256. 0 = no limit: until EOS, a stop
     * sequence or stop token, a callback's BITNET_CANCEL, or a full context —
     * and with BITNET_OVERFLOW_SHIFT a full context is made room in, so a
     * model that never emits EOS (or ignore_eos = 1) generates forever. A host
     * that allows 0 stops such a generation itself: return BITNET_CANCEL or
     * BITNET_PAUSE from the callback, or call bitnet_context_interrupt(ctx)
     * from another thread (a watchdog or a user's "stop" button; it works
     * with fn == NULL and for streams too, and the call returns
     * BITNET_E_CANCELLED with the tokens so far kept in the context).
     */
    int32_t max_new_tokens;
    /** Stop sequences (NUL-terminated UTF-8; empty ones ignored); copied at the start of the call. */
    const char *const *stop_sequences;
    size_t n_stop_sequences;
    /** Extra token ids that end the generation (EOS and EOT always do unless ignore_eos). */
    const int32_t *stop_tokens;
    size_t n_stop_tokens;
    /** Per-token logit changes; copied at the start of the call. */
    const bitnet_logit_bias *logit_bias;
    size_t n_logit_bias;
    /** Non-zero: EOS/EOT are ordinary tokens. Default 0. */
    int32_t ignore_eos;
    /** Non-zero: tokenize the prompt with BOS first. Default 1. */
    int32_t add_bos;
    /** Non-zero: control-token text in the prompt ("<|eot_id|>") becomes its id. Default 0. */
    int32_t parse_special;
    /** Optional prompt progress callback (runs on the generating thread) and its user data. */
    bitnet_prompt_progress_fn progress;
    void *progress_user_data;
    /**
     * Optional GBNF grammar (NUL-terminated UTF-8, compiled at the start of
     * the call) that the generated text must follow; see "Constrained
     * generation" below. Default NULL (no constraint).
     */
    const char *grammar;
    /**
     * Optional JSON Schema (NUL-terminated JSON text) the generated text must
     * be an instance of; turned into a grammar at the start of the call.
     * Setting both grammar and json_schema is BITNET_E_INVALID_ARGUMENT.
     * Default NULL.
     */
    const char *json_schema;
    /**
     * Optional tools (NUL-terminated JSON text in OpenAI's `tools` shape) the
     * reply may call; see "Tool calls" below. The output is then constrained
     * to text or calls in the chat family's format (tool_template), so
     * grammar and json_schema must be NULL. Default NULL.
     */
    const char *tools_json;
    /**
     * With tools_json: "auto" (text or a call; NULL means this), "required"
     * (a call), "none" (text only), a tool's name, or the JSON text
     * {"type": "function", "function": {"name": NAME}} (a call of that tool).
     * Default NULL.
     */
    const char *tool_choice;
    /**
     * With tools_json: the chat template whose call format the output follows
     * ("llama3", "chatml", "bitnet"; see bitnet_apply_chat_template); NULL
     * = the model's own. Use the one the prompt was rendered with. Default NULL.
     */
    const char *tool_template;
} bitnet_generation_params;

/** Details of one chunk, passed to the stream callback. */
typedef struct bitnet_token_info {
    uint32_t size;
    /** The tokens sampled since the previous chunk (n_tokens may be 0 for text released at the end). */
    const int32_t *tokens;
    /** Natural-log probability of each of `tokens` (after bias and penalties, before temperature). */
    const float *logprobs;
    size_t n_tokens;
    /** Tokens generated so far in this generation, these included. */
    int32_t n_generated;
    /** Tokens in the context after this chunk. */
    int32_t n_past;
} bitnet_token_info;

/** How a generation went. Set `size = sizeof(bitnet_generation_result)` before passing it. */
typedef struct bitnet_generation_result {
    uint32_t size;
    /** BITNET_STOP_*. */
    int32_t stop_reason;
    /** For BITNET_STOP_SEQUENCE: index into stop_sequences; else -1. */
    int32_t stop_index;
    /** For BITNET_STOP_EOS: the token that stopped; else -1. */
    int32_t stop_token;
    /** Tokens in the prompt (for a NULL prompt: the tokens the context held). */
    int32_t n_prompt_tokens;
    /** Prompt tokens whose keys and values were already in the context. */
    int32_t n_prompt_tokens_reused;
    /** Tokens generated (stop tokens not counted). */
    int32_t n_generated;
    /** Streams: the most tokens the producer was ever ahead of the consumer; 0 in push mode. */
    int32_t max_tokens_ahead;
    /** From the start of the call to the first generated token, milliseconds. */
    double time_to_first_token_ms;
    /** Prompt tokens evaluated (reused ones excluded) per second. */
    double prompt_tokens_per_second;
    /** Generated tokens per second of sampling + evaluation (callback time excluded). */
    double generation_tokens_per_second;
} bitnet_generation_result;

/**
 * Called with each chunk of generated text (`len` bytes of UTF-8, not
 * NUL-terminated) and its token info. Returns BITNET_CONTINUE, BITNET_PAUSE
 * or BITNET_CANCEL; see the callback rules above.
 */
typedef int32_t (*bitnet_stream_fn)(const char *text, size_t len, const bitnet_token_info *info, void *user_data);

/** Fills *params with the defaults (the BALANCED preset, max_new_tokens 256, add_bos 1). NULL is ignored. */
BITNET_API void bitnet_generation_params_init(bitnet_generation_params *params);
/** bitnet_generation_params_init writing at most `size` bytes (the caller's sizeof);
 *  `size` is set to the bytes written. NULL is ignored (BITNET_OK); a size
 *  below 4 is BITNET_E_INVALID_ARGUMENT. Any thread. */
BITNET_API int32_t bitnet_generation_params_init_sized(bitnet_generation_params *params, size_t size);
#define bitnet_generation_params_init(params) \
    ((void)bitnet_generation_params_init_sized((params), sizeof(bitnet_generation_params)))

/**
 * Sets the sampling fields (temperature .. frequency_penalty) of an
 * initialised *params to a BITNET_PRESET_*; the other fields are kept.
 * Errors: BITNET_E_INVALID_ARGUMENT (NULL, unknown preset, params->size too small).
 */
BITNET_API int32_t bitnet_generation_params_preset(bitnet_generation_params *params, int32_t preset);

/**
 * Generates text after `prompt` (NUL-terminated UTF-8), calling fn with each
 * chunk. The prompt is the whole input: the context keeps the longest token
 * prefix it already holds and evaluates only the rest (the rest of what it
 * held is discarded). prompt == NULL continues from the tokens already in the
 * context (after bitnet_context_eval or an earlier generation). A paused
 * generation on this context is discarded. params NULL = defaults. fn may be
 * NULL (the text is then only counted). result may be NULL; when given, its
 * size field must be set and, once the arguments are accepted and generation
 * has started, it is filled however the call ends (a call refused before that
 * - bad arguments, BITNET_E_BUSY, no tokenizer, an empty prompt - leaves it
 * untouched).
 *
 * Returns BITNET_OK (finished: see result->stop_reason), BITNET_PAUSED (the
 * callback returned BITNET_PAUSE), BITNET_E_CANCELLED (the callback or the
 * progress callback cancelled, or bitnet_context_interrupt() was called: it is
 * honoured between tokens and within one layer of a long prompt; the context
 * stays consistent and reusable), BITNET_E_INVALID_ARGUMENT (NULL ctx, bad
 * params, invalid UTF-8, NULL prompt with an empty context),
 * BITNET_E_CONTEXT_FULL (the prompt does not fit), BITNET_E_BUSY (another
 * thread or a callback is using ctx), BITNET_E_UNSUPPORTED (no tokenizer;
 * tools_json with no tool_template and a model whose chat template is not
 * one of the known ones).
 */
BITNET_API int32_t bitnet_generate(bitnet_context *ctx, const char *prompt, const bitnet_generation_params *params,
                                   bitnet_stream_fn fn, void *user_data, bitnet_generation_result *result);

/**
 * Continues the generation that paused on ctx, exactly where it stopped: the
 * text is identical to an uninterrupted run and no chunk is delivered twice.
 * fn / user_data may differ from the first call. The context must not be
 * changed while paused (eval, truncate, ... make resume fail with
 * BITNET_E_INVALID_ARGUMENT). Must not be called from inside a callback
 * (BITNET_E_BUSY). Returns like bitnet_generate(); BITNET_E_INVALID_ARGUMENT
 * when nothing is paused on ctx.
 */
BITNET_API int32_t bitnet_generate_resume(bitnet_context *ctx, bitnet_stream_fn fn, void *user_data,
                                          bitnet_generation_result *result);

/* ======================================================================== */
/* Streams                                                                   */
/* ======================================================================== */

/*
 * Pull mode: a background thread generates into a bounded queue of chunks
 * and you take them with bitnet_stream_next(). When the queue is full the
 * producer sleeps (a condition variable, no busy loop) until you take one, so
 * it is never more than `capacity` chunks + the one it is making ahead of
 * you. Useful for languages that dislike callbacks from foreign threads.
 *
 * The stream holds its context exclusively from bitnet_stream_start() until
 * the generation ends: other calls on that context return BITNET_E_BUSY
 * (bitnet_context_interrupt() works and cancels the stream). Chunks follow
 * the same rules as push mode (valid UTF-8, stops held back and not
 * delivered). The prompt progress callback in params, if any, runs on the
 * stream's thread. A stream is used by one thread at a time, except
 * bitnet_stream_cancel(), which any thread may call.
 */
typedef struct bitnet_stream bitnet_stream;

/**
 * Starts generating after `prompt` (as bitnet_generate: NULL continues the
 * context) with at most `capacity` (1 to 1048576) chunks queued. The prompt is
 * tokenized before returning; it is evaluated on the stream's thread (its
 * errors come back from bitnet_stream_next). On success *out is the stream
 * (free it with bitnet_stream_free). Errors: BITNET_E_INVALID_ARGUMENT (NULL
 * ctx/out, capacity 0 or above 1048576, bad params, invalid UTF-8),
 * BITNET_E_BUSY, BITNET_E_UNSUPPORTED (as bitnet_generate),
 * BITNET_E_OUT_OF_MEMORY (no thread).
 */
BITNET_API int32_t bitnet_stream_start(bitnet_context *ctx, const char *prompt, const bitnet_generation_params *params,
                                       size_t capacity, bitnet_stream **out);

/**
 * Takes the next chunk: copies its bytes plus a NUL into buf and its length
 * (without NUL) into *len. Waits up to timeout_ms milliseconds for one
 * (< 0 = forever, 0 = just look).
 *
 * Returns BITNET_OK (a chunk); BITNET_DONE (finished normally, *len = 0; see
 * bitnet_stream_result; repeated calls keep returning it, until a
 * bitnet_stream_cancel, after which they return BITNET_E_CANCELLED);
 * BITNET_E_TIMEOUT (nothing yet); BITNET_E_BUFFER_TOO_SMALL (cap < chunk
 * length + 1: *len = the chunk length, the chunk stays first in line for the
 * next call); BITNET_E_CANCELLED (cancelled or interrupted; chunks queued
 * before an interrupt are delivered first, those queued before
 * bitnet_stream_cancel are dropped); another error when the generation failed
 * (e.g. BITNET_E_CONTEXT_FULL for a prompt that does not fit);
 * BITNET_E_INVALID_ARGUMENT (NULL stream/len, NULL buf with cap > 0).
 */
BITNET_API int32_t bitnet_stream_next(bitnet_stream *stream, char *buf, size_t cap, size_t *len,
                                      int32_t timeout_ms);

/**
 * Asks the producer to stop (also wakes it when it waits for room) and drops
 * queued chunks; bitnet_stream_next() then returns BITNET_E_CANCELLED. Any
 * thread. Errors: BITNET_E_INVALID_ARGUMENT (NULL).
 */
BITNET_API int32_t bitnet_stream_cancel(bitnet_stream *stream);

/**
 * Fills *result (set result->size first) with the counters so far; final once
 * bitnet_stream_next() returned BITNET_DONE or a generation error. After
 * bitnet_stream_cancel, next() returns BITNET_E_CANCELLED at once, without
 * waiting for the stream's thread, so counters read then may still change
 * (stop_reason may still be BITNET_STOP_NONE). Errors:
 * BITNET_E_INVALID_ARGUMENT (NULL, size too small).
 */
BITNET_API int32_t bitnet_stream_result(const bitnet_stream *stream, bitnet_generation_result *result);

/** Cancels the stream, waits for its thread and frees it; the context becomes free. NULL is ignored. */
BITNET_API void bitnet_stream_free(bitnet_stream *stream);

/* ======================================================================== */
/* Constrained generation                                                    */
/* ======================================================================== */

/*
 * bitnet_generation_params.grammar or .json_schema makes every generated text
 * (push mode and streams) a string of a formal language:
 *
 * - Only tokens whose bytes keep the text a valid prefix of the language can
 *   be sampled; EOS/EOT and stop_tokens only where the text is complete. So a
 *   generation ends where the grammar accepts (BITNET_STOP_EOS; stop_token is
 *   -1 when the grammar allows nothing more and ended the text itself), or at
 *   max_new_tokens / a full context / a stop sequence / a cancel, and then the
 *   text is a valid prefix (stop_reason says which).
 * - The grammar stage runs after logit_bias and the penalties and before
 *   top_k, typical_p, top_p, min_p and temperature: the result is sampled from
 *   the masked distribution, as if every disallowed token had logit -inf.
 *   Tokens banned with -INFINITY stay banned. logprobs are those of the
 *   unconstrained distribution, as without a grammar.
 * - Tokens may end inside a UTF-8 character or span several grammar elements:
 *   every text the vocabulary can spell is reachable. A vocabulary that cannot
 *   spell any continuation fails the call with BITNET_E_INVALID_ARGUMENT.
 *
 * GBNF (llama.cpp's notation): one rule per line, `name ::= alternatives`;
 * "literals", [character classes] with ranges and [^negation], `.` (any
 * character), rule names, ( groups ), and after any element `*`, `+`, `?`,
 * `{m}`, `{m,}`, `{,n}`, `{m,n}`; `#` comments; newlines are allowed inside
 * parentheses and after `::=` and `|`. Escapes: \n \t \r \\ \" \[ \] \- \^
 * \xHH \uHHHH \UHHHHHHHH. The text must define `root`; left recursion is an
 * error. A malformed grammar's message gives "grammar LINE:COLUMN: ...".
 *
 * JSON Schema (the subset that can be enforced while generating): type (also
 * arrays of types), enum, const, object properties / required /
 * additionalProperties (true, false or a schema; when absent, no other
 * properties are generated), array items / prefixItems / minItems / maxItems,
 * string minLength / maxLength / pattern (regular expressions without
 * lookaround or backreferences; anchored with ^...$ unless the pattern may
 * match anywhere) / format (date, time, date-time, uuid, email), integer and
 * number minimum / maximum / exclusiveMinimum / exclusiveMaximum (at most 16
 * integer and 16 fraction digits, no exponent), boolean, null, anyOf, oneOf
 * (branches must be provably disjoint), allOf (merged when the branches do
 * not conflict), local $ref ("#/$defs/...", "#/definitions/...", "#"), and
 * the annotations title, description, default, examples, $comment, $schema,
 * $id, deprecated, readOnly, writeOnly. Any other keyword is an error naming
 * it and its JSON pointer ("json_schema /properties/a: unsupported keyword
 * \"not\""); malformed JSON gives "json_schema LINE:COLUMN: ...". Properties
 * are generated in the order the schema lists them.
 *
 * Limits (inputs beyond them are BITNET_E_INVALID_ARGUMENT, never a crash or
 * a hang): grammar text 4 MiB, schema text 1 MiB, nesting of groups / JSON
 * arrays and objects / pattern groups 256, repetition bounds 65536, rules
 * 262144 and 4194304 elements once repetitions are expanded. While
 * generating, a path nested deeper than 2048 rules is a dead end, and a
 * grammar so ambiguous that more than 8192 parses are alive at once fails the
 * call with BITNET_E_UNSUPPORTED, as does one token's mask needing more than
 * 131072 parse states. Cached masks and parse tables are bounded (64 MiB of
 * masks, 32768 states) and flushed between tokens when full.
 */

/**
 * Checks a grammar or a JSON Schema without generating: exactly one of the
 * two must be non-NULL (NUL-terminated UTF-8). Returns BITNET_OK when it
 * compiles; BITNET_E_INVALID_ARGUMENT (both or neither given, invalid UTF-8,
 * or a malformed grammar / schema: bitnet_last_error() gives the line:column
 * or the JSON pointer and what is wrong). Any thread.
 */
BITNET_API int32_t bitnet_grammar_validate(const char *grammar, const char *json_schema);

/* ======================================================================== */
/* Tool calls                                                                */
/* ======================================================================== */

/*
 * A host offers the model functions ("tools") and gets back the calls it
 * makes, in three steps, all in the chat family's own format (built in per
 * family like the chat templates; no Jinja):
 *
 * 1. bitnet_apply_chat_template_tools() renders the conversation with the
 *    tools described (and earlier calls and their results, if any).
 * 2. bitnet_generate() / bitnet_stream_start() with params.tools_json (and
 *    tool_choice, tool_template) constrains the reply: either text, or calls
 *    of the given tools whose arguments are instances of each tool's
 *    "parameters" JSON Schema (the subset of "Constrained generation" above;
 *    an unsupported keyword is an error naming its pointer).
 * 3. bitnet_tool_calls_parse() splits the reply into text and calls.
 *
 * Tools JSON (OpenAI's shape): an array of at most 512
 * {"type": "function", "function": {"name": NAME, "description"?: TEXT,
 * "parameters"?: SCHEMA}}; names match ^[A-Za-z0-9_-]{1,64}$ and are unique;
 * "parameters" defaults to {"type": "object"}. Malformed tools are
 * BITNET_E_INVALID_ARGUMENT with a JSON pointer in the message
 * ("tools /0/function/name: must be a string", or for a schema
 * "tools /0/function/parameters #/properties/x: ...").
 *
 * Formats (the published templates' layouts):
 * - "llama3" (Llama 3.1): tools as JSON (indent 4) with Meta's calling
 *   instructions at the start of the first user message, after a system turn
 *   "Environment: ipython" and the knowledge / today dates of Meta's template.
 *   A call is the whole reply: {"name": "NAME", "parameters": {...}}; one call
 *   per turn. Results are rendered as an "ipython" turn. Text replies may not
 *   start with "{" or white space.
 * - "chatml" (Qwen2.5 / Qwen3): the tools inside <tools></tools> in the system
 *   turn (one JSON line each, after the system message), calls as
 *   <tool_call>\n{"name": "NAME", "arguments": {...}}\n</tool_call>, several
 *   joined by "\n", optionally after text; results as
 *   <tool_response>\n...\n</tool_response> in a user turn (consecutive
 *   results share one). Text may not contain "<tool_call>".
 * - "bitnet" (2B4T has no tool format): the llama3 text and call format in
 *   its "Role: content<|eot_id|>" layout; results as an "Ipython:" turn.
 * Calls are generated in the exact spelling above (the arguments as the JSON
 * Schema grammar writes them); parsing accepts any JSON spacing and either
 * "arguments" or "parameters".
 *
 * Limits (beyond them: BITNET_E_INVALID_ARGUMENT): tools_json and
 * messages_json 1 MiB each, 512 tools, 65536 messages; each parameters schema
 * has the JSON Schema limits above. Replies longer than 4 MiB parse as text.
 */

/** One call the model made. Strings are NUL-terminated UTF-8 owned by the bitnet_tool_calls holding it. */
typedef struct bitnet_tool_call {
    uint32_t size;
    /** "call_" + 24 hex digits, derived from the reply and the call's position (same reply, same ids). */
    const char *id;
    /** The tool's name. */
    const char *name;
    /** The arguments object as compact JSON text (OpenAI's function.arguments). */
    const char *arguments_json;
} bitnet_tool_call;

/** A parsed reply: its calls and its text. One allocation, freed with bitnet_tool_calls_free(). */
typedef struct bitnet_tool_calls {
    uint32_t size;
    /** Number of calls (0: the reply is text). */
    size_t n_calls;
    /** n_calls calls in reply order (NULL when there are none). */
    const bitnet_tool_call *calls;
    /** The text that is not a call, trimmed when there are calls; the whole reply when there are none. */
    const char *content;
} bitnet_tool_calls;

/**
 * Checks tools JSON and, if non-NULL, a tool_choice against them (a named
 * tool must exist), without rendering or generating: every parameters schema
 * is compiled. Returns BITNET_OK or BITNET_E_INVALID_ARGUMENT (NULL
 * tools_json, invalid UTF-8, malformed tools or choice: bitnet_last_error()
 * gives the JSON pointer and what is wrong). Any thread.
 */
BITNET_API int32_t bitnet_tools_validate(const char *tools_json, const char *tool_choice);

/**
 * Renders a conversation that may involve tools, snprintf-style into buf /
 * *len like bitnet_apply_chat_template() (same template_name rules; NULL
 * model is allowed when template_name is given).
 *
 * messages_json: OpenAI's messages array, [{"role": ..., "content": TEXT or
 * null, "tool_calls"?: [{"id"?, "type"?: "function", "function": {"name",
 * "arguments": JSON text or object}}]}, ...]; role "tool" (or "ipython") is
 * a tool's result, rendered the family's way. tools_json: NULL or "[]" for no
 * tools (then a conversation without calls renders exactly as
 * bitnet_apply_chat_template() does). Returns BITNET_OK;
 * BITNET_E_BUFFER_TOO_SMALL; BITNET_E_INVALID_ARGUMENT (NULL messages_json,
 * malformed messages or tools: the message gives a JSON pointer; for llama3 /
 * bitnet, tools without a first user message or a turn with several calls);
 * BITNET_E_UNSUPPORTED (template_name NULL and the model's template unknown).
 */
BITNET_API int32_t bitnet_apply_chat_template_tools(const bitnet_model *model, const char *template_name,
                                                    const char *messages_json, const char *tools_json,
                                                    int add_assistant, char *buf, size_t cap, size_t *len);

/**
 * Parses a reply (text, len bytes of UTF-8; NUL not needed) generated in a
 * template's tool format (template_name, or NULL for the model's own; NULL
 * model is allowed when template_name is given) into *out, which the caller
 * frees with bitnet_tool_calls_free(). All or nothing: a reply whose call
 * part is not well-formed calls has n_calls = 0 and content = the whole
 * reply. Names are not checked against any tool list (pass the reply of a
 * tools_json generation to be sure they are). Returns BITNET_OK;
 * BITNET_E_INVALID_ARGUMENT (NULL out, NULL text with len > 0, invalid
 * UTF-8, unknown template); BITNET_E_UNSUPPORTED (as above);
 * BITNET_E_OUT_OF_MEMORY. *out is NULL on error.
 */
BITNET_API int32_t bitnet_tool_calls_parse(const bitnet_model *model, const char *template_name, const char *text,
                                           size_t len, bitnet_tool_calls **out);

/** Frees what bitnet_tool_calls_parse() returned. NULL is ignored. */
BITNET_API void bitnet_tool_calls_free(bitnet_tool_calls *calls);

#ifdef __cplusplus
}
#endif

#endif /* BITNET_H */
