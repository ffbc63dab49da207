"""Structured output through the official `openai` package: response_format json_object /
json_schema on the default model, and tools / tool_choice on a ChatML model (the qwen3 family
fixture, random weights): message.tool_calls and finish_reason "tool_calls", streamed
(delta.tool_calls) and not. Every call's arguments are checked with the `jsonschema` package
against the tool's schema; the replies themselves are noise (random weights)."""
import json
import os

import openai
import pytest

from conftest import ROOT, Server

jsonschema = pytest.importorskip("jsonschema")

QWEN3 = os.path.join(ROOT, "Tests", "Fixtures", "families", "qwen3.tq2_0.gguf")
ADD = {"type": "object", "properties": {"a": {"type": "integer", "minimum": 0, "maximum": 99},
                                        "b": {"type": "integer", "minimum": 0, "maximum": 99}},
       "required": ["a", "b"], "additionalProperties": False}
LOOKUP = {"type": "object", "properties": {"word": {"type": "string", "maxLength": 8},
                                           "lang": {"type": "string", "enum": ["en", "de"]}},
          "required": ["word"], "additionalProperties": False}
TOOLS = [{"type": "function", "function": {"name": "add", "description": "Adds", "parameters": ADD}},
         {"type": "function", "function": {"name": "lookup", "description": "Looks up a word", "parameters": LOOKUP}}]
SCHEMAS = {"add": ADD, "lookup": LOOKUP}
QUESTION = [{"role": "user", "content": "What is 2 + 3?"}]


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.base + "/v1", api_key="unused", max_retries=0, timeout=120)


@pytest.fixture(scope="module")
def qwen():
    s = Server("--parallel", "1", "--ctx", "4096", model=QWEN3)
    yield s
    assert s.stop() == 0, s.output()


@pytest.fixture(scope="module")
def qwen_client(qwen):
    return openai.OpenAI(base_url=qwen.base + "/v1", api_key="unused", max_retries=0, timeout=120)


def test_json_object_response_format(client):
    for seed in range(3):
        result = client.chat.completions.create(model="m", messages=QUESTION, max_tokens=300, temperature=1.0,
                                                seed=seed, response_format={"type": "json_object"})
        if result.choices[0].finish_reason == "stop":
            assert isinstance(json.loads(result.choices[0].message.content), dict)


def test_json_schema_response_format_streamed_and_not(client):
    schema = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 10},
                                               "age": {"type": "integer", "minimum": 0, "maximum": 120}},
              "required": ["name", "age"], "additionalProperties": False}
    fmt = {"type": "json_schema", "json_schema": {"name": "person", "schema": schema, "strict": True}}
    whole = client.chat.completions.create(model="m", messages=QUESTION, max_tokens=200, temperature=1.0, seed=7,
                                           response_format=fmt)
    assert whole.choices[0].finish_reason == "stop"
    jsonschema.validate(json.loads(whole.choices[0].message.content), schema)
    pieces = [c.choices[0].delta.content or "" for c in client.chat.completions.create(
        model="m", messages=QUESTION, max_tokens=200, temperature=1.0, seed=7, response_format=fmt, stream=True)
        if c.choices]
    assert "".join(pieces) == whole.choices[0].message.content
    completion = client.completions.create(model="m", prompt="And", max_tokens=200, temperature=1.0, seed=3,
                                           extra_body={"response_format": fmt})
    if completion.choices[0].finish_reason == "stop":
        jsonschema.validate(json.loads(completion.choices[0].text), schema)


def test_bad_response_format_and_tools_without_a_template_are_400(client):
    with pytest.raises(openai.BadRequestError, match="not"):
        client.chat.completions.create(model="m", messages=QUESTION, response_format={
            "type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object", "not": {}}}})
    with pytest.raises(openai.BadRequestError, match="response_format"):
        client.chat.completions.create(model="m", messages=QUESTION, response_format={"type": "yaml"})
    with pytest.raises(openai.BadRequestError, match="chat template"):
        client.chat.completions.create(model="m", messages=QUESTION, tools=TOOLS)


def check_calls(calls, allowed=("add", "lookup")):
    for call in calls:
        assert call.id.startswith("call_") and call.type == "function"
        assert call.function.name in allowed
        jsonschema.validate(json.loads(call.function.arguments), SCHEMAS[call.function.name])


