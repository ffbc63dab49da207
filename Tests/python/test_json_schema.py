"""JSON Schema property test through the C API: each schema of json_schema_cases.py is generated
at temperature 1.0 on a random-weights model, and every output must end where the grammar
accepts (stop reason EOS, within a token limit above the schema's worst case), parse as JSON and
validate with the `jsonschema` package, format checking included (date-time and time need
`rfc3339-validator`, which the test requires so they are really checked).

A sample runs by default; BITNET_SCHEMA_CASES=all runs all 300 (`make test-grammar-long`)."""
from __future__ import annotations

import ctypes
import json
import math
import os

import pytest

import capi
from json_schema_cases import all_schemas, worst_case_bytes

jsonschema = pytest.importorskip("jsonschema")
pytest.importorskip("rfc3339_validator")

SAMPLE = 50
TOKEN_CAP = 3000  # for the few schemas without a finite bound (recursion, additionalProperties)


def selected_cases() -> list[tuple[int, dict]]:
    schemas = list(enumerate(all_schemas()))
    if os.environ.get("BITNET_SCHEMA_CASES") == "all":
        return schemas
    # Every hand-written schema would take long; take a spread of both kinds.
    step = len(schemas) // SAMPLE
    return schemas[::step][:SAMPLE]


@pytest.fixture(scope="module")
def session(lib, make_model, tmp_path_factory):
    path = make_model(tmp_path_factory.mktemp("schema") / "random.gguf", seed=3, ctx=4096)
    lib = capi.declare_generation(lib)
    lib.bitnet_grammar_validate.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.bitnet_grammar_validate.restype = ctypes.c_int32
    engine = capi.Engine(lib, path, n_ctx=4096, n_batch=64, logits_all=False)
    yield lib, engine
    engine.close()


def generate(lib, engine, schema: dict, seed: int, max_tokens: int):
    params = capi.GenerationParams()
    lib.bitnet_generation_params_init(ctypes.byref(params))
    params.temperature, params.top_k, params.top_p, params.seed = 1.0, 0, 1.0, seed
    params.max_new_tokens = max_tokens
    params.json_schema = json.dumps(schema).encode()
    pieces: list[bytes] = []

    def on_chunk(text, length, _info, _user):
        pieces.append(ctypes.string_at(text, length))
        return capi.CONTINUE

    result = capi.GenerationResult()
    status = lib.bitnet_generate(engine.ctx, b"JSON:", ctypes.byref(params), capi.STREAM_FN(on_chunk), None,
                                 ctypes.byref(result))
    assert status == 0, lib.bitnet_last_error().decode()
    return b"".join(pieces), result


@pytest.mark.parametrize("index,schema", selected_cases(), ids=lambda v: str(v) if isinstance(v, int) else "")
def test_output_validates_against_schema(session, index, schema):
    lib, engine = session
    assert lib.bitnet_grammar_validate(None, json.dumps(schema).encode()) == 0, lib.bitnet_last_error().decode()
    bound = worst_case_bytes(schema)
    max_tokens = int(bound) + 1 if bound != math.inf else TOKEN_CAP
    assert max_tokens <= 4000, f"schema {index} is not bounded enough for the context: {bound} bytes"
    text, result = generate(lib, engine, schema, seed=1000 + index, max_tokens=max_tokens)
    assert result.stop_reason == capi.STOP_EOS, f"schema {index}: stopped with {result.stop_reason} after {result.n_generated} tokens: {text[:200]!r}"
    instance = json.loads(text.decode("utf-8"))
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errors = [e.message for e in validator.iter_errors(instance)]
    assert not errors, f"schema {index}: {text!r} is invalid: {errors}"


def test_malformed_schemas_name_the_pointer(session):
    lib, _ = session
    cases = {
        b'{"type": "object", "properties": {"a": {"if": {}}}}': b"json_schema #/properties/a/if: unsupported keyword",
        b'{"items": {"type": "string", "format": "hostname"}}': b"json_schema #/items/format: format",
        b'{"type": "string",\n "pattern": 7': b"json_schema 2:14:",
    }
    for schema, message in cases.items():
        assert lib.bitnet_grammar_validate(None, schema) == capi.E_INVALID_ARGUMENT
        assert lib.bitnet_last_error().startswith(b"bitnet_grammar_validate: " + message), lib.bitnet_last_error()


def test_random_schemas_are_bounded_and_diverse():
    schemas = all_schemas()
    assert len(schemas) == 300
    kinds = {json.dumps(s, sort_keys=True)[:40] for s in schemas}
    assert len(kinds) > 100
    assert all(worst_case_bytes(s) <= 3000 for s in schemas[30:])
