"""Builds the tool's input schema (tool-schema.json) from the operation models."""

from __future__ import annotations

import copy
import json
from collections.abc import Hashable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from containers_tool.handlers import OPERATIONS

SCHEMA_ID = "https://containers-tool.dev/tool-schema.json"
TOOL_DESCRIPTION = (
    "Create and use isolated Docker/Podman containers. Call with operation=<name> plus that "
    "operation's fields. Results are JSON: ok=true with the payload, or ok=false with error "
    "{code, message, hint, field}; follow the hint. Start with preflight, then create, exec, "
    "and destroy when done."
)


def _summary(model: type[Any]) -> str:
    return " ".join((model.__doc__ or "").split())


def _fields(op: str) -> list[str]:
    return list(OPERATIONS[op].model.model_fields)


def allowed_fields(op: str) -> list[str]:
    """Returns the fields operation `op` accepts (operation first)."""
    return ["operation", *_fields(op)] if op in OPERATIONS else ["operation"]


def build_schema() -> dict[str, Any]:
    """Returns the JSON Schema of the whole tool: an operation enum plus every field.

    A field shared by several operations appears once; per-operation `if`/`then` rules give the
    required fields and forbid fields that operation does not take.
    """
    names = sorted(OPERATIONS)
    properties: dict[str, Any] = {
        "operation": {
            "type": "string",
            "enum": names,
            "description": "What to do: "
            + "; ".join(f"{n}: {_summary(OPERATIONS[n].model).rstrip('.')}" for n in names)
            + ".",
        }
    }
    defs: dict[str, Any] = {}
    seen: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    rules = []
    for name in names:
        model = OPERATIONS[name].model
        sub = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(sub.pop("$defs", {}))
        for field, prop in sub.get("properties", {}).items():
            prop = copy.deepcopy(prop)
            prop.pop("title", None)
            seen.setdefault(field, []).append((name, prop))
        rules.append(
            {
                "if": {"properties": {"operation": {"const": name}}, "required": ["operation"]},
                "then": {
                    "required": sorted(sub.get("required", [])),
                    "propertyNames": {"enum": allowed_fields(name)},
                },
            }
        )
    for field, variants in sorted(seen.items()):
        properties[field] = _merge(variants)
    for d in defs.values():
        d.pop("title", None)
        for prop in d.get("properties", {}).values():
            prop.pop("title", None)
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "containers",
        "description": TOOL_DESCRIPTION,
        "type": "object",
        "properties": properties,
        "required": ["operation"],
        "additionalProperties": False,
        "allOf": rules,
    }
    if defs:
        schema["$defs"] = dict(sorted(defs.items()))
    return schema


