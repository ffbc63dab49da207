// bitnet.hpp — header-only C++17 wrapper of the libbitnet C API (include/bitnet.h).
//
//   bitnet::Model model("model.gguf");
//   bitnet::Context ctx(model);
//   bitnet::GenerationParams gen;
//   gen.temperature = 0;
//   gen.max_new_tokens = 32;
//   std::cout << ctx.generate("Hello", gen);
//   ctx.generate("Hello", gen, [](std::string_view chunk, const bitnet_token_info &) {
//       std::cout << chunk;                 // return nothing, a bool, or a bitnet::Action
//   });
//
// Handles are move-only RAII owners (std::unique_ptr with the library's free
// functions). Failures throw bitnet::Error carrying the status code and
// bitnet_last_error(). An exception thrown by a chunk callback cancels the
// generation and propagates out of generate() / resume(). Link with
// `pkg-config --cflags --libs bitnet`.
#ifndef BITNET_HPP
#define BITNET_HPP

#include <bitnet.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace bitnet {

// MARK: - Errors

/// A failed call: status() is the BITNET_E_* code, what() the library's message.
class Error : public std::runtime_error {
public:
    Error(int32_t status, const std::string &message) : std::runtime_error(message), status_(status) {}
    int32_t status() const noexcept { return status_; }
    /// "BITNET_E_IO: input/output error" style name of the status.
    const char *status_name() const noexcept { return bitnet_status_string(status_); }

private:
    int32_t status_;
};

namespace detail {

inline int32_t check(int32_t status) {
    if (status < 0) throw Error(status, bitnet_last_error());
    return status;
}

/// Runs an snprintf-style call (buf, cap, &len), growing the buffer once if needed.
template <class Call>
std::string read_text(Call &&call, size_t initial = 256) {
    std::string text(initial, '\0');
    size_t len = 0;
    int32_t status = call(&text[0], text.size(), &len);
    if (status == BITNET_E_BUFFER_TOO_SMALL) {
        text.assign(len + 1, '\0');
        status = call(&text[0], text.size(), &len);
    }
    check(status);
    text.resize(len);
    return text;
}

struct ModelDeleter {
    void operator()(bitnet_model *m) const noexcept { bitnet_model_free(m); }
};
struct ContextDeleter {
    void operator()(bitnet_context *c) const noexcept { bitnet_context_free(c); }
};
/// Renders (role, content) messages into a prompt with a chat template (NULL = the model's).
inline std::string chat_template(const bitnet_model *model,
                                 const std::vector<std::pair<std::string, std::string>> &messages,
                                 bool add_assistant, const char *template_name) {
    std::vector<const char *> roles, contents;
    for (const auto &m : messages) {
        roles.push_back(m.first.c_str());
        contents.push_back(m.second.c_str());
    }
    return read_text(
        [&](char *buf, size_t cap, size_t *len) {
            return bitnet_apply_chat_template(model, template_name, roles.data(), contents.data(), messages.size(),
                                              add_assistant, buf, cap, len);
        },
        1024);
}

struct StreamDeleter {
    void operator()(bitnet_stream *s) const noexcept { bitnet_stream_free(s); }
};
struct BatchDeleter {
    void operator()(bitnet_batch *b) const noexcept { bitnet_batch_free(b); }
};

}  // namespace detail

// MARK: - Parameters and results

/// What a chunk callback asks for.
enum class Action : int32_t { Continue = BITNET_CONTINUE, Pause = BITNET_PAUSE, Cancel = BITNET_CANCEL };

/// bitnet_model_params with its defaults.
struct ModelParams : bitnet_model_params {
    ModelParams() noexcept : bitnet_model_params() { bitnet_model_params_init(this); }
};

/// bitnet_context_params with its defaults (n_ctx, n_batch, n_threads, kv_type, ...).
struct ContextParams : bitnet_context_params {
    ContextParams() noexcept : bitnet_context_params() { bitnet_context_params_init(this); }
};

/// bitnet_batch_params with its defaults (max_sequences 8, prompt_chunk 16, ...).
struct BatchParams : bitnet_batch_params {
    BatchParams() noexcept : bitnet_batch_params() { bitnet_batch_params_init(this); }
};

/// bitnet_batch_stats, size preset.
struct BatchStats : bitnet_batch_stats {
    BatchStats() noexcept : bitnet_batch_stats() { size = sizeof(bitnet_batch_stats); }
};

