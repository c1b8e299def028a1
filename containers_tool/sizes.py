"""Parsing of human sizes such as "512m" and "2g"."""

from __future__ import annotations

import re

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(value: str | int) -> int:
    """Returns bytes for `value` ("512m", "2g", "1.5G", or an int of bytes).

    Raises:
        ValueError: `value` is not a size.
    """
    if isinstance(value, int):
        if value <= 0:
            raise ValueError("size must be positive")
        return value
    match = _SIZE_RE.match(value)
    if not match:
        raise ValueError(f"{value[:40]!r} is not a size")
    number, unit = match.groups()
    try:
        size = int(float(number) * _UNITS[unit.lower()])
    except OverflowError:  # "9" * 400 is a float of infinity
        raise ValueError(f"{value[:40]!r} is too large a size") from None
    if size <= 0:
        raise ValueError("size must be positive")
    return size
