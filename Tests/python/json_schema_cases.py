"""The 300 JSON Schemas of the constrained-generation property test: hand-written real-world
ones first, then randomly generated ones (seeded) whose strings, arrays and objects are bounded,
plus `worst_case_bytes(schema)`, an upper bound of the length of any output the engine's grammar
for the schema allows (so a token limit of that many tokens can never cut an output short)."""
from __future__ import annotations

import json
import math
import random

WS = 21  # the grammar's whitespace: "" | " " | "\n" [ \t]{0,20}

HAND_WRITTEN: list[dict] = [
    {  # an address book entry
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 40},
            "email": {"type": "string", "format": "email"},
            "phone": {"type": "string", "pattern": r"^\+?[0-9]{7,12}$"},
            "address": {
                "type": "object",
                "properties": {
                    "street": {"type": "string", "maxLength": 40},
                    "city": {"type": "string", "maxLength": 30},
                    "zip": {"type": "string", "pattern": "^[0-9]{5}$"},
                    "country": {"enum": ["DE", "FR", "GB", "US", "JP"]},
                },
                "required": ["street", "city", "country"],
                "additionalProperties": False,
            },
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 10}, "maxItems": 3},
            "favourite": {"type": "boolean"},
        },
        "required": ["name", "email", "address"],
        "additionalProperties": False,
    },
    {  # a GitHub issue
        "type": "object",
        "properties": {
            "number": {"type": "integer", "minimum": 1, "maximum": 99999},
            "title": {"type": "string", "maxLength": 60},
            "state": {"enum": ["open", "closed"]},
            "labels": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string", "maxLength": 12},
                                   "color": {"type": "string", "pattern": "^[0-9a-f]{6}$"}},
                    "required": ["name", "color"],
                    "additionalProperties": False,
                },
                "maxItems": 3,
            },
            "assignee": {"anyOf": [{"type": "null"}, {"type": "object", "properties": {
                "login": {"type": "string", "pattern": "^[a-z][a-z0-9-]{0,11}$"}}, "required": ["login"],
                "additionalProperties": False}]},
            "created_at": {"type": "string", "format": "date-time"},
            "comments": {"type": "integer", "minimum": 0, "maximum": 5000},
        },
        "required": ["number", "title", "state", "labels", "created_at"],
        "additionalProperties": False,
    },
    {  # a tool call with nested arrays
        "type": "object",
        "properties": {
            "name": {"enum": ["search", "lookup", "compare"]},
            "arguments": {
                "type": "object",
                "properties": {
                    "queries": {"type": "array", "items": {"type": "array", "items": {"type": "string", "maxLength": 8},
                                                           "minItems": 1, "maxItems": 3}, "minItems": 1, "maxItems": 2},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 50},
                    "weights": {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1}, "maxItems": 3},
                },
                "required": ["queries"],
                "additionalProperties": False,
            },
        },
        "required": ["name", "arguments"],
        "additionalProperties": False,
    },
    {  # a product
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "price": {"type": "number", "exclusiveMinimum": 0, "maximum": 10000},
            "currency": {"const": "EUR"},
            "in_stock": {"type": "boolean"},
            "dimensions": {"type": "array", "prefixItems": [{"type": "number", "minimum": 0, "maximum": 500}] * 3,
                           "items": False, "minItems": 3},
        },
        "required": ["id", "price", "currency", "dimensions"],
        "additionalProperties": False,
    },
    {  # a calendar event
        "type": "object",
        "properties": {
            "day": {"type": "string", "format": "date"},
            "start": {"type": "string", "format": "time"},
            "end": {"type": "string", "format": "time"},
            "attendees": {"type": "array", "items": {"type": "string", "format": "email"}, "maxItems": 2},
            "recurring": {"type": ["string", "null"], "enum": ["daily", "weekly", None]},
        },
        "required": ["day", "start"],
        "additionalProperties": False,
    },
    {  # a discriminated union
        "oneOf": [
            {"type": "object", "properties": {"shape": {"const": "circle"}, "r": {"type": "number", "minimum": 0, "maximum": 10}},
             "required": ["shape", "r"], "additionalProperties": False},
            {"type": "object", "properties": {"shape": {"const": "rect"}, "w": {"type": "integer", "minimum": 1, "maximum": 9},
                                              "h": {"type": "integer", "minimum": 1, "maximum": 9}},
             "required": ["shape", "w", "h"], "additionalProperties": False},
        ]
    },
    {  # composition with allOf and $defs
        "$defs": {
            "named": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 12}}, "required": ["name"]},
            "aged": {"properties": {"age": {"type": "integer", "minimum": 0, "maximum": 130}}, "required": ["age"]},
        },
        "allOf": [{"$ref": "#/$defs/named"}, {"$ref": "#/$defs/aged"}],
    },
    {  # a linked list through a recursive $ref (each node stops with a good chance)
        "$defs": {"node": {"type": "object", "properties": {"value": {"type": "integer", "minimum": -9, "maximum": 9},
                                                            "next": {"$ref": "#/$defs/node"}},
                           "required": ["value"], "additionalProperties": False}},
        "$ref": "#/$defs/node",
    },
    {"type": "array", "items": {"type": "integer", "minimum": -1000, "maximum": -10}, "minItems": 2, "maxItems": 4},
    {"type": "array", "items": {"type": "number", "exclusiveMinimum": -0.5, "exclusiveMaximum": 2.25}, "maxItems": 4},
    {"type": "number", "minimum": 0.001, "maximum": 0.002},
    {"type": "integer", "exclusiveMinimum": 99, "exclusiveMaximum": 1001},
    {"type": "string", "minLength": 3, "maxLength": 6},
    {"type": "string", "pattern": r"^(foo|bar)-\d{2,3}$"},
    {"type": "string", "pattern": r'^a.{0,3}b$'},
    {"type": "string", "pattern": r'^"[a-z]{1,3}"\\$'},
    {"type": "string", "pattern": "^[\u00e0-\u00ff\u4e00-\u4e0f]{1,4}$"},
    {"type": "string", "pattern": r"^[^\s,]{1,5},\w{1,3}$"},
    {"type": ["integer", "boolean", "null"], "minimum": 5, "maximum": 6},
    {"enum": ["a\"b", "c\\d", 1.5, [1, 2], {"k": None}, True]},
    {"type": "array", "items": {"type": "array", "items": {"enum": ["low", "mid", "high", 0]}, "maxItems": 3}, "maxItems": 3},
    {"type": "object", "properties": {"a": {"type": "string", "maxLength": 3}, "b": {"type": "string", "maxLength": 3},
                                      "c": {"type": "string", "maxLength": 3}}, "additionalProperties": False},
    {"anyOf": [{"type": "string", "maxLength": 5}, {"type": "array", "items": {"type": "boolean"}, "maxItems": 3}]},
    {"type": "array", "prefixItems": [{"type": "string", "format": "date"}, {"type": "integer", "minimum": 0, "maximum": 3}],
     "items": {"type": "null"}, "maxItems": 4},
    {"type": "object", "properties": {"when": {"type": "string", "format": "date-time"},
                                      "ids": {"type": "array", "items": {"type": "string", "format": "uuid"}, "maxItems": 2}},
     "required": ["when", "ids"], "additionalProperties": False},
    {"title": "annotated", "description": "annotations are ignored", "type": "object",
     "properties": {"x": {"type": "integer", "minimum": 0, "maximum": 3, "default": 1, "examples": [2]}},
     "required": ["x"], "additionalProperties": False, "$comment": "ok"},
]

