"""CLI helpers that look past one engine or one typo: list on every engine, did-you-mean."""

from __future__ import annotations

import argparse
import re
from typing import Any, NoReturn

from containers_tool.api import ContainersTool
from containers_tool.rules import suggest

ENGINES = ("docker", "podman")


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose unknown-choice errors suggest the closest choice."""

    def error(self, message: str) -> NoReturn:
        """Prints usage and the error (with a did-you-mean), exits 2."""
        found = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if found:
            choices = re.findall(r"'([^']*)'", found.group(2))
            message = f"unknown command {found.group(1)!r}.{suggest(found.group(1), choices)}"
        super().error(message)


def list_all_engines(tool: ContainersTool, fields: dict[str, Any]) -> dict[str, Any]:
    """`list` on every engine that answers (a user has containers on both), one table.

    Args:
        tool: The CLI's tool (its settings; its own engine is one of those asked).
        fields: The list operation's fields.

    Returns:
        One list envelope with a `runtime` per row; the first error when no engine answers.
    """
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    first_error: dict[str, Any] | None = None
    settings = tool.context.settings
    for engine in ENGINES:
        other = settings.model_copy(update={"runtime": engine})
        with ContainersTool(other, session_id=tool.session_id, reap_on_exit=False) as each:
            result: dict[str, Any] = each.call("list", **fields)
        if not result.get("ok"):
            first_error = first_error or result
            notes.append(f"{engine}: {result['error']['message']}")
            continue
        rows += [{**row, "runtime": engine} for row in result["containers"]]
    if not rows and first_error is not None and len(notes) == len(ENGINES):
        return first_error
    return {"ok": True, "operation": "list", "containers": rows, "count": len(rows), "notes": notes}
