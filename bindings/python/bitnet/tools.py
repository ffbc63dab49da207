"""Tool calls: the model's calls of host functions, parsed out of its reply.

Tools are given in OpenAI's shape, ``[{"type": "function", "function": {"name": ...,
"description": ..., "parameters": <JSON Schema>}}]``; ``Context.chat(..., tools=...)``
renders them the model family's way, constrains the reply to text or valid calls, and
returns a :class:`Reply` whose ``tool_calls`` holds :class:`ToolCall` objects."""

from __future__ import annotations

import ctypes
import json
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence, Union

from ._lib import ToolCallsStruct, lib
from ._params import encode_text
from .errors import check

#: Tools: a sequence of OpenAI tool mappings, or their JSON text.
Tools = Union[Sequence[Mapping[str, Any]], str, None]
#: "auto", "required", "none", a tool's name, or {"type": "function", "function": {"name": ...}}.
ToolChoice = Union[str, Mapping[str, Any], None]


@dataclass(frozen=True)
class ToolCall:
    """One call: ``arguments`` is the parsed arguments object."""

    id: str
    name: str
    arguments: dict[str, Any]

    def to_message(self) -> dict[str, Any]:
        """The OpenAI ``tool_calls`` entry for this call (to put the call back into a conversation)."""
        return {"id": self.id, "type": "function",
                "function": {"name": self.name, "arguments": json.dumps(self.arguments)}}


class Reply(str):
    """A generated reply: the str is its text (empty when the model only called tools);
    ``tool_calls`` holds its calls (empty when tools were not offered or not called)."""

    tool_calls: tuple[ToolCall, ...]

    def __new__(cls, content: str, tool_calls: Sequence[ToolCall] = ()) -> "Reply":
        reply = super().__new__(cls, content)
        reply.tool_calls = tuple(tool_calls)
        return reply


def tools_text(tools: Tools) -> Optional[bytes]:
    """The UTF-8 JSON text of a tools argument (None stays None)."""
    if tools is None:
        return None
    if isinstance(tools, (bytes, bytearray)):
        raise TypeError("tools must be a sequence of tool mappings or JSON text (str), not bytes")
    return (tools if isinstance(tools, str) else json.dumps(list(tools))).encode("utf-8")


def tool_choice_text(choice: ToolChoice) -> Optional[bytes]:
    if choice is None:
        return None
    if isinstance(choice, str):
        return encode_text(choice, "tool_choice")
    if isinstance(choice, Mapping):
        return json.dumps(dict(choice)).encode("utf-8")
    raise TypeError(f"tool_choice must be a str or a mapping, not {type(choice).__name__}")


def validate_tools(tools: Tools, tool_choice: ToolChoice = None) -> None:
    """Checks tools (and a tool_choice) without generating; raises InvalidArgumentError
    naming the JSON pointer of the problem."""
    if tools is None:
        raise TypeError("tools must not be None")
    check(lib.bitnet_tools_validate(tools_text(tools), tool_choice_text(tool_choice)))


def parse_tool_calls(model_handle: Any, text: str, template: Optional[str]) -> Reply:
    """Splits a reply into text and calls in the template's format (None: the model's)."""
    data = encode_text(text, "text")
    out = ctypes.POINTER(ToolCallsStruct)()
    name = None if template is None else encode_text(template, "template")
    check(lib.bitnet_tool_calls_parse(model_handle, name, data, len(data), ctypes.byref(out)))
    try:
        parsed = out.contents
        calls = [ToolCall(id=parsed.calls[i].id.decode("utf-8"), name=parsed.calls[i].name.decode("utf-8"),
                          arguments=json.loads(parsed.calls[i].arguments_json.decode("utf-8")))
                 for i in range(parsed.n_calls)]
        return Reply(parsed.content.decode("utf-8"), calls)
    finally:
        lib.bitnet_tool_calls_free(out)


def message_json(messages: Sequence[Any]) -> bytes:
    """OpenAI-shaped messages as JSON text; ToolCall objects in tool_calls are converted."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, Mapping):
            entry = dict(message)
        else:
            entry = {"role": message[0], "content": message[1]}
        calls = entry.get("tool_calls")
        if calls:
            entry["tool_calls"] = [c.to_message() if isinstance(c, ToolCall) else c for c in calls]
        out.append(entry)
    return json.dumps(out).encode("utf-8")


__all__ = ["Reply", "ToolCall", "ToolChoice", "Tools", "parse_tool_calls", "validate_tools"]
