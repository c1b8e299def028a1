"""Validation rules in words: a JSON schema fragment as "an integer from 1 to 3600"."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from typing import Any

_KINDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
    "null": "null",
}


def shown(value: object, limit: int = 60) -> str:
    """A caller's value as JSON, cut short."""
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


def _number(schema: Mapping[str, Any], kind: str) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    xlow, xhigh = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if low is not None and high is not None:
        return f"{kind} from {low:g} to {high:g}"
    parts = []
    if low is not None:
        parts.append(f"≥ {low:g}")
    if xlow is not None:
        parts.append(f"> {xlow:g}")
    if high is not None:
        parts.append(f"≤ {high:g}")
    if xhigh is not None:
        parts.append(f"< {xhigh:g}")
    return f"{kind} {' and '.join(parts)}" if parts else kind


def _string(schema: Mapping[str, Any]) -> str:
    parts = []
    if (low := schema.get("minLength")) and (high := schema.get("maxLength")):
        parts.append(f"of {low}-{high} characters")
    elif low := schema.get("minLength"):
        parts.append(f"of at least {low} character{'s' if low > 1 else ''}")
    elif high := schema.get("maxLength"):
        parts.append(f"of at most {high} characters")
    if (pattern := schema.get("pattern")) and len(pattern) <= 48:
        parts.append(f"matching {pattern}")
    elif pattern:
        parts.append("in the field's format (see the hint)")
    return " ".join(["a string", *parts])


def describe(schema: object) -> str:
    """The rule a schema states, in words: type, range, length, pattern or allowed values."""
    if not isinstance(schema, Mapping):
        return "a valid value"
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v) for v in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [
                o for o in schema[key] if not (isinstance(o, Mapping) and o.get("type") == "null")
            ]
            return " or ".join(dict.fromkeys(describe(o) for o in options)) or "null"
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(_KINDS.get(str(k), str(k)) for k in kind if k != "null")
    if kind in ("integer", "number"):
        return _number(schema, _KINDS[kind])
    if kind == "string":
        return _string(schema)
    if kind == "array":
        items = schema.get("items")
        most = schema.get("maxItems")
        head = f"a list of at most {most}" if most is not None else "a list"
        return f"{head} of {describe_item(items)}" if items else head
    if kind == "object":
        if "properties" in schema:
            return describe_item(schema)
        # A mapping such as env: describe_item would hand it straight back (endless recursion).
        values = schema.get("additionalProperties")
        return (
            f"an object of {describe(values)} values"
            if isinstance(values, Mapping)
            else "an object"
        )
    return _KINDS.get(str(kind), "a valid value")


def describe_item(schema: object) -> str:
    """An object's keys (required ones marked) or an item's rule."""
    if not isinstance(schema, Mapping) or "properties" not in schema:
        return describe(schema)
    required = set(schema.get("required", ()))
    keys = [f"{k} (required)" if k in required else k for k in schema["properties"]]
    return "an object with keys " + ", ".join(keys)


def suggest(word: object, choices: Iterable[str] | None = None) -> str:
    """' Did you mean ...?' for a near miss among `choices`, else ''."""
    if not isinstance(word, str) or choices is None:
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""
