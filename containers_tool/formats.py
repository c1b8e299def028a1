"""The tool definition in the shapes agent frameworks take: MCP, Anthropic and OpenAI.

tool-schema.json keeps its per-operation rules in a top-level `allOf` of `if`/`then` blocks. The
Anthropic API rejects any `allOf`/`anyOf`/`oneOf` at the top of `input_schema` (and MCP clients
such as Claude Code forward MCP schemas to it unchanged), and OpenAI's strict mode forbids them
too. So every form here is the *flat* schema: the same properties, with `operation` required and
unknown fields refused, but without the per-operation rules. Nothing is lost at run time: the
tool validates each call against the full tool-schema.json and answers `invalid_input` with the
allowed fields as its hint.

OpenAI's strict mode adds rules the tool's inputs cannot meet as they are: every property must be
required and every object closed, so free-form maps (`env`, `labels`) cannot appear. `openai_tool`
is therefore non-strict by default; `openai_tool(strict=True)` emits a strict-valid variant in
which optional fields are nullable and maps are lists of `{"name", "value"}` pairs, and
`from_strict_arguments` turns such a call back into the tool's own arguments.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from functools import cache
from typing import Any, Literal

from containers_tool.schema import TOOL_DESCRIPTION, build_schema

TOOL_NAME = "containers"
Format = Literal["json-schema", "mcp", "anthropic", "openai", "openai-strict"]
FORMATS: tuple[Format, ...] = ("json-schema", "mcp", "anthropic", "openai", "openai-strict")

#: Keywords OpenAI's strict mode accepts; everything else is dropped from the strict variant.
STRICT_KEYWORDS = frozenset(
    {
        "type",
        "description",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "anyOf",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
    }
)
_REF = re.compile(r"^#/\$defs/(?P<name>[^/]+)$")


def _inline(node: Any, defs: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """Replaces local `$ref`s with copies of their definitions (some clients resolve none)."""
    if isinstance(node, list):
        return [_inline(item, defs, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and (match := _REF.match(ref)):
        name = match["name"]
        if name in seen:
            raise ValueError(f"recursive $ref {ref} cannot be inlined")
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        return _inline({**copy.deepcopy(defs[name]), **siblings}, defs, (*seen, name))
    return {key: _inline(value, defs, seen) for key, value in node.items()}


def flat_schema(schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Returns the agent-facing input schema: tool-schema.json without top-level combinators.

    Args:
        schema: The full tool schema; built from the registry when omitted.

    Returns:
        An object schema with every property, `operation` required, no `$ref`s.
    """
    full = copy.deepcopy(dict(schema) if schema is not None else build_schema())
    defs = full.get("$defs", {})
    return {
        "type": "object",
        "properties": _inline(full["properties"], defs),
        "required": ["operation"],
        "additionalProperties": False,
    }


