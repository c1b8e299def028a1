"""A minimal adapter for a Python agent loop: a model's tool call in, the tool's JSON result out.

```python
from containers_tool.adapter import handle_tool_call, result_message
from containers_tool.formats import openai_tool

response = client.chat.completions.create(model=..., messages=messages, tools=[openai_tool()])
for call in response.choices[0].message.tool_calls or []:
    result = handle_tool_call(call.model_dump())
    messages.append(result_message(call.model_dump(), result))
```
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from containers_tool.api import ContainersTool, default_tool
from containers_tool.envelope import fail
from containers_tool.errors import InvalidInputError
from containers_tool.formats import TOOL_NAME, from_strict_arguments


def _name_and_arguments(call: Mapping[str, Any]) -> tuple[str | None, Any]:
    if isinstance(call.get("function"), Mapping):  # OpenAI Chat Completions
        inner = call["function"]
        return inner.get("name"), inner.get("arguments")
    if "input" in call:  # Anthropic tool_use block
        return call.get("name"), call["input"]
    if "arguments" in call:  # OpenAI Responses function_call, and most other frameworks
        return call.get("name"), call["arguments"]
    return TOOL_NAME, call  # the tool's own arguments: {"operation": ..., ...}


def handle_tool_call(
    call: Mapping[str, Any], tool: ContainersTool | None = None
) -> dict[str, object]:
    """Runs one tool call taken from a model's response; never raises.

    Args:
        call: An OpenAI Chat Completions tool call, an OpenAI Responses `function_call`, an
            Anthropic `tool_use` block, `{"name", "arguments"}`, or the bare arguments.
            Arguments may be a JSON string or an object, in the tool's own shape or the
            OpenAI strict-mode shape (`formats.openai_tool(strict=True)`).
        tool: The tool instance (and session) to run in; the process-wide one when omitted.

    Returns:
        The envelope: `{"ok": true, ...}` or `{"ok": false, "error": {...}}`.
    """
    name, arguments = _name_and_arguments(call)
    if name != TOOL_NAME:
        return fail(
            "unknown",
            InvalidInputError(
                f"Unknown tool {name!r}.", hint=f"Call the {TOOL_NAME!r} tool.", field=None
            ),
        )
    if isinstance(arguments, str | bytes):
        try:
            arguments = json.loads(arguments or "{}")
        except json.JSONDecodeError:
            arguments = None
    if not isinstance(arguments, Mapping):
        return fail(
            "unknown",
            InvalidInputError(
                "The tool call's arguments are not a JSON object.",
                hint='Send {"operation": ..., <fields>} as the arguments.',
                field=None,
            ),
        )
    return (tool or default_tool()).call_dict(from_strict_arguments(arguments))


def result_message(call: Mapping[str, Any], result: dict[str, object]) -> dict[str, Any]:
    """Returns the message or block that hands `result` back to the model, in `call`'s format."""
    text = json.dumps(result, ensure_ascii=False)
    failed = result.get("ok") is not True
    if isinstance(call.get("function"), Mapping):
        return {"role": "tool", "tool_call_id": call.get("id"), "content": text}
    if call.get("type") == "tool_use":
        return {
            "type": "tool_result",
            "tool_use_id": call.get("id"),
            "content": text,
            "is_error": failed,
        }
    if call.get("type") == "function_call":
        return {"type": "function_call_output", "call_id": call.get("call_id"), "output": text}
    return {"content": text, "is_error": failed}