/// bitnet_generation_params with its defaults, plus owned stop sequences / stop tokens and
/// owned constraint texts. (The raw pointer fields stop_sequences / stop_tokens, grammar,
/// json_schema, tools_json, tool_choice and tool_template are filled from these per call when
/// set; an empty string means "not set".)
struct GenerationParams : bitnet_generation_params {
    std::vector<std::string> stop;
    std::vector<int32_t> stop_token_ids;
    std::string grammar_text;      ///< GBNF (see "Constrained generation" in bitnet.h)
    std::string json_schema_text;  ///< JSON Schema text
    std::string tools_text;        ///< OpenAI tools JSON (see "Tool calls" in bitnet.h)
    std::string tool_choice_text;  ///< "auto", "required", "none", a name, or JSON
    std::string tool_template_text;  ///< the template whose call format applies ("" = the model's)

    GenerationParams() noexcept : bitnet_generation_params() { bitnet_generation_params_init(this); }

    /// Greedy decoding of at most n tokens.
    static GenerationParams greedy(int32_t n) {
        GenerationParams p;
        p.temperature = 0.0f;
        p.max_new_tokens = n;
        return p;
    }
    GenerationParams &preset(int32_t which) {
        detail::check(bitnet_generation_params_preset(this, which));
        return *this;
    }
    GenerationParams &with_grammar(std::string gbnf) {
        grammar_text = std::move(gbnf);
        return *this;
    }
    GenerationParams &with_json_schema(std::string schema) {
        json_schema_text = std::move(schema);
        return *this;
    }
    /// Constrains the reply to text or calls of `tools_json` in `template_name`'s format.
    GenerationParams &with_tools(std::string tools_json, std::string choice = std::string(),
                                 std::string template_name = std::string()) {
        tools_text = std::move(tools_json);
        tool_choice_text = std::move(choice);
        tool_template_text = std::move(template_name);
        return *this;
    }
};

/// One call out of a reply (see bitnet_tool_call).
struct ToolCall {
    std::string id;
    std::string name;
    std::string arguments_json;
};

/// A reply split into its text and its calls (see bitnet_tool_calls_parse).
struct ToolReply {
    std::string content;
    std::vector<ToolCall> calls;
};

namespace detail {
inline ToolReply parse_tool_calls(const bitnet_model *model, std::string_view text, const char *template_name) {
    bitnet_tool_calls *raw = nullptr;
    check(bitnet_tool_calls_parse(model, template_name, text.data(), text.size(), &raw));
    std::unique_ptr<bitnet_tool_calls, void (*)(bitnet_tool_calls *)> owned(raw, bitnet_tool_calls_free);
    ToolReply reply;
    reply.content = raw->content;
    for (size_t i = 0; i < raw->n_calls; i++) {
        reply.calls.push_back(ToolCall{raw->calls[i].id, raw->calls[i].name, raw->calls[i].arguments_json});
    }
    return reply;
}
}  // namespace detail

/// Checks tools JSON (and a tool_choice, unless empty); throws Error naming the JSON pointer.
inline void validate_tools(const std::string &tools_json, const std::string &tool_choice = std::string()) {
    detail::check(bitnet_tools_validate(tools_json.c_str(), tool_choice.empty() ? nullptr : tool_choice.c_str()));
}

/// How a generation went: the C result plus the call's status (BITNET_OK, BITNET_PAUSED,
/// or BITNET_E_CANCELLED when the callback cancelled).
struct Result : bitnet_generation_result {
    int32_t status = BITNET_OK;
    Result() noexcept : bitnet_generation_result() { size = sizeof(bitnet_generation_result); }
    bool paused() const noexcept { return status == BITNET_PAUSED; }
    bool cancelled() const noexcept { return status == BITNET_E_CANCELLED; }
};

/// bitnet_context_stats, size preset.
struct Stats : bitnet_context_stats {
    Stats() noexcept : bitnet_context_stats() { size = sizeof(bitnet_context_stats); }
};

/// bitnet_model_info, size preset.
struct ModelInfo : bitnet_model_info {
    ModelInfo() noexcept : bitnet_model_info() { size = sizeof(bitnet_model_info); }
};

// MARK: - Model

