"""The operation registry: each handler module registers its operations with `@operation`.

Handlers import only this module (and the context, models and core they use), never the
dispatcher or the schema, so registration has no import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from containers_tool.context import Context

M = TypeVar("M", bound=BaseModel)
Handler = Callable[[Any, "Context"], dict[str, object]]


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation: its name, input model and handler."""

    name: str
    model: type[BaseModel]
    handler: Handler


#: Every registered operation by name; filled when `containers_tool.handlers` is imported.
OPERATIONS: dict[str, Operation] = {}


def operation(
    name: str, model: type[M]
) -> Callable[[Callable[[M, Context], dict[str, object]]], Handler]:
    """Registers a handler for `name`, taking `model` as input.

    Args:
        name: The operation's name, as callers pass it in `operation`.
        model: The pydantic model its fields are validated into.

    Returns:
        A decorator that records the handler and returns it unchanged.
    """

    def register(fn: Callable[[M, Context], dict[str, object]]) -> Handler:
        OPERATIONS[name] = Operation(name, model, fn)
        return fn

    return register
