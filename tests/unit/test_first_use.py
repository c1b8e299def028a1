"""A new user's rough edges, without an engine: validation messages, shorthands, purpose files."""

from __future__ import annotations

from pathlib import Path

import pytest

from containers_tool.context import Context
from containers_tool.core.create_options import normalize
from containers_tool.dispatch import dispatch
from containers_tool.errors import InvalidInputError
from containers_tool.models.lifecycle import CreateInput
from containers_tool.provision.purposes import load_file
from containers_tool.settings import Settings


@pytest.fixture
def ctx() -> Context:
    return Context(Settings(), "h11-unit")


def _error(ctx: Context, **call: object) -> dict[str, object]:
    result = dispatch(ctx, call)
    assert result["ok"] is False, result
    error = result["error"]
    assert isinstance(error, dict)
    assert error["code"] == "invalid_input"
    return error


def test_a_range_error_states_the_range_not_jsonschema(ctx):
    error = _error(ctx, operation="exec", container="x", command="ls", timeout=99999)
    assert error["field"] == "timeout"
    assert "≤ 86400" in error["message"]
    assert "any of the given schemas" not in error["message"]


def test_an_enum_error_lists_the_allowed_values(ctx):
    error = _error(ctx, operation="create", env_passthrough="some")
    assert '"auto", "none", "all"' in error["message"]


def test_a_type_error_names_the_type(ctx):
    error = _error(ctx, operation="create", memory_limit=5)
    assert "must be a string" in error["message"]


def test_a_missing_nested_key_names_its_full_path(ctx):
    error = _error(ctx, operation="create", ports=[{"host": 18080}])
    assert error["field"] == "ports[0].container"
    assert "ports[0]" in error["message"]
    assert "container (required)" in error["hint"]


def test_a_bad_nested_value_names_its_full_path_and_rule(ctx):
    error = _error(ctx, operation="create", ports=[{"container": 99999}])
    assert error["field"] == "ports[0].container"
    assert "from 1 to 65535" in error["message"]


def test_unknown_operations_and_fields_get_did_you_mean(ctx):
    assert "Did you mean 'create'?" in str(_error(ctx, operation="creat")["hint"])
    assert "Did you mean 'purpose'?" in str(_error(ctx, operation="create", purpse="x")["hint"])


def test_a_purpose_file_error_lists_every_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: bad\nimage: ''\nresources: {cpus: -1, pids: 0}\nbogus: 1\n", encoding="utf-8"
    )
    with pytest.raises(InvalidInputError) as caught:
        load_file(path)
    message = caught.value.message
    for where in ("description", "image", "probe", "resources.cpus", "resources.pids", "bogus"):
        assert where in message, where
    assert "validation errors" not in message


def test_as_root_is_user_root_and_refuses_another_user():
    assert normalize(CreateInput(as_root=True)).user == "0:0"
    with pytest.raises(InvalidInputError) as caught:
        normalize(CreateInput(as_root=True, user="1000:1000"))
    assert caught.value.field == "as_root"


def test_amplifier_fields_need_the_amplifier_purpose():
    for field in ("amplifier_version", "amplifier_bundle"):
        with pytest.raises(InvalidInputError) as caught:
            normalize(CreateInput(purpose="python", **{field: "x"}))
        assert caught.value.field == field


def test_amplifier_bundle_becomes_a_quoted_setup_command_after_the_callers():
    args = normalize(
        CreateInput(purpose="amplifier", amplifier_bundle="git+https://h/b;x", setup_commands=["a"])
    )
    assert args.setup_commands[0] == "a"
    assert "bundle add 'git+https://h/b;x' --name ct-bundle" in args.setup_commands[1]


def test_mcp_lifetime_note_names_the_http_idle_timeout_and_skips_persistent():
    from containers_tool.mcp.server import lifetime_note

    made = {"ok": True, "operation": "create", "container": "c", "persistent": False}
    assert "after 1800 s without a request" in str(lifetime_note(made, True, 1800)["lifetime"])
    assert "lifetime" not in lifetime_note({**made, "persistent": True}, True, 1800)
    assert "lifetime" not in lifetime_note({"ok": True, "operation": "exec"}, True, 1800)


def test_readme_mcp_example_passes_the_config_through_env():
    import json
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```json\n(.*?)```", readme, re.S) if "mcpServers" in b)
    server = json.loads(block)["mcpServers"]["containers"]
    assert "CONTAINERS_TOOL_CONFIG" in server["env"]


def test_iso_turns_every_engine_time_into_one_form():
    from containers_tool.times import iso, now_iso

    want = "2026-01-31T12:00:00Z"
    assert iso("2026-01-31T12:00:00.123456789Z") == want  # Docker, nanoseconds
    assert iso("2026-01-31T13:00:00+01:00") == want  # an offset
    assert iso(1769860800) == want  # epoch seconds (Podman lists, job files)
    assert iso("1769860800") == want
    assert iso("0001-01-01T00:00:00Z") is None  # Go's zero time: never
    assert iso(None) is None
    assert iso(now_iso()) == now_iso() or iso(now_iso()) is not None
