"""Fuzzing every operation from tool-schema.json: no `internal`, no exception, bounded results.

What it covers: calls of every operation shaped by the published schema (strategies built
from each operation's own fields: types, enums, patterns, bounds, items, $refs), half of them
then broken on purpose (a field replaced by arbitrary JSON, an unknown key, a deep or huge
value). Valid calls are steered away from anything costly or shared: container, snapshot,
network, name and session references get an `h12-fuzz-` prefix so they name nothing that
exists (the engine answers not_found), create asks for an image that is not there with
pulling off (it stops before making anything), and the operations that change more than one
object (create_network, destroy_all, cache_clear) or only report on the machine (preflight)
are left out. So the engine is reached, but no container, network or file is made.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containers_tool import ContainersTool
from containers_tool.settings import Settings
from tests.integration.conftest import TEST_SESSION

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "tool-schema.json").read_text())
SKIPPED = {"create_network", "destroy_all", "cache_clear", "preflight"}
OPERATIONS = [op for op in SCHEMA["properties"]["operation"]["enum"] if op not in SKIPPED]
#: Fields naming engine objects: prefixed so they name nothing that exists.
REFERENCES = ("container", "snapshot", "network", "name", "session", "job_id", "session_id")
RESULT_LIMIT = 64 * 1024
EXAMPLES = int(
    os.environ.get("CONTAINERS_TOOL_FUZZ_EXAMPLES", "1000")
)  # per engine: 2,000 calls in all


@cache
def _operation_schema(op: str) -> dict[str, Any]:
    rule = next(
        r["then"] for r in SCHEMA["allOf"] if r["if"]["properties"]["operation"]["const"] == op
    )
    fields = [f for f in rule["propertyNames"]["enum"] if f != "operation"]
    return {
        "type": "object",
        "properties": {
            "operation": {"const": op},
            **{f: copy.deepcopy(SCHEMA["properties"][f]) for f in fields},
        },
        "required": ["operation", *rule["required"]],
        "additionalProperties": False,
        "$defs": SCHEMA.get("$defs", {}),
    }


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A strategy for values that (mostly) satisfy `schema`, for the keywords the tool uses."""
    if "$ref" in schema:
        return from_schema(SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[1]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([from_schema(s) for s in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum")
        if kind == "integer":
            return st.integers(min_value=low, max_value=high)
        return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)
    if kind == "string":
        size = {"min_size": schema.get("minLength", 0), "max_size": schema.get("maxLength", 80)}
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True).filter(
                lambda t: size["min_size"] <= len(t) <= size["max_size"]
            )
        return st.text(min_size=size["min_size"], max_size=min(size["max_size"], 200))
    if kind == "array":
        items = from_schema(schema.get("items", {}))
        return st.lists(items, max_size=min(schema.get("maxItems", 4), 4))
    if kind == "object" and "properties" in schema:
        required = set(schema.get("required", ()))
        props = {k: from_schema(v) for k, v in schema["properties"].items()}
        return st.fixed_dictionaries(
            {k: v for k, v in props.items() if k in required},
            optional={k: v for k, v in props.items() if k not in required},
        )
    if kind == "object":
        values = from_schema(schema.get("additionalProperties") or {"type": "string"})
        return st.dictionaries(
            st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,15}", fullmatch=True), values, max_size=3
        )
    return JSON


@cache
def _strategy(op: str) -> st.SearchStrategy[Any]:
    return from_schema(_operation_schema(op))


def _steer(call: dict[str, Any]) -> dict[str, Any]:
    """Keeps a valid call cheap and harmless (see the module docstring)."""
    out = dict(call)
    for key in REFERENCES:
        if isinstance(out.get(key), str):
            out[key] = f"h12-fuzz-{out[key]}"[:60].rstrip(".-_") or "h12-fuzz"
    if out["operation"] == "create":
        out["image"] = "localhost/h12-fuzz/absent:none"
        out.pop("purpose", None)  # a purpose would build its image
        out.pop("keep_command", None)
    return out


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
HOSTILE = st.sampled_from(
    ["x" * 200_000, "\n\r\t", "%2e", "/" + "a" * 50_000, "/proc/1/root", "../../etc", "\x00"]
)


@st.composite
def calls(draw: st.DrawFn) -> dict[str, Any]:
    op = draw(st.sampled_from(OPERATIONS))
    call = _steer(draw(_strategy(op)))
    mutation = draw(st.sampled_from(["none", "value", "hostile", "unknown", "deep"]))
    fields = sorted(set(_operation_schema(op)["properties"]) - {"operation"})
    if mutation in ("value", "hostile") and fields:
        field = draw(st.sampled_from(fields))
        call[field] = draw(JSON if mutation == "value" else HOSTILE)
    elif mutation == "unknown":
        call[draw(st.text(min_size=1, max_size=30))] = draw(JSON)
    elif mutation == "deep":
        value: Any = "x"
        for _ in range(draw(st.integers(min_value=30, max_value=3000))):
            value = [value]
        call[draw(st.sampled_from(fields or ["operation"]))] = value
    return _steer(call) if mutation != "none" else call


@pytest.fixture(scope="module")
def fuzz_tool(engine: str) -> Iterator[ContainersTool]:
    # Pulling off: a create that gets past validation stops at the missing image.
    # Its own tenant: resolve_agent in auto mode makes persistent containers, which session
    # cleanup keeps; destroy_all without a session removes everything of the tenant.
    with ContainersTool(
        Settings(runtime=engine, pull="never", tenant=f"{TEST_SESSION}-fuzz"),
        session_id=f"{TEST_SESSION}-fuzz-{engine}",
    ) as tool:
        yield tool
        tool.call("destroy_all", confirm=True)


@settings(
    max_examples=EXAMPLES,
    deadline=5000,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(call=calls())
def test_no_call_gives_internal_an_exception_or_a_huge_result(fuzz_tool, call):
    result = fuzz_tool.call_dict(call)
    assert isinstance(result, dict)
    assert result.get("ok") in (True, False), result
    if not result["ok"]:
        assert result["error"]["code"] != "internal", (call, result)
    assert len(json.dumps(result)) <= RESULT_LIMIT, call["operation"]
    assert not list(Path(tempfile.gettempdir()).glob("h12-fuzz-*"))
