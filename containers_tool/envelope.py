"""Result envelopes and bounded output: everything an LLM reads passes through here."""

from __future__ import annotations

from dataclasses import dataclass

from containers_tool.errors import ToolError

#: Default bytes kept of one output stream (head and tail together).
DEFAULT_OUTPUT_LIMIT = 16_000


#: The hint of a result whose output was cut (exec and session exec).
TRUNCATED_HINT = "Output was cut (head and tail kept); redirect to a file and read parts of it."


def ok(operation: str, payload: dict[str, object]) -> dict[str, object]:
    """Builds a success envelope: `{"ok": true, "operation": ..., **payload}`."""
    return {"ok": True, "operation": operation, **payload}


#: Characters kept of an error's message or hint, and of caller input a message echoes.
ERROR_TEXT_LIMIT = 4000
ECHO_LIMIT = 120


def clip(text: str, limit: int = ECHO_LIMIT) -> str:
    """Returns `text` cut to `limit` characters (an ellipsis marks the cut)."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def fail(operation: str, error: ToolError) -> dict[str, object]:
    """Builds a failure envelope from a ToolError; every text in it is bounded.

    Messages echo caller input (names, paths, values); a message built from a 200,000-character
    input must not hand all of it back.
    """
    body = error.to_dict()
    for key in ("message", "hint"):
        body[key] = clip(str(body[key] or ""), ERROR_TEXT_LIMIT)
    if body["field"] is not None:
        body["field"] = clip(str(body["field"]))
    return {"ok": False, "operation": clip(operation), "error": body}


@dataclass(frozen=True, slots=True)
class Bounded:
    """Text cut to a limit, keeping head and tail."""

    text: str
    truncated: bool
    total_bytes: int


def bounded(data: bytes, limit: int = DEFAULT_OUTPUT_LIMIT) -> Bounded:
    """Decodes `data`, keeping at most `limit` bytes: the head and the tail, with a marker between.

    Args:
        data: Raw output bytes.
        limit: Bytes to keep in all; half from the start, half from the end.

    Returns:
        The text, whether it was cut, and the full size in bytes.
    """
    total = len(data)
    if total <= limit:
        return Bounded(data.decode("utf-8", "replace"), False, total)
    half = max(limit // 2, 1)
    head = data[:half].decode("utf-8", "ignore")
    tail = data[-half:].decode("utf-8", "ignore")
    omitted = total - 2 * half
    return Bounded(f"{head}\n… [{omitted:,} bytes omitted] …\n{tail}", True, total)


_SILENT = Bounded("", False, 0)


class HeadTail:
    """Keeps the head and tail of a stream without holding all of it (bounded memory).

    Args:
        limit: Bytes to keep in all; half from the start, half from the end.
    """

    __slots__ = ("_half", "_head", "_tail", "total")

    def __init__(self, limit: int = DEFAULT_OUTPUT_LIMIT) -> None:
        self._half = max(limit // 2, 1)
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0

    def add(self, chunk: bytes) -> None:
        """Appends a chunk of the stream."""
        self.total += len(chunk)
        room = self._half - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self._tail += chunk
            if len(self._tail) > 2 * self._half:
                del self._tail[: len(self._tail) - self._half]

    def result(self) -> Bounded:
        """Returns the kept text, with a marker where bytes were dropped."""
        if not self.total:  # most commands say nothing on one stream or the other
            return _SILENT
        tail = (
            bytes(self._tail[-self._half :]) if self.total > 2 * self._half else bytes(self._tail)
        )
        kept = len(self._head) + len(tail)
        if kept >= self.total:
            return Bounded((bytes(self._head) + tail).decode("utf-8", "replace"), False, self.total)
        head = bytes(self._head).decode("utf-8", "ignore")
        omitted = self.total - kept
        tail_text = tail.decode("utf-8", "ignore")
        return Bounded(f"{head}\n… [{omitted:,} bytes omitted] …\n{tail_text}", True, self.total)
