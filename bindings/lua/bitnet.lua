-- bitnet.lua — LuaJIT FFI binding of libbitnet (include/bitnet.h).
--
--   local bitnet = require("bitnet")
--   local model = bitnet.Model("model.gguf")
--   local ctx = bitnet.Context(model, { n_ctx = 2048 })
--   print(ctx:generate("Hello", { max_new_tokens = 32, temperature = 0 }))
--   ctx:stream("Hello", { max_new_tokens = 32 }, function(chunk, info)
--     io.write(chunk)          -- return nil/true to go on, "pause", "cancel" or false
--   end)
--
-- The library is loaded from $BITNET_LIBRARY, else "bitnet" on the system path.
-- Failures raise a bitnet.Error table { status = -2, name = "BITNET_E_IO: ...",
-- message = <bitnet_last_error()> } whose tostring() is the library's message.
-- Handles are freed by :free() or, as a safety net, by the garbage collector.

local ffi = require("ffi")

ffi.cdef [[
typedef struct bitnet_model bitnet_model;
typedef struct bitnet_context bitnet_context;
typedef struct bitnet_stream bitnet_stream;
typedef struct bitnet_batch bitnet_batch;
typedef void (*bitnet_log_fn)(int32_t level, const char *message, void *user_data);
typedef int32_t (*bitnet_progress_fn)(float progress, void *user_data);
typedef int32_t (*bitnet_prompt_progress_fn)(size_t done, size_t total, void *user_data);

typedef struct bitnet_model_params {
    uint32_t size; int32_t use_mmap; int32_t use_mlock; int32_t vocab_only;
    bitnet_progress_fn progress_callback; void *progress_user_data;
    int32_t lm_head_type;
    int32_t use_huge_pages;
    int32_t validate_only;
} bitnet_model_params;

typedef struct bitnet_model_info {
    uint32_t size; char arch[32]; int32_t n_vocab; int32_t n_ctx_train; int32_t n_embd; int32_t n_layer;
    int32_t n_head; int32_t n_head_kv; int32_t n_ff; int32_t weight_type; int32_t n_rot; int64_t n_params;
    uint64_t file_size; float rope_freq_base; float rms_norm_eps; int32_t activation; int32_t tied_output;
    int32_t vocab_only;
    int32_t validate_only;
} bitnet_model_info;

typedef struct bitnet_context_params {
    uint32_t size; uint32_t n_ctx; uint32_t n_batch; int32_t n_threads; int32_t kv_type; int32_t logits_all;
    uint64_t prefix_cache_bytes; int32_t prefix_eviction; int32_t prefix_cache_auto; int32_t overflow_policy;
    int32_t n_keep;
    bitnet_batch *batch;
} bitnet_context_params;

typedef struct bitnet_batch_params {
    uint32_t size; int32_t max_sequences; int32_t n_threads; int32_t prompt_chunk;
    uint64_t prefix_cache_bytes; int32_t prefix_eviction;
} bitnet_batch_params;

typedef struct bitnet_batch_stats {
    uint32_t size; int32_t n_sequences; uint64_t n_steps; uint64_t n_tokens;
    double mean_batch_size; double tokens_per_second; int32_t n_last_step;
} bitnet_batch_stats;

typedef struct bitnet_context_stats {
    uint32_t size; uint32_t n_ctx; uint32_t n_past; int32_t kv_type; uint64_t kv_bytes_per_token;
    uint64_t kv_bytes; uint64_t prefix_hits; uint64_t prefix_misses; uint64_t prefix_tokens_reused;
    uint64_t prefix_evictions; uint64_t prefix_bytes; uint64_t prefix_entries;
} bitnet_context_stats;

typedef struct bitnet_logit_bias { int32_t token; float bias; } bitnet_logit_bias;

typedef struct bitnet_generation_params {
    uint32_t size; float temperature; int32_t top_k; float top_p; float min_p; float typical_p;
    float repetition_penalty; int32_t repeat_last_n; float presence_penalty; float frequency_penalty;
    uint64_t seed; int32_t max_new_tokens;
    const char *const *stop_sequences; size_t n_stop_sequences;
    const int32_t *stop_tokens; size_t n_stop_tokens;
    const bitnet_logit_bias *logit_bias; size_t n_logit_bias;
    int32_t ignore_eos; int32_t add_bos; int32_t parse_special;
    bitnet_prompt_progress_fn progress; void *progress_user_data;
    const char *grammar; const char *json_schema;
    const char *tools_json; const char *tool_choice; const char *tool_template;
} bitnet_generation_params;

typedef struct bitnet_token_info {
    uint32_t size; const int32_t *tokens; const float *logprobs; size_t n_tokens; int32_t n_generated;
    int32_t n_past;
} bitnet_token_info;

typedef struct bitnet_generation_result {
    uint32_t size; int32_t stop_reason; int32_t stop_index; int32_t stop_token; int32_t n_prompt_tokens;
    int32_t n_prompt_tokens_reused; int32_t n_generated; int32_t max_tokens_ahead;
    double time_to_first_token_ms; double prompt_tokens_per_second; double generation_tokens_per_second;
} bitnet_generation_result;

typedef int32_t (*bitnet_stream_fn)(const char *text, size_t len, const bitnet_token_info *info, void *user_data);

const char *bitnet_version_string(void);
int32_t bitnet_version_number(void);
int32_t bitnet_abi_version(void);
const char *bitnet_build_info(void);
const char *bitnet_status_string(int32_t status);
const char *bitnet_last_error(void);
int32_t bitnet_set_log_callback(bitnet_log_fn fn, void *user_data, int32_t max_level);

void bitnet_model_params_init(bitnet_model_params *params);
int32_t bitnet_model_params_init_sized(bitnet_model_params *params, size_t size);
int32_t bitnet_model_load(const char *path, const bitnet_model_params *params, bitnet_model **out);
int32_t bitnet_model_info_get(const bitnet_model *model, bitnet_model_info *info);
int32_t bitnet_model_meta_get(const bitnet_model *model, const char *key, char *buf, size_t cap, size_t *len);
int32_t bitnet_model_meta_count(const bitnet_model *model);
int32_t bitnet_model_meta_key(const bitnet_model *model, int32_t index, char *buf, size_t cap, size_t *len);
void bitnet_model_free(bitnet_model *model);

void bitnet_context_params_init(bitnet_context_params *params);
int32_t bitnet_context_params_init_sized(bitnet_context_params *params, size_t size);
int32_t bitnet_kv_bytes_estimate(const bitnet_model *model, const bitnet_context_params *params, size_t *bytes);
int32_t bitnet_context_new(const bitnet_model *model, const bitnet_context_params *params, bitnet_context **out);
void bitnet_context_free(bitnet_context *ctx);
void bitnet_batch_params_init(bitnet_batch_params *params);
int32_t bitnet_batch_params_init_sized(bitnet_batch_params *params, size_t size);
int32_t bitnet_batch_new(const bitnet_model *model, const bitnet_batch_params *params, bitnet_batch **out);
void bitnet_batch_free(bitnet_batch *batch);
int32_t bitnet_batch_stats_get(const bitnet_batch *batch, bitnet_batch_stats *stats);
int32_t bitnet_context_eval(bitnet_context *ctx, const int32_t *tokens, size_t n);
const float *bitnet_context_logits(const bitnet_context *ctx);
const float *bitnet_context_logits_ith(const bitnet_context *ctx, int32_t i);
int32_t bitnet_context_n_past(const bitnet_context *ctx);
int32_t bitnet_context_n_ctx(const bitnet_context *ctx);
int32_t bitnet_context_truncate(bitnet_context *ctx, int32_t n_keep);
int32_t bitnet_context_reset(bitnet_context *ctx);
int32_t bitnet_context_interrupt(bitnet_context *ctx);
int32_t bitnet_context_shift(bitnet_context *ctx, int32_t *n_dropped);

int32_t bitnet_cache_warm(bitnet_context *ctx, const char *text);
int32_t bitnet_cache_warm_tokens(bitnet_context *ctx, const int32_t *tokens, size_t n);
int32_t bitnet_cache_clear(bitnet_context *ctx);
int32_t bitnet_context_stats_get(const bitnet_context *ctx, bitnet_context_stats *stats);
int32_t bitnet_state_size(bitnet_context *ctx, size_t *size);
int32_t bitnet_state_save_buffer(bitnet_context *ctx, void *buf, size_t cap, size_t *written);
int32_t bitnet_state_load_buffer(bitnet_context *ctx, const void *buf, size_t len);
int32_t bitnet_state_save(bitnet_context *ctx, const char *path);
int32_t bitnet_state_load(bitnet_context *ctx, const char *path);

int32_t bitnet_tokenize(const bitnet_model *model, const char *text, size_t len, int add_bos, int parse_special,
                        int32_t *tokens, size_t cap, size_t *n_tokens);
int32_t bitnet_detokenize(const bitnet_model *model, const int32_t *tokens, size_t n, char *buf, size_t cap,
                          size_t *len);
int32_t bitnet_token_to_piece(const bitnet_model *model, int32_t token, char *buf, size_t cap, size_t *len);
int32_t bitnet_token_bos(const bitnet_model *model);
int32_t bitnet_token_eos(const bitnet_model *model);
int32_t bitnet_token_eot(const bitnet_model *model);
int32_t bitnet_vocab_size(const bitnet_model *model);
int32_t bitnet_apply_chat_template(const bitnet_model *model, const char *template_name,
                                   const char *const *roles, const char *const *contents, size_t n,
                                   int add_assistant, char *buf, size_t cap, size_t *len);

void bitnet_generation_params_init(bitnet_generation_params *params);
int32_t bitnet_generation_params_init_sized(bitnet_generation_params *params, size_t size);
int32_t bitnet_generation_params_preset(bitnet_generation_params *params, int32_t preset);
int32_t bitnet_generate(bitnet_context *ctx, const char *prompt, const bitnet_generation_params *params,
                        bitnet_stream_fn fn, void *user_data, bitnet_generation_result *result);
int32_t bitnet_generate_resume(bitnet_context *ctx, bitnet_stream_fn fn, void *user_data,
                               bitnet_generation_result *result);

int32_t bitnet_stream_start(bitnet_context *ctx, const char *prompt, const bitnet_generation_params *params,
                            size_t capacity, bitnet_stream **out);
int32_t bitnet_stream_next(bitnet_stream *stream, char *buf, size_t cap, size_t *len, int32_t timeout_ms);
int32_t bitnet_stream_cancel(bitnet_stream *stream);
int32_t bitnet_stream_result(const bitnet_stream *stream, bitnet_generation_result *result);
void bitnet_stream_free(bitnet_stream *stream);

int32_t bitnet_grammar_validate(const char *grammar, const char *json_schema);

typedef struct bitnet_tool_call {
    uint32_t size; const char *id; const char *name; const char *arguments_json;
} bitnet_tool_call;
typedef struct bitnet_tool_calls {
    uint32_t size; size_t n_calls; const bitnet_tool_call *calls; const char *content;
} bitnet_tool_calls;
int32_t bitnet_tools_validate(const char *tools_json, const char *tool_choice);
int32_t bitnet_apply_chat_template_tools(const bitnet_model *model, const char *template_name,
                                         const char *messages_json, const char *tools_json,
                                         int add_assistant, char *buf, size_t cap, size_t *len);
int32_t bitnet_tool_calls_parse(const bitnet_model *model, const char *template_name, const char *text,
                                size_t len, bitnet_tool_calls **out);
void bitnet_tool_calls_free(bitnet_tool_calls *calls);
]]

