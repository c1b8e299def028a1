"""Builds the tool's input schema (tool-schema.json) from the operation models."""

from __future__ import annotations

import copy
import json
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
def op_validator(op: str) -> jsonschema.protocols.Validator:
    """Returns a validator accepting exactly what the tool schema accepts for operation `op`.

    The whole schema tries the if/then rule of every operation on every call; this one holds
    only `op`'s fields, so a valid call (the common case) is checked at a fraction of the cost.
    """
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
    return jsonschema.validators.validator_for(schema)(schema)


@cache
def validator() -> jsonschema.protocols.Validator:
    """Returns the cached validator of the tool schema (checked once against its metaschema)."""
    schema = build_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)