def test_required_tool_calls(qwen_client):
    finished = 0
    for seed in range(4):
        result = qwen_client.chat.completions.create(model="m", messages=QUESTION, tools=TOOLS, tool_choice="required",
                                                     max_tokens=300, temperature=1.0, seed=seed)
        choice = result.choices[0]
        if choice.finish_reason == "length":
            continue  # cut at the limit: a valid prefix, not parsed
        finished += 1
        assert choice.finish_reason == "tool_calls"
        assert choice.message.tool_calls
        check_calls(choice.message.tool_calls)
    assert finished > 0


def test_named_tool_choice_streamed_equals_non_streamed(qwen_client):
    choice = {"type": "function", "function": {"name": "lookup"}}
    for seed in range(3):
        whole = qwen_client.chat.completions.create(model="m", messages=QUESTION, tools=TOOLS, tool_choice=choice,
                                                    max_tokens=300, temperature=1.0, seed=seed)
        if whole.choices[0].finish_reason != "tool_calls":
            continue
        check_calls(whole.choices[0].message.tool_calls, allowed=("lookup",))
        # Accumulate delta.tool_calls the way OpenAI's streaming clients do.
        calls, finish = {}, None
        for chunk in qwen_client.chat.completions.create(model="m", messages=QUESTION, tools=TOOLS, tool_choice=choice,
                                                         max_tokens=300, temperature=1.0, seed=seed, stream=True):
            if not chunk.choices:
                continue
            delta = chunk.choices[0].delta
            for part in delta.tool_calls or []:
                entry = calls.setdefault(part.index, {"id": None, "name": "", "arguments": ""})
                entry["id"] = part.id or entry["id"]
                if part.function:
                    entry["name"] += part.function.name or ""
                    entry["arguments"] += part.function.arguments or ""
            finish = chunk.choices[0].finish_reason or finish
        assert finish == "tool_calls"
        expected = [{"id": c.id, "name": c.function.name, "arguments": c.function.arguments}
                    for c in whole.choices[0].message.tool_calls]
        assert [calls[i] for i in sorted(calls)] == expected
        return
    pytest.skip("no seed finished within the token limit")


def test_auto_and_none_choices(qwen_client):
    for seed in range(3):
        result = qwen_client.chat.completions.create(model="m", messages=QUESTION, tools=TOOLS, max_tokens=200,
                                                     temperature=1.0, seed=seed)
        choice = result.choices[0]
        if choice.message.tool_calls:
            assert choice.finish_reason == "tool_calls"
            check_calls(choice.message.tool_calls)
        else:
            assert "<tool_call>" not in (choice.message.content or "")
        text = qwen_client.chat.completions.create(model="m", messages=QUESTION, tools=TOOLS, tool_choice="none",
                                                   max_tokens=60, temperature=1.0, seed=seed)
        assert not text.choices[0].message.tool_calls and text.choices[0].finish_reason != "tool_calls"


def test_conversation_with_a_call_and_its_result(qwen_client):
    messages = QUESTION + [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_x", "type": "function", "function": {"name": "add", "arguments": '{"a": 2, "b": 3}'}}]},
        {"role": "tool", "tool_call_id": "call_x", "content": "5"}]
    result = qwen_client.chat.completions.create(model="m", messages=messages, tools=TOOLS, max_tokens=8,
                                                 temperature=0)
    assert result.choices[0].finish_reason in ("stop", "length", "tool_calls")


def test_malformed_tools_are_400_with_a_pointer(qwen_client):
    with pytest.raises(openai.BadRequestError, match=r"tools /1/function/name"):
        qwen_client.chat.completions.create(model="m", messages=QUESTION, tools=[TOOLS[0], {
            "type": "function", "function": {"name": "bad name"}}])
    with pytest.raises(openai.BadRequestError, match="no tool is named"):
        qwen_client.chat.completions.create(model="m", messages=QUESTION, tools=TOOLS, tool_choice={
            "type": "function", "function": {"name": "nope"}})
    with pytest.raises(openai.BadRequestError, match="tool_choice"):
        qwen_client.chat.completions.create(model="m", messages=QUESTION, tool_choice="required")
