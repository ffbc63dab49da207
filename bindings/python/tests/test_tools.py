"""Tool calls through the package: tools= / tool_choice= on chat() and generate() returning a
Reply with ToolCall objects, the rendered prompt (tools as Python's json.dumps writes them,
the layout the published templates produce with Jinja's tojson), parsing hand-written replies,
and errors. The arguments of every call are validated with the jsonschema package."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bitnet

jsonschema = pytest.importorskip("jsonschema")

REPO = Path(__file__).resolve().parents[3]
QWEN3 = REPO / "Tests" / "Fixtures" / "families" / "qwen3.tq2_0.gguf"

ADD = {"type": "object", "properties": {"a": {"type": "integer", "minimum": -50, "maximum": 50},
                                        "b": {"type": "integer"}},
       "required": ["a", "b"], "additionalProperties": False}
ECHO = {"type": "object", "properties": {"text": {"type": "string", "maxLength": 10},
                                         "loud": {"type": "boolean"}},
        "required": ["text"], "additionalProperties": False}
TOOLS = [
    {"type": "function", "function": {"name": "add", "description": "Adds two integers", "parameters": ADD}},
    {"type": "function", "function": {"name": "echo", "description": "Repeats", "parameters": ECHO}},
]
SCHEMAS = {"add": ADD, "echo": ECHO}


@pytest.fixture(scope="module")
def qwen(library):
    with bitnet.Model(str(QWEN3)) as model, bitnet.Context(model, n_ctx=1024) as ctx:
        yield ctx


def test_chatml_prompt_lists_the_tools_as_tojson_writes_them(qwen):
    prompt = qwen.model.apply_chat_template([{"role": "user", "content": "2+3?"}], template="chatml", tools=TOOLS)
    expected_tools = "\n".join(json.dumps(tool, ensure_ascii=False) for tool in TOOLS)
    assert prompt.startswith("<|im_start|>system\n# Tools\n\n")
    assert "<tools>\n" + expected_tools + "\n</tools>" in prompt
    assert prompt.endswith("<|im_start|>user\n2+3?<|im_end|>\n<|im_start|>assistant\n")


def test_llama_prompt_lists_the_tools_with_indent_4(qwen):
    prompt = qwen.model.apply_chat_template([{"role": "user", "content": "2+3?"}], template="llama3", tools=TOOLS)
    for tool in TOOLS:
        assert "\n\n" + json.dumps(tool, indent=4, ensure_ascii=False) + "\n\n" in prompt
    assert prompt.endswith("2+3?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")


@pytest.mark.parametrize("choice", ["required", "auto", {"type": "function", "function": {"name": "echo"}}])
def test_constrained_replies_are_valid_calls(qwen, choice):
    """Random weights write noise, but every finished reply parses, and every call's
    arguments are an instance of its tool's schema (checked by jsonschema)."""
    calls = 0
    for seed in range(6):
        reply = qwen.chat([{"role": "user", "content": "Add 2 and 3"}], template="chatml", tools=TOOLS,
                          tool_choice=choice, temperature=1.0, seed=seed, max_new_tokens=200)
        assert isinstance(reply, str) and isinstance(reply, bitnet.Reply)
        if qwen.last_result.stop_reason != bitnet.StopReason.EOS:
            continue  # a valid prefix at the token limit
        if choice != "auto":
            assert reply.tool_calls, repr(reply)
        for call in reply.tool_calls:
            assert isinstance(call, bitnet.ToolCall) and call.id.startswith("call_")
            if isinstance(choice, dict):
                assert call.name == "echo"
            jsonschema.validate(call.arguments, SCHEMAS[call.name])
            calls += 1
        if not reply.tool_calls:
            assert "<tool_call>" not in reply
    assert calls > 0 or choice == "auto"


def test_generate_with_tools_and_none_choice(qwen):
    prompt = qwen.model.apply_chat_template([{"role": "user", "content": "hi"}], template="chatml", tools=TOOLS)
    reply = qwen.generate(prompt, tools=TOOLS, tool_choice="none", tool_template="chatml", parse_special=True,
                          add_bos=False, temperature=1.0, seed=3, max_new_tokens=40)
    assert reply.tool_calls == () and "<tool_call>" not in reply
    plain = qwen.generate("hello", max_new_tokens=3, temperature=0)
    assert isinstance(plain, bitnet.Reply) and plain.tool_calls == ()


