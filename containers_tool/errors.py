"""The only exceptions handlers raise: one class per error code of the envelope."""

from __future__ import annotations

from typing import ClassVar, Literal

ErrorCode = Literal[
    "invalid_input",
    "not_found",
    "conflict",
    "runtime_unavailable",
    "timeout",
    "policy_denied",
    "quota_exceeded",
    "build_failed",
    "engine_error",
    "internal",
]


class ToolError(Exception):
    """An error the agent can act on: a code, one sentence, a hint, and the offending field.

    Args:
        message: One sentence in the caller's terms.
        hint: What to do next (the call to make or the value to change).
        field: The input field at fault, if any.
    """

    code: ClassVar[ErrorCode] = "internal"

    def __init__(self, message: str, *, hint: str = "", field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.field = field

    def to_dict(self) -> dict[str, object]:
        """Returns the `error` object of a failure envelope."""
        return {"code": self.code, "message": self.message, "hint": self.hint, "field": self.field}


class InvalidInputError(ToolError, ValueError):
    code = "invalid_input"


class NotFoundError(ToolError, LookupError):
    code = "not_found"


class ConflictError(ToolError):
    code = "conflict"


class RuntimeUnavailableError(ToolError, ConnectionError):
    code = "runtime_unavailable"


class OperationTimeoutError(ToolError, TimeoutError):
    code = "timeout"


class PolicyDeniedError(ToolError, PermissionError):
    code = "policy_denied"


class QuotaExceededError(ToolError):
    code = "quota_exceeded"


class BuildFailedError(ToolError):
    code = "build_failed"


class EngineError(ToolError):
    code = "engine_error"


class InternalError(ToolError):
    code = "internal"
