from __future__ import annotations

from containers_tool.envelope import HeadTail, bounded, fail, ok
from containers_tool.errors import NotFoundError


def test_ok_envelope_carries_operation_and_payload():
    assert ok("list", {"containers": []}) == {"ok": True, "operation": "list", "containers": []}


def test_fail_envelope_has_code_message_hint_field():
    err = NotFoundError("No managed container named 'x'.", hint="Call list.", field="container")
    result = fail("exec", err)
    assert result["ok"] is False
    assert result["error"] == {
        "code": "not_found",
        "message": "No managed container named 'x'.",
        "hint": "Call list.",
        "field": "container",
    }


def test_bounded_keeps_short_output_whole():
    result = bounded(b"hello")
    assert (result.text, result.truncated, result.total_bytes) == ("hello", False, 5)


def test_bounded_keeps_head_and_tail_and_reports_size():
    data = b"A" * 1000 + b"B" * 1000
    result = bounded(data, limit=100)
    assert result.truncated
    assert result.total_bytes == 2000
    assert result.text.startswith("A" * 50)
    assert result.text.endswith("B" * 50)
    assert "1,900 bytes omitted" in result.text


def test_headtail_matches_bounded_for_any_chunking():
    data = bytes(range(256)) * 50
    for chunk in (1, 7, 100, 5000):
        acc = HeadTail(limit=300)
        for i in range(0, len(data), chunk):
            acc.add(data[i : i + chunk])
        assert acc.result() == bounded(data, limit=300)


def test_headtail_without_truncation_keeps_everything():
    acc = HeadTail(limit=100)
    for part in (b"abc", b"def" * 10):
        acc.add(part)
    assert acc.result().text == "abc" + "def" * 10
    assert not acc.result().truncated


def test_bounded_never_splits_into_invalid_text():
    data = "é".encode() * 500
    result = bounded(data, limit=101)
    assert "\ufffd" not in result.text
