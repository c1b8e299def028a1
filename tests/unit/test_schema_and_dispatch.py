"""The schema and the dispatcher's validation: no engine needed (errors precede any engine call)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from containers_tool import ContainersTool, __all__
from containers_tool.schema import build_schema, op_valid, op_validator, schema_text, validator
from tests.conftest import REPO

CORE_OPERATIONS = (
    "preflight",
    "create",
    "exec",
    "exec_interactive_hint",
    "list",
    "status",
    "destroy",
    "destroy_all",
    "copy_in",
    "copy_out",
)
# Pointing at a runtime that cannot exist proves validation happens before any engine call.
OFFLINE = {"docker_host": "unix:///nonexistent/docker.sock", "runtime": "docker"}


@pytest.fixture
def offline_tool():
    with ContainersTool(reap_on_exit=False, **OFFLINE) as tool:
        yield tool


def test_public_surface_is_pinned():
    assert sorted(__all__) == ["ContainersTool", "acontainers", "containers"]


def test_checked_in_schema_matches_models():
    on_disk = (REPO / "tool-schema.json").read_text(encoding="utf-8")
    assert on_disk == schema_text(), "run: containers-tool schema --write"


def test_schema_is_valid_json_schema_with_core_operations():
    schema = build_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert set(CORE_OPERATIONS) <= set(schema["properties"]["operation"]["enum"])
    for name, prop in schema["properties"].items():
        assert prop.get("description"), f"field {name} has no description"


def test_unknown_operation_names_the_allowed_values(offline_tool):
    result = offline_tool.call("explode")
    assert result["ok"] is False
    assert result["error"]["code"] == "invalid_input"
    assert result["error"]["field"] == "operation"
    assert "exec" in result["error"]["hint"]


def test_unknown_field_is_named_with_allowed_fields(offline_tool):
    result = offline_tool.call("exec", container="x", command="true", colour="red")
    assert result["error"]["code"] == "invalid_input"
    assert result["error"]["field"] == "colour"
    assert "timeout" in result["error"]["hint"]


def test_field_of_another_operation_is_refused(offline_tool):
    result = offline_tool.call("list", command="ls")
    assert result["error"]["field"] == "command"


def test_missing_required_field_is_named(offline_tool):
    result = offline_tool.call("exec", container="x")
    assert result["error"] == result["error"] | {"code": "invalid_input", "field": "command"}


def test_memory_limit_that_is_not_a_size(offline_tool):
    result = offline_tool.call("create", memory_limit="lots")
    assert result["error"]["code"] == "invalid_input"
    assert result["error"]["field"] == "memory_limit"
    assert "512m" in result["error"]["hint"]


def test_wrong_type_is_invalid_input(offline_tool):
    result = offline_tool.call("exec", container="x", command="true", timeout="soon")
    assert (result["error"]["code"], result["error"]["field"]) == ("invalid_input", "timeout")


def test_bad_container_name_is_invalid_input(offline_tool):
    result = offline_tool.call("create", name="bad name; rm -rf /")
    assert (result["error"]["code"], result["error"]["field"]) == ("invalid_input", "name")


def test_reserved_label_key_is_refused(offline_tool):
    result = offline_tool.call("create", labels={"io.containers-tool.session": "x"})
    assert (result["error"]["code"], result["error"]["field"]) in {
        ("invalid_input", "labels"),
        ("runtime_unavailable", None),
    }


def test_engine_down_is_runtime_unavailable_with_a_fix(offline_tool):
    result = offline_tool.call("list")
    assert result["error"]["code"] == "runtime_unavailable"
    assert "preflight" in result["error"]["hint"] or "provision" in result["error"]["hint"]


def test_preflight_reports_not_ready_instead_of_failing(offline_tool):
    result = offline_tool.call("preflight")
    assert result["ok"] is True
    assert result["ready"] is False
    checks = {c["name"]: c for c in result["checks"]}
    assert checks["daemon_running"]["passed"] is False
    assert checks["engine"]["passed"] is False
    assert all(c["fix"] for c in result["checks"] if not c["passed"])


def test_create_fails_with_the_failing_preflight_check_and_its_fix(offline_tool):
    result = offline_tool.call("create", image="x")
    assert result["error"]["code"] == "runtime_unavailable"
    assert "daemon_running" in result["error"]["message"]
    assert result["error"]["hint"]


def test_destroy_all_without_confirm_is_refused(offline_tool):
    result = offline_tool.call("destroy_all")
    assert (result["error"]["code"], result["error"]["field"]) == ("invalid_input", "confirm")


def test_every_result_is_json_serialisable(offline_tool):
    for call in ({"operation": "list"}, {"operation": "nope"}, {"operation": "create", "x": 1}):
        json.dumps(offline_tool.call_dict(call))


def test_non_object_call_is_invalid_input(offline_tool):
    result = offline_tool.call_dict(["exec"])
    assert result["error"]["code"] == "invalid_input"


def test_unknown_key_in_a_nested_item_names_its_path(offline_tool):
    result = offline_tool.call("create", ports=[{"container": 80, "bogus": 1}])
    assert (result["error"]["code"], result["error"]["field"]) == (
        "invalid_input",
        "ports[0].bogus",
    )
    assert "host" in result["error"]["hint"]


AGREEMENT_CALLS = [
    {"operation": "exec", "container": "box", "command": "true", "session": "s"},
    {"operation": "exec", "container": "box", "command": ["ls", "-la"], "timeout": 5},
    {"operation": "exec", "container": "box"},
    {"operation": "exec", "container": "box", "command": "true", "purpose": "python"},
    {"operation": "exec", "container": 3, "command": "true"},
    {"operation": "create", "image": "busybox", "memory_limit": "1g", "ports": [{"container": 80}]},
    {"operation": "create", "ports": [{"container": 80, "bogus": 1}]},
    {"operation": "create", "user": "1000:1000", "env": {"A": "b"}},
    {"operation": "list"},
    {"operation": "list", "container": "x"},
    {"operation": "destroy_all", "confirm": True},
    {"operation": "copy_in", "container": "box", "source": "a", "destination": "/b"},
]


@pytest.mark.parametrize("call", AGREEMENT_CALLS)
def test_the_operation_validator_agrees_with_the_whole_schema(call):
    assert op_validator(call["operation"]).is_valid(call) == validator().is_valid(call)


@pytest.mark.parametrize("call", AGREEMENT_CALLS)
def test_the_field_by_field_check_agrees_with_the_whole_schema_also_when_remembered(call):
    expected = validator().is_valid(call)
    assert [op_valid(call["operation"], call) for _ in range(3)] == [expected] * 3


def test_a_remembered_valid_value_does_not_vouch_for_an_equal_one_of_another_type():
    good = {"operation": "exec", "container": "box", "command": "true", "max_output": 256}
    assert op_valid("exec", good)
    # 256 == 256.0 and 1 == True in Python; the schema wants an integer, and no boolean.
    for bad in (256.5, True, "256"):
        call = good | {"max_output": bad}
        assert op_valid("exec", call) is validator().is_valid(call) is False
    assert op_valid("exec", good | {"command": ["true"]})
    assert not op_valid("exec", good | {"command": [True]})


def test_a_repeated_call_is_answered_as_the_first_and_a_refused_one_stays_refused(offline_tool):
    # The first call validates and is remembered; the rest reuse it, down to the engine error.
    calls = [offline_tool.call("exec", container="box", command="true") for _ in range(3)]
    assert [c["error"]["code"] for c in calls] == ["runtime_unavailable"] * 3
    refused = [
        offline_tool.call("exec", container="box", command="true", timeout=True) for _ in range(3)
    ]
    assert {(r["error"]["code"], r["error"]["field"]) for r in refused} == {
        ("invalid_input", "timeout")
    }