local ABI_VERSION = 0
local OK, PAUSED, DONE = 0, 1, 2
local E_CANCELLED, E_BUFFER_TOO_SMALL = -8, -11
local CONTINUE, PAUSE, CANCEL = 0, 1, 2

local lib = ffi.load(os.getenv("BITNET_LIBRARY") or "bitnet")
if lib.bitnet_abi_version() ~= ABI_VERSION then
  error(string.format("bitnet: the library has ABI version %d, this module needs %d",
    lib.bitnet_abi_version(), ABI_VERSION))
end

local bitnet = {
  lib = lib, ABI_VERSION = ABI_VERSION,
  CONTINUE = CONTINUE, PAUSE = PAUSE, CANCEL = CANCEL,
  STOP_REASONS = { [0] = "none", "max_tokens", "eos", "sequence", "cancelled", "context_full" },
}

-- MARK: errors

local Error = {}
Error.__index = Error
Error.__tostring = function(e) return e.message ~= "" and e.message or e.name end
bitnet.Error = Error

local function raise(status)
  error(setmetatable({
    status = status,
    name = ffi.string(lib.bitnet_status_string(status)),
    message = ffi.string(lib.bitnet_last_error()),
  }, Error), 3)
end

local function check(status)
  if status < 0 then raise(status) end
  return status
