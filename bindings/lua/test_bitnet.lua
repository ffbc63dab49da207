-- Tests of bitnet.lua: luajit test_bitnet.lua MODEL.gguf  (BITNET_LIBRARY = the library)
-- Greedy output equals the raw C API, streaming with pause/resume and cancel, Lua errors in
-- callbacks, the pull iterator, errors with the library's message, 1,000 create/free cycles.
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;" .. package.path
local ffi = require("ffi")
local bitnet = require("bitnet")
local lib = bitnet.lib

local path = assert(arg[1], "usage: luajit test_bitnet.lua MODEL.gguf")
local PROMPT = "The quick brown fox jumps over the lazy dog"
local GREEDY = { temperature = 0, max_new_tokens = 24, ignore_eos = true }
local failures = 0
local function check(cond, what)
  if not cond then
    failures = failures + 1
    io.stderr:write("FAIL: " .. what .. "\n")
  end
end

-- The reference: the same greedy generation through raw FFI calls.
local function c_api_greedy()
  local m, c = ffi.new("bitnet_model*[1]"), ffi.new("bitnet_context*[1]")
  assert(lib.bitnet_model_load(path, nil, m) == 0)
  local cp = ffi.new("bitnet_context_params")
  lib.bitnet_context_params_init(cp)
  cp.n_ctx, cp.n_threads = 256, 1
  assert(lib.bitnet_context_new(m[0], cp, c) == 0)
  local gp = ffi.new("bitnet_generation_params")
  lib.bitnet_generation_params_init(gp)
  gp.temperature, gp.max_new_tokens, gp.ignore_eos = 0, 24, 1
  local parts = {}
  local cb = ffi.cast("bitnet_stream_fn", function(text, len) parts[#parts + 1] = ffi.string(text, len); return 0 end)
  local status = lib.bitnet_generate(c[0], PROMPT, gp, cb, nil, nil)
  cb:free()
  lib.bitnet_context_free(c[0])
  lib.bitnet_model_free(m[0])
  assert(status == 0)
  return table.concat(parts)
end
jit.off(c_api_greedy)

local expected = c_api_greedy()
check(#expected > 0, "the C API generates text")

local model = bitnet.Model(path)
local ctx = bitnet.Context(model, { n_ctx = 256, n_threads = 1 })

local text, result = ctx:generate(PROMPT, GREEDY)
check(text == expected, "greedy generate equals the C API")
check(result.n_generated == 24 and result.stop_reason == "max_tokens", "result fields")

-- Pull iterator: same text.
local pulled = {}
for chunk in ctx:chunks(PROMPT, GREEDY) do pulled[#pulled + 1] = chunk end
check(table.concat(pulled) == expected, "pull iterator equals generate")

-- Pause after every chunk, then resume: the same text.
local pieces, pauses = {}, 0
local function pause_each(chunk, info)
  pieces[#pieces + 1] = chunk
  assert(info.n_generated >= 1)
  return "pause"
end
local status = ctx:stream(PROMPT, GREEDY, pause_each)
while status == "paused" do
  pauses = pauses + 1
  status = ctx:resume(pause_each)
end
check(status == "done" and pauses > 1 and table.concat(pieces) == expected, "pause/resume")

-- Cancel, by name and by false.
local calls = 0
status, result = ctx:stream(PROMPT, GREEDY, function() calls = calls + 1; return "cancel" end)
check(status == "cancelled" and calls == 1 and result.stop_reason == "cancelled", "cancel")
status = ctx:stream(PROMPT, GREEDY, function() return false end)
check(status == "cancelled", "false cancels")

-- A Lua error in the callback cancels and is raised again.
local ok, err = pcall(ctx.stream, ctx, PROMPT, GREEDY, function() error("from the callback", 0) end)
check(not ok and err == "from the callback", "callback error propagates: " .. tostring(err))
check(ctx:generate(PROMPT, GREEDY) == expected, "context reusable after errors")

-- Pull stream abandoned early frees the context.
-- Grammars and tools pass through as strings.
local digits = ctx:generate(PROMPT, { temperature = 0, max_new_tokens = 8, grammar = "root ::= [0-9]{3}" })
check(digits:match("^%d%d%d$") ~= nil, "grammar constrains: " .. digits)
local flag = ctx:generate(PROMPT, { temperature = 0, max_new_tokens = 8, json_schema = '{"type": "boolean"}' })
check(flag == "true" or flag == "false", "json_schema constrains: " .. flag)
local TOOLS = '[{"type": "function", "function": {"name": "add", "parameters": {"type": "object", '
  .. '"properties": {"a": {"type": "integer"}}, "required": ["a"], "additionalProperties": false}}}]'
bitnet.validate_tools(TOOLS, "required")
local bad_ok, bad = pcall(bitnet.validate_tools, '[{"type": "function"}]')
check(not bad_ok and tostring(bad):find("tools /0/function", 1, true) ~= nil, "tools errors name the pointer")
local rendered = model:chat_template_tools('[{"role": "user", "content": "add"}]', TOOLS, "chatml")
check(rendered:find('<tools>\n{"type": "function"', 1, true) ~= nil, "tools rendered in the system turn")
local raw = ctx:generate("add:", { temperature = 0, max_new_tokens = 120, parse_special = true,
  tools_json = TOOLS, tool_choice = "required", tool_template = "chatml" })
local reply = model:parse_tool_calls(raw, "chatml")
for _, call in ipairs(reply.calls) do check(call.name == "add" and call.id:sub(1, 5) == "call_", "parsed call") end
local hand = model:parse_tool_calls('{"name": "add", "parameters": {"a": 1}}', "llama3")
check(#hand.calls == 1 and hand.calls[1].arguments_json == '{"a":1}' and hand.content == "", "hand-written call")

local next_chunk, close = ctx:chunks(PROMPT, GREEDY, 1)
check(expected:sub(1, #next_chunk()) ~= "", "first pulled chunk")
ok, err = pcall(ctx.generate, ctx, PROMPT, GREEDY)
check(not ok and err.status == -7, "busy while a stream runs")
close()
check(ctx:generate(PROMPT, GREEDY) == expected, "free after close")

-- Tokens, stop sequences, chat, stats.
local ids = ctx:tokenize(PROMPT)
check(ids[1] == lib.bitnet_token_bos(model.handle) and ctx:detokenize(ids) == PROMPT, "tokenize round trip")
local stop = expected:sub(5, 7)
local stopped = ctx:generate(PROMPT, { temperature = 0, max_new_tokens = 24, ignore_eos = true, stop = { stop } })
check(stopped == expected:sub(1, expected:find(stop, 1, true) - 1), "stop sequence")
check(#ctx:chat({ { role = "user", content = "Hello?" } }, { temperature = 0, max_new_tokens = 4 }) >= 0, "chat")
check(ctx:stats().n_ctx == 256, "stats")
check(model:meta("general.architecture") == "bitnet-b1.58", "metadata")

-- Errors carry the library's message.
local missing = "/nonexistent/dir/model.gguf"
ok, err = pcall(bitnet.Model, missing)
check(not ok and getmetatable(err) == bitnet.Error and err.status == -2, "missing file raises bitnet.Error")
check(tostring(err):find(missing, 1, true) ~= nil, "message names the file: " .. tostring(err))
ok, err = pcall(bitnet.Context, model, { n_ctxx = 5 })
check(not ok and tostring(err):find("n_ctxx") ~= nil, "unknown parameter")

ctx:free()
model:free()
model:free()

-- 1,000 create/free cycles leave the resident set flat.
local function rss()
  local f = assert(io.open("/proc/self/statm"))
  local _, resident = f:read("*n", "*n")
  f:close()
  return resident * 4096
end
local function cycle(i)
  local m = bitnet.Model(path)
  local c = bitnet.Context(m, { n_ctx = 64, n_threads = 1 })
  if i % 10 == 0 then c:generate("leak", { temperature = 0, max_new_tokens = 2 }) end
  c:free()
  m:free()
end
for i = 1, 50 do cycle(i) end
collectgarbage()
local before = rss()
for i = 1, 1000 do cycle(i) end
collectgarbage()
local growth = rss() - before
print(string.format("RSS growth over 1000 cycles: %d KiB", growth / 1024))
check(growth < 4 * 1024 * 1024, "RSS flat over 1000 cycles")
-- And the garbage collector frees what was never freed explicitly.
for _ = 1, 200 do bitnet.Context(bitnet.Model(path), { n_ctx = 64, n_threads = 1 }) end
collectgarbage()
collectgarbage()

-- A batch: its contexts generate exactly what a context alone does (driven in turn from
-- one Lua thread here, which works but gains nothing; threads are the C API's job).
do
  local m = bitnet.Model(path)
  local batch = bitnet.Batch(m, { max_sequences = 2, n_threads = 1 })
  local alone = bitnet.Context(m, { n_ctx = 64, n_threads = 1 })
  local member = bitnet.Context(m, { n_ctx = 64, batch = batch })
  local opts = { max_new_tokens = 8, temperature = 0, ignore_eos = true }
  check(member:generate("Hello", opts) == alone:generate("Hello", opts), "batched context = alone")
  local stats = batch:stats()
  check(stats.n_sequences == 1 and stats.n_steps > 0, "batch stats")
  local ok = pcall(bitnet.Batch, m, { max_sequences = 0 })
  check(not ok, "max_sequences 0 refused")
  batch:free()
  check(member:generate("Hello", opts) == alone:generate("Hello", opts), "the context keeps its batch")
  member:free()
  alone:free()
  m:free()
end

-- The cdef's structs have the sizes the C compiler gives bitnet.h's (arg[2]: "name size" lines).
if arg[2] then
  local compared = 0
  for line in io.lines(arg[2]) do
    local name, size = line:match("^(%S+) (%d+)$")
    check(name and ffi.sizeof(name) == tonumber(size),
          "sizeof " .. tostring(name) .. ": cdef " .. tostring(name and ffi.sizeof(name)) .. ", C " .. tostring(size))
    compared = compared + 1
  end
  check(compared == 12, "12 struct sizes compared, not " .. compared)
end

if failures > 0 then
  io.stderr:write(failures .. " check(s) failed\n")
  os.exit(1)
end
print("ok   Lua binding: all checks passed")
