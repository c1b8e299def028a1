"""Session protocol pieces without an engine: end markers split across frames, quoting."""

from __future__ import annotations

from containers_tool.core.shells import MarkedStream, command_line, env_prefix, marker, quote


def _feed_all(stream: MarkedStream, data: bytes, size: int) -> bytes:
    leftover = b""
    for i in range(0, len(data), size):
        leftover += stream.feed(data[i : i + size])
    return leftover


def test_marker_split_across_every_frame_boundary_is_found():
    token = marker("0123456789abcdef")
    data = b"hello\nworld" + token + b" 3 /tmp/a b\n" + b"next"
    for size in range(1, len(data) + 1):
        stream = MarkedStream(token, 1000)
        leftover = _feed_all(stream, data, size)
        assert stream.trailer == b" 3 /tmp/a b", size
        assert stream.result().text == "hello\nworld"
        assert leftover == b"next"


def test_output_without_a_marker_is_kept_whole_when_flushed():
    stream = MarkedStream(marker("ff"), 1000)
    stream.feed(b"partial \x1eC")
    assert stream.trailer is None
    assert stream.result().text == "partial \x1eC"


def test_long_output_is_bounded_with_its_full_size():
    token = marker("aa")
    stream = MarkedStream(token, 100)
    body = b"".join(b"%d\n" % i for i in range(1, 100001))
    _feed_all(stream, body + token + b" 0 /\n", 4096)
    result = stream.result()
    assert (result.truncated, result.total_bytes) == (True, len(body))
    assert result.text.startswith("1\n2\n")
    assert result.text.endswith("99999\n100000\n")


def test_command_is_one_quoted_word_whatever_it_holds():
    line = command_line("echo 'a b'\nexit 3", "n1")
    assert line == b"__ct_go 'echo '\\''a b'\\''\nexit 3' n1\n"
    assert command_line("   ", "n2") == b"__ct_go ':' n2\n"
    assert quote("it's") == "'it'\\''s'"


def test_env_and_workdir_become_export_and_cd():
    assert env_prefix({"A": "x y"}, "/tmp") == "export A='x y'\ncd -- '/tmp' || return\n"
    assert env_prefix({}, None) == ""