end

--- Runs an snprintf-style call (buf, cap, len), growing the buffer once if needed.
local function read_text(call, initial)
  local cap = initial or 256
  local len = ffi.new("size_t[1]")
  local buf = ffi.new("char[?]", cap)
  local status = call(buf, cap, len)
  if status == E_BUFFER_TOO_SMALL then
    cap = tonumber(len[0]) + 1
    buf = ffi.new("char[?]", cap)
    status = call(buf, cap, len)
  end
  check(status)
  return ffi.string(buf, len[0])
end

local function apply_fields(struct, options, names)
  for key, value in pairs(options or {}) do
    if names[key] == nil then error("bitnet: unknown parameter '" .. tostring(key) .. "'", 3) end
    if type(value) == "boolean" then value = value and 1 or 0 end
    struct[key] = value
  end
end

local function field_set(ctype_fields)
  local set = {}
  for _, name in ipairs(ctype_fields) do set[name] = true end
  return set
end

local MODEL_FIELDS = field_set { "use_mmap", "use_mlock", "vocab_only", "validate_only" }
local CONTEXT_FIELDS = field_set { "n_ctx", "n_batch", "n_threads", "kv_type", "logits_all",
  "prefix_cache_bytes", "prefix_eviction", "prefix_cache_auto", "overflow_policy", "n_keep" }
