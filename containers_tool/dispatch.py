"""The dispatcher: validate each call, route it to its registered handler, wrap the envelope."""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Hashable, Mapping
from typing import Any

import jsonschema
from pydantic import BaseModel, ValidationError

from containers_tool import metrics, rules
from containers_tool.context import Context
from containers_tool.envelope import clip, fail, ok
from containers_tool.errors import InternalError, InvalidInputError, ToolError
from containers_tool.handlers import OPERATIONS
from containers_tool.labels import NAME_PATTERN, SESSION_PATTERN
from containers_tool.logs import event
from containers_tool.schema import allowed_fields, frozen_call, op_valid, validator

log = logging.getLogger("containers_tool")

FIELD_HINTS = {
    "memory_limit": 'Use a number with a unit, e.g. "512m" or "2g".',
    "name": "Use 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit.",
    "session_id": "Use 1-64 letters, digits, '_', '.' or '-'.",
    "command": 'Pass a shell string ("ls -la") or an argv list (["ls", "-la"]).',
    "user": 'Use "uid", "uid:gid" or a user name in the image.',
    "image": 'Use a reference such as "debian:12-slim" or "registry.example.com/team/app:1.2" '
    "(lowercase name, optional :tag or @sha256:digest).",
}


def _where(path: list[str]) -> str:
    """A JSON path as the caller wrote it: ports[0].container."""
    return path[0] + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in path[1:])


def _schema_error(error: jsonschema.ValidationError, op: str) -> InvalidInputError:
    path = [str(p) for p in error.absolute_path]
    field = path[0] if path else None
    if error.validator == "enum" and field == "operation":
        return InvalidInputError(
            f"Unknown operation {clip(str(error.instance))!r}.",
            hint=f"Use one of: {', '.join(sorted(OPERATIONS))}."
            # A bounded word: difflib on a 200,000-character name would take its time.
            + rules.suggest(clip(str(error.instance), 64), OPERATIONS),
            field="operation",
        )
    if _unknown_field(error) and path:
        # An unknown key inside a nested item (e.g. ports[0]) belongs to that item.
        keys = sorted(error.schema.get("properties", {})) if isinstance(error.schema, dict) else []
        quoted = error.message.split("'")
        key = quoted[1] if len(quoted) > 1 else ""
        return InvalidInputError(
            f"Unknown key {clip(key)!r} in {_where(path)}.",
            hint=(f"Allowed keys: {', '.join(keys)}." if keys else "See tool-schema.json.")
            + rules.suggest(clip(key, 64), keys),
            field=clip(_where([*path, key]) if key else _where(path)),
        )
    if _unknown_field(error):
        allowed = allowed_fields(op)
        bad = error.instance if "propertyNames" in error.schema_path else None
        if bad is None:
            extra = error.message.split("'")
            bad = extra[1] if len(extra) > 1 else "?"
        return InvalidInputError(
            f"Unknown field {clip(str(bad))!r} for operation {op!r}.",
            hint=f"Allowed fields: {', '.join(allowed)}."
            + rules.suggest(clip(str(bad), 64), allowed),
            field=clip(str(bad)),
        )
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        if path:  # a key of a nested item, e.g. ports[0].container
            where = _where([*path, missing])
            return InvalidInputError(
                f"{_where(path)} needs the key {missing!r}.",
                hint=f"Add {missing!r} to {_where(path)}: {rules.describe_item(error.schema)}.",
                field=where,
            )
        return InvalidInputError(
            f"Operation {op!r} needs the field {missing!r}.",
            hint=f"Add {missing!r}; allowed fields: {', '.join(allowed_fields(op))}.",
            field=missing,
        )
    where = _where(path) if path else "input"
    # A field several operations share has one merged schema; the rule is this operation's.
    rule = rules.describe(_own_rule(op, field) if len(path) == 1 else error.schema)
    return InvalidInputError(
        f"{where} is {rules.shown(error.instance)}, but it must be {rule}.",
        hint=FIELD_HINTS.get(field or "", f"Pass {where} as {rule}."),
        field=where if path else None,
    )


@functools.cache
def _op_schema(op: str) -> dict[str, Any]:
    return OPERATIONS[op].model.model_json_schema() if op in OPERATIONS else {}


def _own_rule(op: str, field: str | None) -> object:
    return _op_schema(op).get("properties", {}).get(field or "", {})


def _unknown_field(error: jsonschema.ValidationError) -> bool:
    return error.validator == "additionalProperties" or "propertyNames" in error.schema_path


def _model_error(exc: ValidationError) -> InvalidInputError:
    first = exc.errors()[0]
    loc = [str(p) for p in first.get("loc", ())]
    field = loc[0] if loc else None
    msg = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    where = _where(loc) if loc else "input"
    return InvalidInputError(
        f"{msg}." if msg.startswith(where) else f"{where}: {msg}.",
        hint=FIELD_HINTS.get(field or "", "Fix that field and call again (see tool-schema.json)."),
        field=field,
    )


_NAME_RE, _SESSION_RE = re.compile(NAME_PATTERN), re.compile(SESSION_PATTERN)
#: Failure events named after the seeds' runbook; other operations log `operation.failed`.
FAILED_EVENTS = {"create": "container.create.failed", "destroy": "container.delete.failed"}


def dispatch(ctx: Context, arguments: Mapping[str, Any]) -> dict[str, object]:
    """Runs one call (see `_dispatch`), counted in the metrics and logged as one event.

    Args:
        ctx: The tool's context.
        arguments: `{"operation": ..., **fields}`.

    Returns:
        The success or failure envelope.
    """
    started = time.perf_counter()
    with ctx.activity.operation():  # the containers it touches are in use until it returns
        envelope = _dispatch(ctx, arguments)
    seconds = time.perf_counter() - started
    _observe(ctx, arguments, envelope, seconds)
    return envelope


