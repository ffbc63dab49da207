"""Constrained generation through the package: grammar= and json_schema= on generate() and
stream(), generate_json(), validate_grammar(), and the errors they raise."""

from __future__ import annotations

import re

import pytest

import bitnet

SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 8}, "n": {"type": "integer", "minimum": 1, "maximum": 99}},
    "required": ["name", "n"],
    "additionalProperties": False,
}


def test_grammar_shapes_generate_and_stream(ctx):
    grammar = r'root ::= "<" [a-z]{1,6} ">" [0-9]{2}'
    text = ctx.generate("Tag:", grammar=grammar, temperature=1.0, seed=5, max_new_tokens=40)
    assert re.fullmatch(r"<[a-z]{1,6}>[0-9]{2}", text), text
    streamed = "".join(ctx.stream("Tag:", grammar=grammar, temperature=1.0, seed=5, max_new_tokens=40))
    assert streamed == text
    assert ctx.last_result.stop_reason == bitnet.StopReason.EOS


def test_generate_json_returns_the_parsed_instance(ctx):
    for seed in range(3):
        value = ctx.generate_json("Person:", SCHEMA, temperature=1.0, seed=seed, max_new_tokens=120)
        assert set(value) == {"name", "n"} and isinstance(value["name"], str) and len(value["name"]) <= 8
        assert isinstance(value["n"], int) and 1 <= value["n"] <= 99
    # JSON text works as well as a dict.
    import json

    assert isinstance(ctx.generate_json("Person:", json.dumps(SCHEMA), temperature=0, max_new_tokens=120), dict)


def test_cut_short_json_is_an_error_not_a_wrong_value(ctx):
    with pytest.raises(ValueError, match="before the JSON was complete"):
        ctx.generate_json("Person:", SCHEMA, temperature=0, max_new_tokens=2)


def test_errors_carry_positions():
    bitnet.validate_grammar('root ::= "a" | [b-c]*')
    bitnet.validate_grammar(json_schema=SCHEMA)
    with pytest.raises(bitnet.InvalidArgumentError, match=r"grammar 2:11: undefined rule 'missing'"):
        bitnet.validate_grammar('root ::= "a"\nother ::= missing')
    with pytest.raises(bitnet.InvalidArgumentError, match=r"json_schema #/properties/a/not: unsupported keyword"):
        bitnet.validate_grammar(json_schema={"properties": {"a": {"not": {}}}})
    with pytest.raises(bitnet.InvalidArgumentError, match="mutually exclusive"):
        bitnet.validate_grammar('root ::= "a"', {})


def test_both_at_once_is_rejected_by_generate(ctx):
    with pytest.raises(bitnet.InvalidArgumentError, match="mutually exclusive"):
        ctx.generate("x", grammar='root ::= "a"', json_schema={"type": "null"})
