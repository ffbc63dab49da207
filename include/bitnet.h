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
    /** Saved state belongs to another model or format version. */
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

/* ======================================================================== */
/* Models                                                                    */
/* ======================================================================== */

/*
 * Supported files: GGUF v2 and v3 with architecture "bitnet-b1.58" or
 * "bitnet-25" (Microsoft's 2B4T uploads, I2_S weights) or "bitnet" (llama.cpp's
 * converter: TQ1_0, TQ2_0, F16, BF16, F32 weights). Embeddings / LM head may be
 * F32, F16, BF16, Q8_0, Q4_K or Q6_K.
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
} bitnet_model_params;

/** FFN activations reported in bitnet_model_info.activation. */
enum {
    BITNET_ACTIVATION_RELU2 = 0, /**< relu(x)^2 (bitnet-b1.58, bitnet-25, bitnet + hidden_activation=relu2) */
    BITNET_ACTIVATION_SILU = 1   /**< x * sigmoid(x) (bitnet default) */
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
} bitnet_model_info;

/** Fills *params with defaults (including params->size). NULL is ignored. Any thread. */
BITNET_API void bitnet_model_params_init(bitnet_model_params *params);

/**
 * Loads the GGUF model at `path` (params == NULL: defaults) and stores a new
 * handle in *out; free it with bitnet_model_free(). On failure *out is set to
 * NULL. The model is immutable and may be shared by any number of threads.
 * Returns BITNET_OK; BITNET_E_INVALID_ARGUMENT (path or out NULL, bad
 * params->size); BITNET_E_IO (missing file, directory, unreadable);
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

#ifdef __cplusplus
}
#endif

#endif /* BITNET_H */