def mcp_tool(schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Returns the MCP `Tool` definition (as in a tools/list result)."""
    return {
        "name": TOOL_NAME,
        "title": "Containers",
        "description": TOOL_DESCRIPTION,
        "inputSchema": flat_schema(schema),
        # The tool can create and destroy things, talks only to the local engine.
        "annotations": {"destructiveHint": True, "openWorldHint": False},
    }


def anthropic_tool(schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Returns the Anthropic Messages API tool definition (`tools=[...]`)."""
    return {"name": TOOL_NAME, "description": TOOL_DESCRIPTION, "input_schema": flat_schema(schema)}


def openai_tool(schema: Mapping[str, Any] | None = None, *, strict: bool = False) -> dict[str, Any]:
    """Returns the OpenAI Chat Completions tool definition (`tools=[...]`).

    Args:
        schema: The full tool schema; built from the registry when omitted.
        strict: Emit the strict-mode variant (nullable optionals, maps as name/value lists);
            decode its calls with `from_strict_arguments`.
    """
    flat = flat_schema(schema)
    return {
        "type": "function",
        "function": {
            "name": TOOL_NAME,
            "description": TOOL_DESCRIPTION,
            "parameters": strict_parameters(flat) if strict else flat,
            "strict": strict,
        },
    }


def render(fmt: Format, schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Returns the tool definition in format `fmt` (`json-schema` is tool-schema.json itself)."""
    if fmt == "json-schema":
        return dict(schema) if schema is not None else build_schema()
    if fmt == "mcp":
        return mcp_tool(schema)
    if fmt == "anthropic":
        return anthropic_tool(schema)
    return openai_tool(schema, strict=fmt == "openai-strict")


def _is_map(node: Mapping[str, Any]) -> bool:
    return (
        node.get("type") == "object"
        and "properties" not in node
        and isinstance(node.get("additionalProperties"), dict)
    )


def _nullable(node: dict[str, Any]) -> dict[str, Any]:
    if "anyOf" in node:
        if {"type": "null"} not in node["anyOf"]:
            node["anyOf"].append({"type": "null"})
        return node
    kind = node.get("type")
    if isinstance(kind, str) and kind != "null":
        node["type"] = [kind, "null"]
        if "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
    return node


def _strict(node: Mapping[str, Any]) -> dict[str, Any]:
    if _is_map(node):
        pair = {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "value": _strict(node["additionalProperties"]),
            },
            "required": ["name", "value"],
            "additionalProperties": False,
        }
        out: dict[str, Any] = {"type": "array", "items": pair}
        text = node.get("description", "")
        out["description"] = f"{text} As a list of {{name, value}} pairs.".strip()
        return out
    out = {k: copy.deepcopy(v) for k, v in node.items() if k in STRICT_KEYWORDS}
    if "anyOf" in node:
        branches: list[dict[str, Any]] = []
        for branch in node["anyOf"]:
            flat = _strict(branch)
            for leaf in flat.pop("anyOf", None) or [flat]:
                if leaf not in branches:
                    branches.append(leaf)
        out["anyOf"] = branches
    if "items" in node:
        out["items"] = _strict(node["items"])
    if "properties" in node:
        required = set(node.get("required", []))
        props = {}
        for name, prop in node["properties"].items():
            converted = _strict(prop)
            props[name] = converted if name in required else _nullable(converted)
        out["properties"] = props
        out["required"] = list(props)
        out["additionalProperties"] = False
    return out


def strict_parameters(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Converts the flat schema into one OpenAI's strict mode accepts.

    Every property becomes required; those the tool does not require accept null, which
    `from_strict_arguments` drops. Free-form maps become lists of `{name, value}` pairs, and
    keywords outside strict mode's subset (length limits, defaults) are removed: the tool checks
    them itself.
    """
    return _strict(flat)


def from_strict_arguments(
    arguments: Mapping[str, Any], schema: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Turns a strict-mode call back into the tool's arguments.

    Drops null fields and rebuilds maps from `{name, value}` lists, following the flat schema.
    Arguments in the tool's own shape pass through unchanged.
    """
    flat = _registry_flat_schema() if schema is None else flat_schema(schema)
    return _decode(arguments, flat)  # type: ignore[no-any-return]


@cache
def _registry_flat_schema() -> dict[str, Any]:
    # Read-only: an agent loop decodes every call against it, and building it takes ~10 ms.
    return flat_schema()


def _decode(value: Any, node: Mapping[str, Any]) -> Any:
    if _is_map(node) and isinstance(value, list):
        if all(isinstance(p, dict) and set(p) == {"name", "value"} for p in value):
            return {p["name"]: p["value"] for p in value}
        return value
    if isinstance(value, dict) and "properties" in node:
        props = node["properties"]
        return {
            k: _decode(v, props.get(k, {})) if k in props else v
            for k, v in value.items()
            if v is not None
        }
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        return [_decode(v, node["items"]) for v in value]
    if "anyOf" in node:
        for branch in node["anyOf"]:
            if ("properties" in branch and isinstance(value, dict)) or (
                (_is_map(branch) or "items" in branch) and isinstance(value, list)
            ):
                return _decode(value, branch)
    return value