def _observe(
    ctx: Context, arguments: Mapping[str, Any], envelope: dict[str, object], seconds: float
) -> None:
    # Label values come from a closed set: an unknown operation name is "unknown".
    op = str(envelope.get("operation"))
    op = op if op in OPERATIONS else "unknown"
    error = envelope.get("error")
    code = str(error.get("code")) if isinstance(error, dict) else None
    metrics.record(op, code or "ok", seconds)
    if not log.isEnabledFor(logging.INFO):  # both events are info: nothing below is read
        return
    fields = arguments if isinstance(arguments, Mapping) else {}
    # Names only, and only well-formed ones: a value the caller passed may be a secret.
    named = envelope.get("container") or fields.get("container") or fields.get("name")
    container = named if isinstance(named, str) and _NAME_RE.match(named) else None
    asked = fields.get("session_id")
    session = asked if isinstance(asked, str) and _SESSION_RE.match(asked) else ctx.session_id
    common = {
        "operation": op,
        "container": container,
        "session": session,
        "duration_ms": round(seconds * 1000, 1),
    }
    if code is None:
        event("operation.completed", logging.INFO, result="ok", **common)
    else:
        field = error.get("field") if isinstance(error, dict) else None
        field = field if op != "unknown" and field in allowed_fields(op) else None
        name = FAILED_EVENTS.get(op, "operation.failed")
        # info, not warning: the caller got the error; operators opt in with log_level.
        event(name, logging.INFO, result=code, error_code=code, field=field, **common)


def _dispatch(ctx: Context, arguments: Mapping[str, Any]) -> dict[str, object]:
    """Validates one call against the tool schema and its model, runs it; never raises.

    Args:
        ctx: The tool's context.
        arguments: `{"operation": ..., **fields}`.

    Returns:
        The success or failure envelope.
    """
    op = arguments.get("operation") if isinstance(arguments, Mapping) else None
    op_name = op if isinstance(op, str) else "unknown"
    try:
        if not isinstance(arguments, Mapping):
            raise InvalidInputError(
                f"The call must be a JSON object, not {_json_kind(arguments)}.",
                hint='Pass {"operation": "<name>", ...fields}, e.g. {"operation": "list"}.',
                field=None,
            )
        key = frozen_call(arguments) if op_name in OPERATIONS else None
        if key is None:  # a call with a key holds only scalars and lists of strings
            _check_depth(arguments)
        args = _MODELS.get(key) if key is not None else None
        if args is None:
            args = _validated(op_name, arguments)
            if key is not None:
                if len(_MODELS) >= MODELS_MAX:
                    _MODELS.clear()
                _MODELS[key] = args
        return ok(op_name, OPERATIONS[op_name].handler(args, ctx))
    except ToolError as exc:
        return fail(op_name, exc)
    except Exception:
        log.exception("operation %s failed unexpectedly", op_name)
        return fail(
            op_name,
            InternalError(
                f"Operation {op_name!r} failed unexpectedly inside the tool.",
                hint="Retry once; if it fails again, call preflight and report the log.",
            ),
        )


#: Input models already validated, by the whole call (frozen_call): a model is frozen and its
#: validation reads the call alone, so an identical call (a session's repeated command, a poll)
#: gets the same instance without the schema and the model checked again.
_MODELS: dict[Hashable, BaseModel] = {}
MODELS_MAX = 512


def _validated(op_name: str, arguments: Mapping[str, Any]) -> BaseModel:
    """Validates a call against the tool schema, then its operation's model.

    Raises:
        InvalidInputError: The schema's first error (ranked), or the model's.
    """
    call = dict(arguments)
    # A known operation's valid call needs only its own fields checked; anything else goes
    # through the whole schema, whose first error (ranked) names the problem.
    fast = op_name in OPERATIONS and op_valid(op_name, call)
    error = None if fast else next(iter(sorted(validator().iter_errors(call), key=_rank)), None)
    if error is not None:
        raise _schema_error(error, op_name)
    fields = {k: v for k, v in arguments.items() if k != "operation"}
    try:
        return OPERATIONS[op_name].model.model_validate(fields)
    except ValidationError as exc:
        raise _model_error(exc) from None


#: How deep a call's values may nest; validators and messages recurse over them.
MAX_DEPTH = 32
_FLAT = frozenset({str, int, float, bool, type(None)})


def _check_depth(arguments: Mapping[str, Any]) -> None:
    """Refuses values nested deeper than MAX_DEPTH (iteratively: no recursion to overflow)."""
    if all(type(v) in _FLAT for v in arguments.values()):  # the usual call: nothing nests
        return
    stack: list[tuple[object, int]] = [(arguments, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidInputError(
                f"The call's values nest deeper than {MAX_DEPTH} levels.",
                hint="Pass flat values: strings, numbers, lists and mappings of those.",
                field=None,
            )
        if isinstance(value, Mapping):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list | tuple):
            stack.extend((v, depth + 1) for v in value)


def _json_kind(value: object) -> str:
    """Names a decoded JSON value's type the way a caller wrote it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return f"an array of {len(value)} item(s)"
    return f"a {type(value).__name__}"


def _rank(error: jsonschema.ValidationError) -> tuple[int, int]:
    # Report the operation first, then unknown fields, then missing ones, then values.
    if list(error.absolute_path)[:1] == ["operation"]:
        return (0, 0)
    if _unknown_field(error):
        return (1, 0)
    return (1, 1 if error.validator == "required" else 2)
