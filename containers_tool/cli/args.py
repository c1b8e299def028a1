"""Command-line arguments derived from the operation models, so new operations get subcommands.

Each field of an operation's input model becomes an argument, by its JSON Schema:
required strings are positionals (`status NAME`), a required command is everything after `--`
(`exec NAME -- CMD...`), booleans are flags, numbers are typed options, string maps are repeated
`--env KEY=VALUE`, and lists of objects are repeated `--ports container=80,host=8080` (or JSON).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

#: What each JSON Schema shape becomes on the command line.
KIND_MAP, KIND_OBJECTS, KIND_STRINGS, KIND_COMMAND, KIND_JSON = (
    "map",
    "objects",
    "strings",
    "command",
    "json",
)


def _unwrap(prop: Mapping[str, Any]) -> Mapping[str, Any]:
    """Drops the `null` branch pydantic adds for optional fields."""
    branches = [b for b in prop.get("anyOf", []) if b.get("type") != "null"]
    if len(branches) == 1:
        return {**branches[0], **{k: v for k, v in prop.items() if k != "anyOf"}}
    return prop


def _kind(prop: Mapping[str, Any]) -> str:
    kinds = {b.get("type") for b in prop.get("anyOf", [])}
    if kinds == {"string", "array"}:
        return KIND_COMMAND
    kind = prop.get("type")
    if kind == "object" and "properties" not in prop:
        return KIND_MAP
    if kind == "array":
        items = prop.get("items", {})
        if "$ref" in items or items.get("type") == "object":
            return KIND_OBJECTS
        if items.get("type") == "string":
            return KIND_STRINGS
        return KIND_JSON
    return str(kind) if kind in ("boolean", "integer", "number", "string") else KIND_JSON


def option(field: str) -> str:
    """Returns the option spelling of a field (`memory_limit` -> `--memory-limit`)."""
    return "--" + field.replace("_", "-")


def add_fields(parser: argparse.ArgumentParser, model: type[BaseModel]) -> dict[str, str]:
    """Adds one argument per field of `model`; returns each field's kind for `collect`."""
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    kinds: dict[str, str] = {}
    for field, raw in schema.get("properties", {}).items():
        prop = _unwrap(raw)
        kind = _kind(prop)
        kinds[field] = kind
        text = (raw.get("description") or prop.get("description") or "").replace("%", "%%")
        if kind == KIND_COMMAND:
            # Not an argparse positional: REMAINDER would swallow options written after the
            # container (`exec NAME --timeout 1 CMD`). main() passes the leftover words.
            parser.usage = (
                f"%(prog)s [options] {'CONTAINER ' if 'container' in required else ''}CMD..."
            )
            parser.epilog = (
                f"CMD ({field}): the words after the options, or after --. {text} One word runs "
                "in a shell; several run as argv. Options of this command come before CMD."
            )
        elif field in required and kind == "string":
            parser.add_argument(field, metavar=field.upper(), help=text)
        elif kind == "boolean":
            action = "store_true" if not raw.get("default") else argparse.BooleanOptionalAction
            parser.add_argument(option(field), dest=field, action=action, default=None, help=text)
        elif kind in ("integer", "number"):
            parser.add_argument(
                option(field), dest=field, type=int if kind == "integer" else float, help=text
            )
        elif kind == KIND_MAP:
            parser.add_argument(
                option(field), dest=field, action="append", metavar="KEY=VALUE", help=text
            )
        elif kind in (KIND_OBJECTS, KIND_STRINGS):
            parser.add_argument(
                option(field),
                dest=field,
                action="append",
                metavar="K=V,K=V" if kind == KIND_OBJECTS else "VALUE",
                help=f"{text} Repeat for several." + (" Or JSON." if kind == KIND_OBJECTS else ""),
            )
        else:
            parser.add_argument(
                option(field), dest=field, metavar="JSON" if kind == KIND_JSON else None, help=text
            )
    return kinds


def _scalar(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _object(text: str) -> Any:
    if text.lstrip().startswith(("{", "[")):
        return json.loads(text)
    pairs = [part.partition("=") for part in text.split(",")]
    if any(not sep or not key.strip() for key, sep, _ in pairs):
        raise ValueError(f"{text!r} is not K=V,K=V or JSON")
    return {key.strip(): _scalar(value) for key, _, value in pairs}


def collect(namespace: argparse.Namespace, kinds: Mapping[str, str]) -> dict[str, Any]:
    """Turns parsed arguments back into the operation's fields (unset options are left out).

    Raises:
        ValueError: A KEY=VALUE or JSON argument does not parse.
    """
    fields: dict[str, Any] = {}
    for field, kind in kinds.items():
        value = getattr(namespace, field, None)
        if value is None or (kind == KIND_COMMAND and value == []):
            continue
        if kind == KIND_COMMAND:
            words = value[1:] if value[:1] == ["--"] else value
            if not words:
                continue
            fields[field] = words[0] if len(words) == 1 else list(words)
        elif kind == KIND_MAP:
            pairs = [item.partition("=") for item in value]
            if any(not sep for _, sep, _ in pairs):
                raise ValueError(f"{option(field)} takes KEY=VALUE")
            fields[field] = {key: val for key, _, val in pairs}
        elif kind == KIND_OBJECTS:
            try:
                fields[field] = [_object(item) for item in value]
            except ValueError as exc:  # json.JSONDecodeError is one too
                raise ValueError(f"{option(field)}: {exc}") from None
        elif kind == KIND_JSON:
            try:
                fields[field] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{option(field)} takes JSON: {exc}") from None
        else:
            fields[field] = value
    return fields