PATTERNS = [r"^[a-z]{1,5}$", r"^[A-Z][a-z]{0,4}$", r"^\d{2,4}-\d{2}$", r"^(foo|bar|baz)$", r"^[^\s\"]{1,6}$",
            r"^\w{1,3}\.\w{1,3}$", r"^[+-]?\d{1,3}(\.\d{1,2})?$", r"^(?:[01]\d|2[0-3]):[0-5]\d$", r"^a.{0,3}b$",
            "^[\u00e0-\u00ff]{1,4}$", r"^x\\y{1,2}$", r'^"[a-z]{1,3}"$', r"^(ab|c){1,3}d?$", r"^[^a-z]{2}$"]
PATTERN_BOUND = 6 * 12  # none of them matches more than 12 characters; 6 bytes per escaped character
FORMAT_BOUND = {"date": 10, "time": 8 + 10 + 6, "date-time": 35, "uuid": 36, "email": 32 * 4 + 3 + 1 + 32 * 4 + 3}


def random_schema(rng: random.Random, depth: int = 0) -> dict:
    """A random schema from the supported subset, with every string, array and object bounded."""
    kinds = ["string", "integer", "number", "boolean", "null", "enum", "types", "anyOf"]
    if depth < 2:
        kinds += ["object", "object", "array", "array", "oneOf"]
    kind = rng.choice(kinds)
    if kind == "string":
        choice = rng.randrange(5)
        if choice == 0:
            return {"type": "string", "maxLength": rng.randint(0, 10)}
        if choice == 1:
            low = rng.randint(0, 5)
            return {"type": "string", "minLength": low, "maxLength": low + rng.randint(0, 5)}
        if choice == 2:
            return {"type": "string", "format": rng.choice(sorted(FORMAT_BOUND))}
        if choice == 3:
            return {"type": "string", "pattern": rng.choice(PATTERNS)}
        return {"type": "string", "enum": ["".join(rng.choice("ab\"\\é ") for _ in range(rng.randint(0, 4)))
                                           for _ in range(rng.randint(1, 3))]}
    if kind == "integer":
        schema: dict = {"type": "integer"}
        if rng.random() < 0.8:
            low = rng.randint(-10 ** rng.randint(0, 6), 10 ** rng.randint(0, 6))
            high = low + rng.randint(0, 10 ** rng.randint(0, 5))
            schema["exclusiveMinimum" if rng.random() < 0.3 else "minimum"] = low
            schema["exclusiveMaximum" if rng.random() < 0.3 else "maximum"] = high + 2
        return schema
    if kind == "number":
        schema = {"type": "number"}
        if rng.random() < 0.8:
            low = round(rng.uniform(-100, 100), rng.randint(0, 4))
            high = round(low + rng.uniform(0.001, 50), rng.randint(0, 4))
            if high <= low:
                high = low + 1
            schema["exclusiveMinimum" if rng.random() < 0.3 else "minimum"] = low
            schema["exclusiveMaximum" if rng.random() < 0.3 else "maximum"] = high
        return schema
    if kind == "boolean":
        return {"type": "boolean"}
    if kind == "null":
        return {"type": "null"}
    if kind == "enum":
        pool = [1, -2.5, "x", "y z", None, True, [1, "a"], {"k": 0}, "é\"\\"]
        return {"enum": rng.sample(pool, rng.randint(1, 4))}
    if kind == "types":
        return {"type": rng.sample(["string", "integer", "boolean", "null"], 2), "maxLength": 4, "minimum": 0, "maximum": 99}
    if kind == "anyOf":
        return {"anyOf": [random_schema(rng, depth + 1) for _ in range(2)]}
    if kind == "oneOf":
        branches = rng.sample([{"type": "string", "maxLength": 4}, {"type": "integer", "minimum": 0, "maximum": 9},
                               {"type": "boolean"}, {"type": "null"}, {"type": "array", "items": {"type": "null"}, "maxItems": 2}],
                              rng.randint(2, 3))
        return {"oneOf": branches}
    if kind == "array":
        schema = {"type": "array", "maxItems": rng.randint(0, 3)}
        schema["minItems"] = rng.randint(0, schema["maxItems"])
        if rng.random() < 0.25:
            schema["prefixItems"] = [random_schema(rng, depth + 1) for _ in range(rng.randint(1, 2))]
            schema["items"] = rng.choice([False, random_schema(rng, depth + 1)])
            if schema["items"] is False:
                schema["minItems"] = min(schema["minItems"], len(schema["prefixItems"]))
        else:
            schema["items"] = random_schema(rng, depth + 1)
        return schema
    names = rng.sample(["id", "name", "value", "tags", "kind", "é", "a b", "x\"y", "n1"], rng.randint(1, 4))
    schema = {"type": "object", "properties": {name: random_schema(rng, depth + 1) for name in names},
              "required": [name for name in names if rng.random() < 0.6], "additionalProperties": False}
    if depth == 0 and rng.random() < 0.3:
        schema = {"$defs": {"part": schema}, "$ref": "#/$defs/part"}
    return schema