class Model {
public:
    explicit Model(const std::string &path, const ModelParams &params = ModelParams()) {
        bitnet_model *raw = nullptr;
        detail::check(bitnet_model_load(path.c_str(), &params, &raw));
        handle_.reset(raw);
    }

    bitnet_model *get() const noexcept { return handle_.get(); }

    ModelInfo info() const {
        ModelInfo info;
        detail::check(bitnet_model_info_get(get(), &info));
        return info;
    }

    std::string meta(const std::string &key) const {
        return detail::read_text(
            [&](char *buf, size_t cap, size_t *len) { return bitnet_model_meta_get(get(), key.c_str(), buf, cap, len); });
    }

    std::vector<int32_t> tokenize(std::string_view text, bool add_bos = true, bool parse_special = false) const {
        std::vector<int32_t> ids(text.size() + 2);
        size_t n = 0;
        int32_t status = bitnet_tokenize(get(), text.data(), text.size(), add_bos, parse_special, ids.data(),
                                         ids.size(), &n);
        if (status == BITNET_E_BUFFER_TOO_SMALL) {
            ids.resize(n);
            status = bitnet_tokenize(get(), text.data(), text.size(), add_bos, parse_special, ids.data(), ids.size(), &n);
        }
        detail::check(status);
        ids.resize(n);
        return ids;
    }

    std::string detokenize(const std::vector<int32_t> &ids) const {
        return detail::read_text(
            [&](char *buf, size_t cap, size_t *len) {
                return bitnet_detokenize(get(), ids.data(), ids.size(), buf, cap, len);
            },
            8 * ids.size() + 16);
    }

    /// Renders (role, content) messages with the model's chat template (or "bitnet" / "llama3" / "chatml").
    std::string apply_chat_template(const std::vector<std::pair<std::string, std::string>> &messages,
                                    bool add_assistant = true, const char *template_name = nullptr) const {
        return detail::chat_template(get(), messages, add_assistant, template_name);
    }

    /// Renders OpenAI-shaped messages JSON with tools JSON ("" = none) in the family's tool format.
    std::string apply_chat_template_tools(const std::string &messages_json, const std::string &tools_json,
                                          bool add_assistant = true, const char *template_name = nullptr) const {
        const char *tools = tools_json.empty() ? nullptr : tools_json.c_str();
        return detail::read_text(
            [&](char *buf, size_t cap, size_t *len) {
                return bitnet_apply_chat_template_tools(get(), template_name, messages_json.c_str(), tools,
                                                        add_assistant ? 1 : 0, buf, cap, len);
            },
            4096);
    }

    /// Splits a reply generated with tools into its text and calls.
    ToolReply parse_tool_calls(std::string_view reply, const char *template_name = nullptr) const {
        return detail::parse_tool_calls(get(), reply, template_name);
    }

    int32_t vocab_size() const noexcept { return bitnet_vocab_size(get()); }
    int32_t bos() const noexcept { return bitnet_token_bos(get()); }
    int32_t eos() const noexcept { return bitnet_token_eos(get()); }
    int32_t eot() const noexcept { return bitnet_token_eot(get()); }

private:
    std::unique_ptr<bitnet_model, detail::ModelDeleter> handle_;
};

// MARK: - Batch

/// Contexts of one model whose generations share forward passes: create each
/// Context with the batch and drive them from their own threads (or streams)
/// as usual. The contexts keep the batch running, so it may be destroyed first.
class Batch {
public:
    explicit Batch(const Model &model, const BatchParams &params = BatchParams()) {
        bitnet_batch *raw = nullptr;
        detail::check(bitnet_batch_new(model.get(), &params, &raw));
        handle_.reset(raw);
    }

    bitnet_batch *get() const noexcept { return handle_.get(); }

    BatchStats stats() const {
        BatchStats stats;
        detail::check(bitnet_batch_stats_get(get(), &stats));
        return stats;
    }

private:
    std::unique_ptr<bitnet_batch, detail::BatchDeleter> handle_;
};

// MARK: - Stream (pull mode)

/// A generation running on a library thread; take its chunks with next().
/// Destroying it cancels the generation and frees the context for other calls.
class Stream {
public:
    explicit Stream(bitnet_stream *raw) : handle_(raw), buffer_(4096, '\0') {}

