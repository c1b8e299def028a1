"""Tool definitions in MCP, Anthropic and OpenAI shapes, and the agent-loop adapter (no engine)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import mcp_types
import pytest

from containers_tool import ContainersTool
from containers_tool.adapter import handle_tool_call, result_message
from containers_tool.cli.main import main
from containers_tool.formats import (
    FORMATS,
    anthropic_tool,
    from_strict_arguments,
    mcp_tool,
    openai_tool,
    render,
)
from containers_tool.handlers import OPERATIONS
from containers_tool.schema import build_schema, validator

NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # both APIs' rule for tool names
TOP_LEVEL_REFUSED = {"anyOf", "allOf", "oneOf", "not", "if", "then", "else", "enum", "$ref"}
# The subset of JSON Schema OpenAI's strict mode accepts (Structured Outputs, "Supported schemas").
OPENAI_STRICT_KEYWORDS = {
    "type",
    "description",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "anyOf",
    "$ref",
    "$defs",
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
OFFLINE = {"docker_host": "unix:///nonexistent/docker.sock", "runtime": "docker"}
# Calls the full tool-schema.json accepts; every agent-facing form must accept them too.
VALID_CALLS: list[dict[str, Any]] = [
    {"operation": "preflight"},
    {
        "operation": "create",
        "name": "api-1",
        "image": "localhost/base/busybox:latest",
        "env": {"A": "1"},
        "ports": [{"container": 80}],
        "mounts": [{"source": "/tmp", "target": "/data", "read_only": True}],
        "persistent": True,
    },
    {"operation": "exec", "container": "api-1", "command": ["ls", "-la"], "timeout": 5},
    {"operation": "exec", "container": "api-1", "command": "echo hi"},
    {"operation": "destroy_all", "confirm": True},
]


@pytest.fixture
def offline_tool():
    with ContainersTool(reap_on_exit=False, **OFFLINE) as tool:
        yield tool


def _top_level_ok(schema: dict[str, Any]) -> None:
    assert schema["type"] == "object"
    assert not TOP_LEVEL_REFUSED & set(schema), "top-level combinators are refused by the APIs"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["operation"]["enum"] == sorted(OPERATIONS)


def _walk(node: Any, depth: int = 0) -> Iterator[tuple[dict[str, Any], int]]:
    if isinstance(node, dict):
        yield node, depth
        for key, value in node.items():
            if key in ("properties", "$defs"):
                for sub in value.values():
                    yield from _walk(sub, depth + 1)
            elif key in ("items", "additionalProperties") and isinstance(value, dict):
                yield from _walk(value, depth + 1)
            elif key == "anyOf":
                for sub in value:
                    yield from _walk(sub, depth)


def test_every_format_is_a_valid_object_schema_without_top_level_combinators():
    assert set(FORMATS) == {"json-schema", "mcp", "anthropic", "openai", "openai-strict"}
    _top_level_ok(mcp_tool()["inputSchema"])
    _top_level_ok(anthropic_tool()["input_schema"])
    _top_level_ok(openai_tool()["function"]["parameters"])
    _top_level_ok(openai_tool(strict=True)["function"]["parameters"])
    assert render("json-schema") == build_schema()


def test_mcp_form_is_an_sdk_tool():
    form = mcp_tool()
    tool = mcp_types.Tool.model_validate(form)
    assert tool.name == "containers"
    assert tool.input_schema["type"] == "object"
    assert NAME.match(form["name"])


def test_anthropic_form_has_the_messages_api_tool_shape():
    form = anthropic_tool()
    assert set(form) == {"name", "description", "input_schema"}
    assert NAME.match(form["name"])
    assert isinstance(form["description"], str)
    assert form["description"]


def test_openai_form_has_the_function_tool_shape_and_is_not_strict():
    form = openai_tool()
    assert form["type"] == "function"
    assert set(form["function"]) == {"name", "description", "parameters", "strict"}
    assert NAME.match(form["function"]["name"])
    assert form["function"]["strict"] is False


def test_openai_strict_form_meets_strict_mode_rules():
    form = openai_tool(strict=True)
    assert form["function"]["strict"] is True
    params = form["function"]["parameters"]
    nodes = list(_walk(params))
    assert max(depth for _, depth in nodes) <= 10
    assert sum(len(n.get("properties", {})) for n, _ in nodes) <= 5000
    for node, _ in nodes:
        extra = set(node) - OPENAI_STRICT_KEYWORDS
        assert not extra, f"strict mode refuses {extra} in {node}"
        types = node.get("type")
        if types == "object" or (isinstance(types, list) and "object" in types):
            assert "properties" in node, f"strict mode has no free-form objects: {node}"
        if "properties" in node:
            assert node["additionalProperties"] is False
            assert node["required"] == list(node["properties"])
        assert len(node.get("enum", [])) <= 1000


@pytest.mark.parametrize("call", VALID_CALLS, ids=lambda c: c["operation"])
def test_agent_forms_accept_what_the_tool_schema_accepts(call):
    assert not list(validator().iter_errors(call))
    for schema in (mcp_tool()["inputSchema"], anthropic_tool()["input_schema"]):
        jsonschema.validate(call, schema)


def test_agent_forms_refuse_unknown_fields():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"operation": "list", "colour": "red"}, mcp_tool()["inputSchema"])


def test_strict_mode_arguments_decode_to_valid_tool_arguments():
    params = openai_tool(strict=True)["function"]["parameters"]
    # What a strict-mode model sends: every field, null where unused, maps as pairs.
    call = dict.fromkeys(params["properties"])
    call |= {
        "operation": "create",
        "name": "api-1",
        "env": [{"name": "A", "value": "1"}],
        "ports": [{"container": 80, "host": None, "protocol": None}],
    }
    jsonschema.validate(call, params)
    decoded = from_strict_arguments(call)
    assert decoded == {
        "operation": "create",
        "name": "api-1",
        "env": {"A": "1"},
        "ports": [{"container": 80}],
    }
    assert not list(validator().iter_errors(decoded))


def test_tool_shaped_arguments_pass_through_the_strict_decoder_unchanged():
    for call in VALID_CALLS:
        assert from_strict_arguments(call) == call


@pytest.mark.parametrize("fmt", FORMATS)
def test_cli_prints_each_format(fmt, capsys):
    assert main(["schema", "--format", fmt]) == 0
    assert json.loads(capsys.readouterr().out) == render(fmt)


def test_adapter_runs_openai_anthropic_and_plain_calls(offline_tool):
    bad_op = {"operation": "explode"}
    calls = [
        {"id": "c1", "type": "function", "function": {"name": "containers", "arguments": "{}"}},
        {"type": "function_call", "call_id": "c2", "name": "containers", "arguments": "{}"},
        {"type": "tool_use", "id": "c3", "name": "containers", "input": {}},
        {},
    ]
    for call in calls:
        result = handle_tool_call(call, offline_tool)
        assert result["ok"] is False
        assert result["error"]["code"] == "invalid_input"
        assert result["error"]["field"] == "operation"
    assert handle_tool_call(bad_op, offline_tool)["error"]["field"] == "operation"


def test_adapter_decodes_strict_arguments_before_validation(offline_tool):
    args = {"operation": "exec", "container": None, "command": "ls", "env": [], "timeout": None}
    call = {"function": {"name": "containers", "arguments": json.dumps(args)}}
    result = handle_tool_call(call, offline_tool)
    assert result["error"]["code"] == "invalid_input"
    assert result["error"]["field"] == "container"  # null dropped, so it is missing


def test_adapter_refuses_other_tools_and_non_object_arguments(offline_tool):
    other = handle_tool_call({"name": "bash", "arguments": "{}"}, offline_tool)
    assert other["error"]["code"] == "invalid_input"
    broken = handle_tool_call({"name": "containers", "arguments": "{not json"}, offline_tool)
    assert broken["error"]["code"] == "invalid_input"


def test_result_message_matches_the_calls_framework():
    failed: dict[str, object] = {"ok": False, "operation": "list", "error": {}}
    chat = result_message({"id": "c1", "function": {}}, failed)
    assert chat["role"] == "tool"
    assert chat["tool_call_id"] == "c1"
    anthropic = result_message({"type": "tool_use", "id": "c3"}, failed)
    assert anthropic["type"] == "tool_result"
    assert anthropic["tool_use_id"] == "c3"
    assert anthropic["is_error"] is True
    responses = result_message({"type": "function_call", "call_id": "c2"}, failed)
    assert responses["type"] == "function_call_output"
    assert responses["call_id"] == "c2"
    assert json.loads(responses["output"]) == failed