local BATCH_FIELDS = field_set { "max_sequences", "n_threads", "prompt_chunk", "prefix_cache_bytes",
  "prefix_eviction" }
local GENERATION_FIELDS = field_set { "temperature", "top_k", "top_p", "min_p", "typical_p",
  "repetition_penalty", "repeat_last_n", "presence_penalty", "frequency_penalty", "seed",
  "max_new_tokens", "ignore_eos", "add_bos", "parse_special" }
-- Text fields (const char *): the Lua string is kept alive for the call.
local GENERATION_TEXT_FIELDS = field_set { "grammar", "json_schema", "tools_json", "tool_choice", "tool_template" }

-- MARK: Model

local Model = {}
Model.__index = Model

--- bitnet.Model(path [, { use_mmap = true, use_mlock = false, vocab_only = false, validate_only = false }])
function bitnet.Model(path, options)
  local params = ffi.new("bitnet_model_params")
  lib.bitnet_model_params_init_sized(params, ffi.sizeof(params))
  apply_fields(params, options, MODEL_FIELDS)
  local out = ffi.new("bitnet_model*[1]")
  check(lib.bitnet_model_load(path, params, out))
  local handle = ffi.gc(out[0], lib.bitnet_model_free)
  return setmetatable({ handle = handle, contexts = setmetatable({}, { __mode = "k" }) }, Model)
end

function Model:ptr()
  if self.handle == nil then error("bitnet: the model is freed", 3) end
  return self.handle
end

--- Frees the model now (its contexts first). Idempotent.
function Model:free()
  for ctx in pairs(self.contexts) do ctx:free() end
  if self.handle ~= nil then
    lib.bitnet_model_free(ffi.gc(self.handle, nil))
    self.handle = nil
  end
end