def _merge(variants: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    shapes: list[dict[str, Any]] = []
    descriptions: dict[str, list[str]] = {}
    for op, prop in variants:
        text = prop.pop("description", "")
        prop.pop("default", None)
        if prop not in shapes:
            shapes.append(prop)
        if text:
            descriptions.setdefault(text, []).append(op)
    merged: dict[str, Any] = shapes[0] if len(shapes) == 1 else {"anyOf": shapes}
    if len(descriptions) == 1:
        merged["description"] = next(iter(descriptions))
    elif descriptions:
        merged["description"] = " ".join(
            f"[{', '.join(ops)}] {text}" for text, ops in descriptions.items()
        )
    return merged


def schema_text() -> str:
    """Returns tool-schema.json's exact text."""
    return json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"


def write_schema(path: Path) -> None:
    """Writes tool-schema.json."""
    path.write_text(schema_text(), encoding="utf-8")


@cache
def _operation_schema(op: str) -> dict[str, Any]:
    """The part of the tool schema that applies to operation `op`: its own fields only."""
    full = build_schema()
    rule = next(r for r in full["allOf"] if r["if"]["properties"]["operation"]["const"] == op)
    allowed = rule["then"]["propertyNames"]["enum"]
    schema: dict[str, Any] = {
        "$schema": full["$schema"],
        "type": "object",
        "properties": {k: v for k, v in full["properties"].items() if k in allowed},
        "required": sorted({"operation", *rule["then"]["required"]}),
        "additionalProperties": False,
    }
    if "$defs" in full:
        schema["$defs"] = full["$defs"]
    return schema


@cache
def op_validator(op: str) -> jsonschema.protocols.Validator:
    """Returns a validator accepting exactly what the tool schema accepts for operation `op`.

    The whole schema tries the if/then rule of every operation on every call; this one holds
    only `op`'s fields, so a valid call (the common case) is checked at a fraction of the cost.
    """
    schema = _operation_schema(op)
    return jsonschema.validators.validator_for(schema)(schema)


#: Field values already found valid, as (operation, field, frozen value): a session's calls
#: repeat the same container, session and often the same command, each checked once.
_VALID: set[tuple[str, str, Hashable]] = set()
#: Verdicts kept before they start afresh, and the longest text one remembers.
VERDICTS_MAX = 4096
VERDICT_TEXT_MAX = 4096
_SCALARS = (str, int, float, bool, type(None))


@cache
def _field_validators(op: str) -> dict[str, jsonschema.protocols.Validator]:
    """One validator per field of `op`, each with the operation schema's `$defs`."""
    schema = _operation_schema(op)
    defs = {"$defs": schema["$defs"]} if "$defs" in schema else {}
    cls = jsonschema.validators.validator_for(schema)
    return {
        name: cls({"$schema": schema["$schema"], **defs, **prop})
        for name, prop in schema["properties"].items()
    }


@cache
def _shape(op: str) -> tuple[frozenset[str], frozenset[str]]:
    """The required and the allowed fields of `op`."""
    schema = _operation_schema(op)
    return frozenset(schema["required"]), frozenset(schema["properties"])


def _frozen(value: object) -> Hashable | None:
    """A hashable stand-in for a JSON value that tells apart what JSON Schema tells apart.

    The type goes into it (True == 1 == 1.0 in Python, not in a schema), except for a string,
    the usual value, which stands for itself (no tuple equals a string); None means "too large
    or too nested to remember".
    """
    kind = type(value)
    if isinstance(value, str) and kind is str:
        return value if len(value) <= VERDICT_TEXT_MAX else None
    if kind in _SCALARS:
        return (kind, value)
    if (
        isinstance(value, list)
        and kind is list
        and all(type(v) is str for v in value)
        and sum(map(len, value)) <= VERDICT_TEXT_MAX
    ):
        return (list, tuple(value))
    return None


def op_valid(op: str, call: Mapping[str, Any]) -> bool:
    """Tells whether the tool schema accepts `call` for operation `op`, as `op_validator` does.

    The operation's schema has no rule across fields: a call is valid when its fields are
    allowed, the required ones are there, and each value is valid on its own. So each field is
    checked alone, and a value found valid once is not checked again.
    """
    required, allowed = _shape(op)
    if not (required.issubset(call) and allowed.issuperset(call)):
        return False
    fields = _field_validators(op)
    for name, value in call.items():
        frozen = _frozen(value)
        key = (op, name, frozen)
        if frozen is not None and key in _VALID:
            continue
        if not fields[name].is_valid(value):
            return False
        if frozen is not None:
            if len(_VALID) >= VERDICTS_MAX:
                _VALID.clear()
            _VALID.add(key)
    return True


def frozen_call(call: Mapping[str, Any]) -> Hashable | None:
    """A hashable stand-in for a whole call; None when a value has none, or they are large."""
    parts = []
    size = 0
    for name, value in call.items():
        frozen = _frozen(value)
        if frozen is None:
            return None
        if isinstance(value, str):
            size += len(value)
        elif isinstance(value, list):
            size += sum(map(len, value))
        parts.append((name, frozen))
    return tuple(parts) if size <= VERDICT_TEXT_MAX else None


@cache
def validator() -> jsonschema.protocols.Validator:
    """Returns the cached validator of the tool schema (checked once against its metaschema)."""
    schema = build_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)
