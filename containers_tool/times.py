"""One time format in every result: ISO 8601 in UTC to the second, `2026-01-31T12:00:00Z`."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_FRACTION = re.compile(r"(\.\d+)")


def now_iso() -> str:
    """The current time in the results' format."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso(value: object) -> str | None:
    """Any time an engine or the tool wrote (epoch seconds, ISO with an offset or with
    nanoseconds and Z) in the results' format; None for none or an unparsable one."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        seconds = float(value)
        return None if seconds <= 0 else _fmt(datetime.fromtimestamp(seconds, UTC))
    text = _FRACTION.sub("", str(value).strip()).replace("Z", "+00:00")
    if text.startswith("0001-01-01"):  # Go's zero time: never
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return _fmt(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))


def _fmt(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
