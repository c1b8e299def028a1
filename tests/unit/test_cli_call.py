"""`containers-tool call`: anything that is not one JSON object gets a structured invalid_input.

No engine is needed: the engine address points nowhere, so a pass proves the refusal happens
before any engine call.
"""

from __future__ import annotations

import io
import json

import pytest

from containers_tool.cli.main import main


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTAINERS_TOOL_RUNTIME", "docker")
    monkeypatch.setenv("CONTAINERS_TOOL_DOCKER_HOST", "unix:///nonexistent/docker.sock")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[1]", "array"),
        ('"list"', "string"),
        ("42", "number"),
        ("null", "null"),
        ("{", "not JSON"),
    ],
)
def test_call_with_a_non_object_prints_invalid_input_naming_the_problem(
    text: str, named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["call", text]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False
    assert out["error"]["code"] == "invalid_input"
    assert out["error"]["field"] is None
    assert named in out["error"]["message"]
    assert "operation" in out["error"]["hint"]


def test_call_reads_a_non_object_from_stdin_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('["exec"]'))
    assert main(["call", "-"]) == 1
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "invalid_input"