def test_a_call_and_its_result_go_back_into_the_conversation(qwen):
    call = bitnet.ToolCall(id="call_1", name="add", arguments={"a": 2, "b": 3})
    messages = [{"role": "user", "content": "2+3?"},
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "call_1", "content": "5"}]
    prompt = qwen.model.apply_chat_template(messages, template="chatml", tools=TOOLS)
    assert ('<|im_start|>assistant\n<tool_call>\n{"name": "add", "arguments": {"a": 2, "b": 3}}\n</tool_call><|im_end|>\n'
            "<|im_start|>user\n<tool_response>\n5\n</tool_response><|im_end|>\n<|im_start|>assistant\n") in prompt


def test_errors_name_the_json_pointer(qwen):
    with pytest.raises(bitnet.InvalidArgumentError, match=r"tools /1/function/name"):
        bitnet.validate_tools([TOOLS[0], {"type": "function", "function": {"name": "add"}}])
    with pytest.raises(bitnet.InvalidArgumentError, match=r"tools /0/function/parameters #/properties/x"):
        bitnet.validate_tools([{"type": "function", "function": {"name": "f", "parameters": {
            "type": "object", "properties": {"x": {"not": {}}}}}}])
    with pytest.raises(bitnet.InvalidArgumentError, match="no tool is named"):
        qwen.chat([{"role": "user", "content": "x"}], template="chatml", tools=TOOLS,
                  tool_choice={"type": "function", "function": {"name": "nope"}}, max_new_tokens=2)
    with pytest.raises(TypeError):
        bitnet.validate_tools(b"[]")  # type: ignore[arg-type]
    bitnet.validate_tools(TOOLS, "required")


def test_streams_take_tools_and_model_parses_their_text(qwen):
    prompt = qwen.model.apply_chat_template(QUESTION_ADD, template="chatml", tools=TOOLS)
    keywords = dict(tools=TOOLS, tool_choice="required", tool_template="chatml", parse_special=True, add_bos=False,
                    temperature=1.0, seed=11, max_new_tokens=200)
    text = "".join(qwen.stream(prompt, **keywords))
    reply = qwen.model.parse_tool_calls(text, template="chatml")
    # Same seed, same reply: generate() parses it the same way (ids included, they derive from the text).
    assert qwen.generate(prompt, **keywords).tool_calls == reply.tool_calls
    if qwen.last_result.stop_reason == bitnet.StopReason.EOS:
        assert reply.tool_calls and str(reply) == ""
    for call in reply.tool_calls:
        jsonschema.validate(call.arguments, SCHEMAS[call.name])
    with pytest.raises(TypeError):
        qwen.model.parse_tool_calls(text.encode())  # type: ignore[arg-type]


QUESTION_ADD = [{"role": "user", "content": "Add 2 and 3"}]


NESTED = {"type": "object", "properties": {
    "items": {"type": "array", "minItems": 1, "maxItems": 3, "items": {"type": "object", "properties": {
        "sku": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{2}$"},
        "qty": {"type": "integer", "minimum": 1, "maximum": 9},
        "tags": {"type": "array", "maxItems": 2, "items": {"type": "string", "enum": ["gift", "fragile"]}}},
        "required": ["sku", "qty"], "additionalProperties": False}},
    "when": {"type": "string", "format": "date"},
    "note": {"anyOf": [{"type": "string", "maxLength": 6}, {"type": "null"}]}},
    "required": ["items", "when"], "additionalProperties": False}


@pytest.mark.parametrize("template", ["chatml", "llama3"])
def test_nested_arguments_validate_with_format_checking(qwen, template):
    """A tool with nested arrays of objects, a pattern, a date and anyOf: every finished call's
    arguments validate (jsonschema with format checking), in both families' formats."""
    tools = [{"type": "function", "function": {"name": "order", "parameters": NESTED}}]
    checker = jsonschema.Draft202012Validator(NESTED, format_checker=jsonschema.FormatChecker())
    finished = 0
    with bitnet.Context(qwen.model, n_ctx=4096) as ctx:  # the llama3 prompt (indent 4) is long on a byte vocabulary
        replies = [(ctx.chat([{"role": "user", "content": "Order two mugs"}], template=template, tools=tools,
                             tool_choice="required", temperature=1.0, seed=seed, max_new_tokens=800),
                    ctx.last_result) for seed in range(6)]
    for reply, result in replies:
        if result is None or result.stop_reason != bitnet.StopReason.EOS:
            continue
        finished += 1
        assert [call.name for call in reply.tool_calls][:1] == ["order"], repr(reply)
        for call in reply.tool_calls:
            checker.validate(call.arguments)
    assert finished > 0
