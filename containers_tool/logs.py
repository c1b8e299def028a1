"""Structured log events: one line each, JSON or plain text (setting `log_format`).

Events go to the `containers_tool` logger with a name (`operation.completed`,
`container.create.failed`, `container.expired`, `container.reaped`, ...) and fields (operation,
container, session, duration_ms, error_code, ...). Callers pass only names, ids, counts, times and
error codes: never an argument's value (env, command, file content), which may be a secret. The
CLI and the MCP server install the handler (`configure`); a program embedding the tool can use
`JsonFormatter` with its own logging set-up.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from containers_tool.settings import Settings

LOGGER = "containers_tool"
log = logging.getLogger(LOGGER)
#: The key under which `event` passes its fields on a LogRecord.
FIELDS = "ct_fields"
EVENT = "ct_event"


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Logs one structured event; fields whose value is None are left out."""
    if log.isEnabledFor(level):
        kept = {k: v for k, v in fields.items() if v is not None}
        log.log(level, name, extra={EVENT: name, FIELDS: kept})


def _payload(record: logging.LogRecord) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname.lower(),
        "event": getattr(record, EVENT, None) or "log",
    }
    fields = getattr(record, FIELDS, None)
    if fields:
        payload.update(fields)
    else:
        payload["message"] = record.getMessage()
    payload["logger"] = record.name
    if record.exc_info:
        payload["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        payload["traceback"] = logging.Formatter().formatException(record.exc_info)
    return payload


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, event, the event's fields, logger."""

    def format(self, record: logging.LogRecord) -> str:
        """Formats a record as one line of JSON."""
        return json.dumps(_payload(record), ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`<ts> <level> <event> key=value ...` for humans."""

    def format(self, record: logging.LogRecord) -> str:
        """Formats a record as one line of text."""
        payload = _payload(record)
        head = f"{payload.pop('ts')} {payload.pop('level').upper()} {payload.pop('event')}"
        payload.pop("logger")
        trace = payload.pop("traceback", None)
        text = " ".join([head, *(f"{k}={v}" for k, v in payload.items())])
        return f"{text}\n{trace}" if trace else text


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The tool's own handler, told apart so `configure` replaces it instead of adding one."""


def configure(settings: Settings) -> None:
    """Sends the tool's log events to stderr in the configured format and level."""
    handler = _Handler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    for old in [h for h in log.handlers if isinstance(h, _Handler)]:
        log.removeHandler(old)
    log.addHandler(handler)
    log.setLevel(settings.log_level.upper())
    log.propagate = False