    /// The next chunk (valid until the next call), or nullopt when the generation is done.
    /// Throws Error on failure or cancellation; Error(BITNET_E_TIMEOUT) after timeout_ms.
    std::optional<std::string_view> next(int32_t timeout_ms = -1) {
        size_t len = 0;
        int32_t status = bitnet_stream_next(handle_.get(), &buffer_[0], buffer_.size(), &len, timeout_ms);
        if (status == BITNET_E_BUFFER_TOO_SMALL) {
            buffer_.assign(len + 1, '\0');
            status = bitnet_stream_next(handle_.get(), &buffer_[0], buffer_.size(), &len, 0);
        }
        if (status == BITNET_DONE) return std::nullopt;
        detail::check(status);
        return std::string_view(buffer_.data(), len);
    }

    /// Any thread: stop the producer; next() then throws Error(BITNET_E_CANCELLED).
    void cancel() noexcept { bitnet_stream_cancel(handle_.get()); }

    Result result() const {
        Result r;
        detail::check(bitnet_stream_result(handle_.get(), &r));
        return r;
    }

    bitnet_stream *get() const noexcept { return handle_.get(); }

private:
    std::unique_ptr<bitnet_stream, detail::StreamDeleter> handle_;
    std::string buffer_;
};

// MARK: - Context

class Context {
public:
    /// The model must outlive the context (moving the Model object is fine).
    explicit Context(const Model &model, const ContextParams &params = ContextParams()) : model_(model.get()) {
        bitnet_context *raw = nullptr;
        detail::check(bitnet_context_new(model.get(), &params, &raw));
        handle_.reset(raw);
    }

    /// A context whose evaluations run in `batch`'s shared steps (params.batch is set from it).
    Context(const Model &model, const Batch &batch, ContextParams params = ContextParams()) : model_(model.get()) {
        params.batch = batch.get();
        bitnet_context *raw = nullptr;
        detail::check(bitnet_context_new(model.get(), &params, &raw));
        handle_.reset(raw);
    }

    bitnet_context *get() const noexcept { return handle_.get(); }

    /// The whole text generated after `prompt`.
    std::string generate(const std::string &prompt, const GenerationParams &params = GenerationParams(),
                         Result *result = nullptr) {
        std::string text;
        Result r = generate(prompt, params, [&](std::string_view chunk, const bitnet_token_info &) { text += chunk; });
        if (result) *result = r;
        return text;
    }

    /// Push mode: on_chunk(std::string_view, const bitnet_token_info &) returns void, bool
    /// (false cancels) or Action. Runs on this thread. Returns the result (paused(),
    /// cancelled()); an exception from on_chunk cancels and is rethrown; an interrupt
    /// from another thread throws Error(BITNET_E_CANCELLED).
    template <class F>
    Result generate(const std::string &prompt, const GenerationParams &params, F &&on_chunk) {
        Prepared prepared(params);
        return push(std::forward<F>(on_chunk), [&](bitnet_stream_fn fn, void *user, Result *r) {
            return bitnet_generate(get(), prompt.c_str(), &prepared.raw, fn, user, r);
        });
    }

    /// Continues a paused push generation; the text equals an uninterrupted run.
    template <class F>
    Result resume(F &&on_chunk) {
        return push(std::forward<F>(on_chunk), [&](bitnet_stream_fn fn, void *user, Result *r) {
            return bitnet_generate_resume(get(), fn, user, r);
        });
    }

    /// Pull mode: chunks come from a library thread through a queue of `capacity`.
    Stream stream(const std::string &prompt, const GenerationParams &params = GenerationParams(),
                  size_t capacity = 16) {
        Prepared prepared(params);
        bitnet_stream *raw = nullptr;
        detail::check(bitnet_stream_start(get(), prompt.c_str(), &prepared.raw, capacity, &raw));
        return Stream(raw);
    }

    /// The assistant's reply to (role, content) messages, with the model's chat template.
    std::string chat(const std::vector<std::pair<std::string, std::string>> &messages,
                     GenerationParams params = GenerationParams()) {
        params.parse_special = 1;
        return generate(detail::chat_template(model_, messages, true, nullptr), params);
    }

