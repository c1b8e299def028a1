"""Failures of the HTTP connection to an engine (requests/urllib3), shared by both adapters.

The SDK exceptions proper (NotFound, APIError, ...) are translated in each engine module; these
are what is left when the engine never answered: refused, timed out or broken connections.
"""

from __future__ import annotations

import requests.exceptions
import urllib3.exceptions

from containers_tool.errors import (
    EngineError,
    OperationTimeoutError,
    RuntimeUnavailableError,
    ToolError,
)


def transport_error(
    engine: str, subject: str, exc: BaseException, unavailable_hint: str
) -> ToolError:
    """Translates a connection-level failure (an OSError or a requests/urllib3 error).

    A read timeout is `timeout` (the engine took the request but did not answer in time); a
    broken exchange is `engine_error`; anything else, connect timeouts included, means the
    engine is unreachable.
    """
    if isinstance(exc, requests.exceptions.ConnectionError | ConnectionError):
        pass  # a ConnectTimeout is also a Timeout: unreachable, not slow
    elif isinstance(
        exc, requests.exceptions.Timeout | urllib3.exceptions.TimeoutError | TimeoutError
    ):
        return OperationTimeoutError(
            f"{subject}: {engine} did not answer in time.",
            hint="Retry once; if it recurs, call preflight (the engine may be overloaded).",
        )
    elif isinstance(exc, requests.exceptions.RequestException | urllib3.exceptions.HTTPError):
        return EngineError(
            f"{subject}: the connection to {engine} broke ({type(exc).__name__}).",
            hint="Retry once; if it recurs, call preflight.",
        )
    return RuntimeUnavailableError(
        f"{engine} is not reachable ({type(exc).__name__}).", hint=unavailable_hint
    )