def all_schemas() -> list[dict]:
    rng = random.Random(20)
    schemas = list(HAND_WRITTEN)
    while len(schemas) < 300:
        schema = random_schema(rng)
        if worst_case_bytes(schema) <= 3000:
            schemas.append(schema)
    return schemas


def _resolve(ref: str, root: dict) -> dict:
    node = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def worst_case_bytes(schema, root=None, seen=()) -> float:
    """Longest text the engine's grammar for `schema` can produce (math.inf when unbounded)."""
    root = root if root is not None else schema
    if schema is True or schema == {}:
        return math.inf
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return math.inf
        return worst_case_bytes(_resolve(schema["$ref"], root), root, seen + (schema["$ref"],))
    if "allOf" in schema:
        merged: dict = {"type": "object", "properties": {}, "required": []}
        for branch in schema["allOf"]:
            branch = _resolve(branch["$ref"], root) if "$ref" in branch else branch
            merged["properties"].update(branch.get("properties", {}))
            merged["required"] += branch.get("required", [])
        return worst_case_bytes(merged, root, seen)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return max(worst_case_bytes(branch, root, seen) for branch in schema[key])
    if "enum" in schema or "const" in schema:
        values = schema.get("enum", [schema.get("const")])
        return max(len(json.dumps(v, separators=(",", ":"), ensure_ascii=False).encode()) for v in values)
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    best = 0.0
    for t in types:
        if t == "string":
            if "pattern" in schema:
                size = 2 + PATTERN_BOUND
            elif "format" in schema:
                size = 2 + FORMAT_BOUND[schema["format"]]
            else:
                size = 2 + 6 * schema.get("maxLength", math.inf)
        elif t in ("integer", "number"):
            size = 17 if t == "integer" else 34
        elif t in ("boolean", "null"):
            size = 5
        elif t == "array":
            prefix = [worst_case_bytes(s, root, seen) for s in schema.get("prefixItems", [])]
            rest = schema.get("items", True)
            limit = schema.get("maxItems", math.inf if rest is not False else len(prefix))
            items = prefix[:limit] if limit != math.inf else prefix
            extra = 0.0
            if rest is not False and limit > len(prefix):
                extra = (limit - len(prefix)) * (worst_case_bytes(rest, root, seen) + 2 * WS + 1)
            size = 2 + WS + sum(x + 2 * WS + 1 for x in items) + extra
        elif t == "object":
            props = schema.get("properties", {})
            size = 2 + WS + sum(len(json.dumps(k).encode()) + 3 * WS + 2 + worst_case_bytes(v, root, seen)
                                for k, v in props.items())
            if schema.get("additionalProperties", False) is not False:
                size = math.inf
        else:
            size = math.inf
        best = max(best, size)
    return best