    void eval(const std::vector<int32_t> &ids) { detail::check(bitnet_context_eval(get(), ids.data(), ids.size())); }
    /// n_vocab logits of the last evaluated position, or nullptr.
    const float *logits() const noexcept { return bitnet_context_logits(get()); }
    int32_t n_past() const noexcept { return bitnet_context_n_past(get()); }
    int32_t n_ctx() const noexcept { return bitnet_context_n_ctx(get()); }
    void reset() { detail::check(bitnet_context_reset(get())); }
    void truncate(int32_t n_keep) { detail::check(bitnet_context_truncate(get(), n_keep)); }
    /// Any thread: stop the running eval / generation / stream.
    void interrupt() noexcept { bitnet_context_interrupt(get()); }
    void warm(const std::string &prefix) { detail::check(bitnet_cache_warm(get(), prefix.c_str())); }
    Stats stats() const {
        Stats s;
        detail::check(bitnet_context_stats_get(get(), &s));
        return s;
    }
    std::vector<unsigned char> save_state() {
        size_t size = 0, written = 0;
        detail::check(bitnet_state_size(get(), &size));
        std::vector<unsigned char> bytes(size);
        detail::check(bitnet_state_save_buffer(get(), bytes.data(), bytes.size(), &written));
        bytes.resize(written);
        return bytes;
    }
    void load_state(const std::vector<unsigned char> &bytes) {
        detail::check(bitnet_state_load_buffer(get(), bytes.data(), bytes.size()));
    }

private:
    /// A C params struct whose stop-sequence pointers point into `source`, which must outlive it.
    struct Prepared {
        bitnet_generation_params raw;
        std::vector<const char *> stops;
        explicit Prepared(const GenerationParams &source) : raw(source) {
            for (const auto &s : source.stop) stops.push_back(s.c_str());
            if (!stops.empty()) {
                raw.stop_sequences = stops.data();
                raw.n_stop_sequences = stops.size();
            }
            if (!source.stop_token_ids.empty()) {
                raw.stop_tokens = source.stop_token_ids.data();
                raw.n_stop_tokens = source.stop_token_ids.size();
            }
            if (!source.grammar_text.empty()) raw.grammar = source.grammar_text.c_str();
            if (!source.json_schema_text.empty()) raw.json_schema = source.json_schema_text.c_str();
            if (!source.tools_text.empty()) raw.tools_json = source.tools_text.c_str();
            if (!source.tool_choice_text.empty()) raw.tool_choice = source.tool_choice_text.c_str();
            if (!source.tool_template_text.empty()) raw.tool_template = source.tool_template_text.c_str();
        }
    };

    template <class F>
    struct Trampoline {
        F &callback;
        std::exception_ptr error;
        bool cancelled = false;

        static int32_t call(const char *text, size_t len, const bitnet_token_info *info, void *user) noexcept {
            auto *self = static_cast<Trampoline *>(user);
            try {
                using R = std::invoke_result_t<F &, std::string_view, const bitnet_token_info &>;
                std::string_view chunk(text, len);
                if constexpr (std::is_void_v<R>) {
                    self->callback(chunk, *info);
                    return BITNET_CONTINUE;
                } else if constexpr (std::is_same_v<R, bool>) {
                    if (self->callback(chunk, *info)) return BITNET_CONTINUE;
                    self->cancelled = true;
                    return BITNET_CANCEL;
                } else {
                    auto action = static_cast<int32_t>(self->callback(chunk, *info));
                    if (action != BITNET_CONTINUE && action != BITNET_PAUSE) {
                        self->cancelled = true;
                        return BITNET_CANCEL;
                    }
                    return action;
                }
            } catch (...) {
                self->error = std::current_exception();
                return BITNET_CANCEL;
            }
        }
    };

    template <class F, class Call>
    Result push(F &&on_chunk, Call &&call) {
        Trampoline<std::remove_reference_t<F>> trampoline{on_chunk, nullptr};
        Result r;
        r.status = call(&Trampoline<std::remove_reference_t<F>>::call, &trampoline, &r);
        if (trampoline.error) std::rethrow_exception(trampoline.error);
        if (r.status == BITNET_E_CANCELLED && trampoline.cancelled) return r;
        detail::check(r.status);
        return r;
    }

    std::unique_ptr<bitnet_context, detail::ContextDeleter> handle_;
    const bitnet_model *model_;
};

/// Version of the loaded library, and whether it matches the header's ABI.
inline std::string version() { return bitnet_version_string(); }
inline bool abi_matches() noexcept { return bitnet_abi_version() == BITNET_ABI_VERSION; }

}  // namespace bitnet

#endif  // BITNET_HPP