function Model:tokenize(text, add_bos, parse_special)
  local cap = #text + 2
  local ids = ffi.new("int32_t[?]", cap)
  local n = ffi.new("size_t[1]")
  local bos = add_bos == false and 0 or 1
  local special = parse_special and 1 or 0
  local status = lib.bitnet_tokenize(self:ptr(), text, #text, bos, special, ids, cap, n)
  if status == E_BUFFER_TOO_SMALL then
    cap = tonumber(n[0])
    ids = ffi.new("int32_t[?]", cap)
    status = lib.bitnet_tokenize(self:ptr(), text, #text, bos, special, ids, cap, n)
  end
  check(status)
  local out = {}
  for i = 0, tonumber(n[0]) - 1 do out[i + 1] = ids[i] end
  return out
end

function Model:detokenize(tokens)
  local ids = ffi.new("int32_t[?]", #tokens, tokens)
  return read_text(function(buf, cap, len)
    return lib.bitnet_detokenize(self:ptr(), ids, #tokens, buf, cap, len)
  end, 8 * #tokens + 16)
end

function Model:meta(key)
  return read_text(function(buf, cap, len) return lib.bitnet_model_meta_get(self:ptr(), key, buf, cap, len) end)
end

function Model:vocab_size() return lib.bitnet_vocab_size(self:ptr()) end

--- Renders { {role=..., content=...}, ... } with the model's chat template (or template_name).
function Model:chat_template(messages, template_name)
  local n = #messages
  local roles, contents = ffi.new("const char*[?]", n + 1), ffi.new("const char*[?]", n + 1)
  for i, m in ipairs(messages) do roles[i - 1], contents[i - 1] = m.role, m.content end
  return read_text(function(buf, cap, len)
    return lib.bitnet_apply_chat_template(self:ptr(), template_name, roles, contents, n, 1, buf, cap, len)
  end, 1024)
end

--- Renders OpenAI-shaped messages JSON with tools JSON (or nil) in the family's tool format.
function Model:chat_template_tools(messages_json, tools_json, template_name)
  return read_text(function(buf, cap, len)
    return lib.bitnet_apply_chat_template_tools(self:ptr(), template_name, messages_json, tools_json, 1, buf, cap, len)
  end, 4096)
end

--- Splits a reply generated with tools: { content = "...", calls = { { id=, name=, arguments_json= }, ... } }.
function Model:parse_tool_calls(text, template_name)
  local out = ffi.new("bitnet_tool_calls*[1]")
  check(lib.bitnet_tool_calls_parse(self:ptr(), template_name, text, #text, out))
  local raw = ffi.gc(out[0], lib.bitnet_tool_calls_free)
  local reply = { content = ffi.string(raw.content), calls = {} }
  for i = 0, tonumber(raw.n_calls) - 1 do
    local call = raw.calls[i]
    reply.calls[#reply.calls + 1] = { id = ffi.string(call.id), name = ffi.string(call.name),
      arguments_json = ffi.string(call.arguments_json) }
  end
  lib.bitnet_tool_calls_free(ffi.gc(raw, nil))
  return reply
end

--- Checks a GBNF grammar or a JSON Schema (exactly one); raises bitnet.Error with line:column / pointer.
function bitnet.validate_grammar(grammar, json_schema) check(lib.bitnet_grammar_validate(grammar, json_schema)) end
--- Checks tools JSON (and a tool_choice); raises bitnet.Error naming the JSON pointer.
function bitnet.validate_tools(tools_json, tool_choice) check(lib.bitnet_tools_validate(tools_json, tool_choice)) end

-- MARK: Batch

local Batch = {}
Batch.__index = Batch

--- bitnet.Batch(model [, { max_sequences = 8, n_threads = 0, prompt_chunk = 16, ... }]):
--- contexts created with { batch = b } share its forward passes (batched decoding).
function bitnet.Batch(model, options)
  local params = ffi.new("bitnet_batch_params")
  lib.bitnet_batch_params_init_sized(params, ffi.sizeof(params))
  apply_fields(params, options, BATCH_FIELDS)
  local out = ffi.new("bitnet_batch*[1]")
  check(lib.bitnet_batch_new(model:ptr(), params, out))
  return setmetatable({ handle = ffi.gc(out[0], lib.bitnet_batch_free) }, Batch)
end

function Batch:ptr()
  if self.handle == nil then error("bitnet: the batch is freed", 3) end
  return self.handle
end

--- Releases this handle; contexts created with the batch keep it running. Idempotent.
function Batch:free()
  if self.handle ~= nil then
    lib.bitnet_batch_free(ffi.gc(self.handle, nil))
    self.handle = nil
  end
end

--- { n_sequences, n_steps, n_tokens, mean_batch_size, tokens_per_second, n_last_step }
function Batch:stats()
  local s = ffi.new("bitnet_batch_stats")
  s.size = ffi.sizeof("bitnet_batch_stats")
  check(lib.bitnet_batch_stats_get(self:ptr(), s))
  return { n_sequences = s.n_sequences, n_steps = tonumber(s.n_steps), n_tokens = tonumber(s.n_tokens),
           mean_batch_size = s.mean_batch_size, tokens_per_second = s.tokens_per_second,
           n_last_step = s.n_last_step }
end

-- MARK: Context

local Context = {}
Context.__index = Context

--- bitnet.Context(model [, { n_ctx = ..., n_threads = ..., kv_type = ..., batch = <bitnet.Batch>, ... }])
function bitnet.Context(model, options)
  local params = ffi.new("bitnet_context_params")
  lib.bitnet_context_params_init_sized(params, ffi.sizeof(params))
  local plain = {}
  for key, value in pairs(options or {}) do
    if key == "batch" then params.batch = value:ptr() else plain[key] = value end
  end
  apply_fields(params, plain, CONTEXT_FIELDS)
  local out = ffi.new("bitnet_context*[1]")
  check(lib.bitnet_context_new(model:ptr(), params, out))
  local model_handle = model.handle
  -- The finalizer keeps the model's handle reachable: the model outlives the context.
  local handle = ffi.gc(out[0], function(ctx)
    lib.bitnet_context_free(ctx)
    return model_handle
  end)
  local ctx = setmetatable({ handle = handle, model = model }, Context)
  model.contexts[ctx] = true
  return ctx
end

function Context:ptr()
  if self.handle == nil then error("bitnet: the context is freed", 3) end
  return self.handle
end

function Context:free()
  if self.handle ~= nil then
    lib.bitnet_context_free(ffi.gc(self.handle, nil))
    self.handle = nil
  end
end

--- A bitnet_generation_params from { max_new_tokens=..., temperature=..., stop={...}, ... }
--- plus the Lua values its pointers point into (keep both alive during the call).
local function generation_params(options)
  local params = ffi.new("bitnet_generation_params")
  lib.bitnet_generation_params_init_sized(params, ffi.sizeof(params))
  local keep = {}
  local plain = {}
  for key, value in pairs(options or {}) do
    if key == "stop" then
      local stops = ffi.new("const char*[?]", #value)
      for i, s in ipairs(value) do stops[i - 1] = s; keep[#keep + 1] = s end
      keep[#keep + 1] = stops
      params.stop_sequences, params.n_stop_sequences = stops, #value
    elseif GENERATION_TEXT_FIELDS[key] then
      if type(value) ~= "string" then error("bitnet: " .. key .. " must be a string", 3) end
      keep[#keep + 1] = value
      params[key] = value
    elseif key == "preset" then
      check(lib.bitnet_generation_params_preset(params, ({ fast = 0, balanced = 1, quality = 2 })[value] or -1))
    else
      plain[key] = value
    end
  end
  apply_fields(params, plain, GENERATION_FIELDS)
  return params, keep
end

local function result_table(raw, status)
  return {
    status = status,
    stop_reason = bitnet.STOP_REASONS[raw.stop_reason] or raw.stop_reason,
    n_prompt_tokens = raw.n_prompt_tokens,
    n_generated = raw.n_generated,
    generation_tokens_per_second = raw.generation_tokens_per_second,
  }
end

local ACTIONS = { pause = PAUSE, cancel = CANCEL, continue = CONTINUE }

-- Push mode core: `call(fn, result)` runs bitnet_generate or _resume with a C callback
-- that forwards to the Lua function. LuaJIT must not run this part compiled (a C call
-- that calls back into Lua from a trace is not allowed), hence jit.off below.
local function push(call, on_chunk)
  local lua_error, cancelled_by_callback = nil, false
  local callback = ffi.cast("bitnet_stream_fn", function(text, len, info, _)
    local ok, answer = pcall(on_chunk, ffi.string(text, len), info)
    if not ok then
      lua_error = answer
      return CANCEL
    end
    if answer == nil or answer == true then return CONTINUE end
    local action = answer == false and CANCEL or ACTIONS[answer] or answer
    if action ~= CONTINUE and action ~= PAUSE then
      cancelled_by_callback = true
      return CANCEL
    end
    return action
  end)
  local raw = ffi.new("bitnet_generation_result")
  raw.size = ffi.sizeof(raw)
  local status = call(callback, raw)
  callback:free()
  if lua_error ~= nil then error(lua_error, 0) end
  if status == PAUSED then return "paused", result_table(raw, "paused") end
  if status == E_CANCELLED and cancelled_by_callback then return "cancelled", result_table(raw, "cancelled") end
  check(status)
  return "done", result_table(raw, "done")
end
jit.off(push, true)

--- ctx:stream(prompt, options, on_chunk(chunk, info)) -> "done" | "paused" | "cancelled", result
--- on_chunk returns nil/true (go on), "pause" (then ctx:resume), "cancel" or false. A Lua
--- error in on_chunk cancels the generation and is raised again here.
function Context:stream(prompt, options, on_chunk)
  local params, keep = generation_params(options)
  local handle = self:ptr()
  local status, result = push(function(fn, raw)
    return lib.bitnet_generate(handle, prompt, params, fn, nil, raw)
  end, on_chunk)
  local _ = keep
  return status, result
end

--- Continues a paused ctx:stream with (possibly another) callback.
function Context:resume(on_chunk)
  local handle = self:ptr()
  return push(function(fn, raw) return lib.bitnet_generate_resume(handle, fn, nil, raw) end, on_chunk)
end

--- ctx:generate(prompt, options) -> text, result
function Context:generate(prompt, options)
  local parts = {}
  local _, result = self:stream(prompt, options, function(chunk) parts[#parts + 1] = chunk end)
  return table.concat(parts), result
end

--- Pull mode: `for chunk in ctx:chunks(prompt, options) do ... end`; the library's thread
--- generates, Lua only takes chunks (no callbacks). Breaking out early: call the returned
--- `close` (also done by the garbage collector).
function Context:chunks(prompt, options, capacity)
  local params, keep = generation_params(options)
  local out = ffi.new("bitnet_stream*[1]")
  check(lib.bitnet_stream_start(self:ptr(), prompt, params, capacity or 16, out))
  local stream = ffi.gc(out[0], lib.bitnet_stream_free)
  local cap = 4096
  local buf, len = ffi.new("char[?]", cap), ffi.new("size_t[1]")
  local function close()
    if stream ~= nil then
      lib.bitnet_stream_free(ffi.gc(stream, nil))
      stream = nil
    end
  end
  local function next_chunk()
    if stream == nil then return nil end
    local status = lib.bitnet_stream_next(stream, buf, cap, len, -1)
    if status == E_BUFFER_TOO_SMALL then
      cap = tonumber(len[0]) + 1
      buf = ffi.new("char[?]", cap)
      status = lib.bitnet_stream_next(stream, buf, cap, len, -1)
    end
    if status == DONE then
      close()
      return nil
    end
    if status < 0 then
      local message = ffi.string(lib.bitnet_last_error())
      close()
      error(setmetatable({ status = status, name = ffi.string(lib.bitnet_status_string(status)),
        message = message }, Error), 2)
    end
    local _ = keep
    return ffi.string(buf, len[0])
  end
  return next_chunk, close
end

function Context:tokenize(text, add_bos, parse_special) return self.model:tokenize(text, add_bos, parse_special) end
function Context:detokenize(tokens) return self.model:detokenize(tokens) end
function Context:n_past() return lib.bitnet_context_n_past(self:ptr()) end
function Context:reset() check(lib.bitnet_context_reset(self:ptr())) end
function Context:interrupt() check(lib.bitnet_context_interrupt(self:ptr())) end
function Context:warm(text) check(lib.bitnet_cache_warm(self:ptr(), text)) end

function Context:chat(messages, options)
  options = options or {}
  options.parse_special = 1
  return self:generate(self.model:chat_template(messages), options)
end

function Context:stats()
  local raw = ffi.new("bitnet_context_stats")
  raw.size = ffi.sizeof(raw)
  check(lib.bitnet_context_stats_get(self:ptr(), raw))
  return { n_ctx = raw.n_ctx, n_past = raw.n_past, kv_bytes = tonumber(raw.kv_bytes),
    prefix_hits = tonumber(raw.prefix_hits), prefix_entries = tonumber(raw.prefix_entries) }
end

function bitnet.version() return ffi.string(lib.bitnet_version_string()) end

return bitnet
