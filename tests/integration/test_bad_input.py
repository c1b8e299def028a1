"""Hostile input gets a bounded, structured error on both engines, never `internal`."""

from __future__ import annotations

import json

import pytest


def _nested(depth: int) -> list[object]:
    top: list[object] = []
    cur = top
    for _ in range(depth):
        nxt: list[object] = []
        cur.append(nxt)
        cur = nxt
    return top


def _bounded_error(result, code="invalid_input"):
    assert result["ok"] is False, result
    assert result["error"]["code"] == code, result
    assert len(json.dumps(result)) < 8_000, "caller input is not echoed whole"


def test_deeply_nested_values_are_invalid_input(tool):
    _bounded_error(tool.call("create", env={"A": _nested(5_000)}))
    _bounded_error(tool.call("exec", container="x", command=_nested(5_000)))


def test_a_huge_unknown_operation_or_field_is_not_echoed_whole(tool):
    _bounded_error(tool.call("x" * 200_000))
    _bounded_error(tool.call("list", **{"y" * 200_000: 1}))
    _bounded_error(tool.call("create", memory_limit="9" * 100_000))


@pytest.mark.parametrize("container", ["\n\r\t", "%2e", "a?b#c", "../x"])
def test_container_names_that_no_engine_accepts_are_invalid_input(tool, container):
    for operation in ("destroy", "status", "exec"):
        extra = {"command": "true"} if operation == "exec" else {}
        got = tool.call(operation, container=container, **extra)
        _bounded_error(got)
        assert got["error"]["field"] == "container", got
