"""Docker SDK errors translated into the tool's error types (docker-py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import docker.errors
import requests.exceptions
import urllib3.exceptions

from containers_tool.errors import (
    ConflictError,
    EngineError,
    NotFoundError,
    RuntimeUnavailableError,
    ToolError,
)
from containers_tool.runtime.transport import transport_error

UNAVAILABLE_HINT = (
    "Start Docker (e.g. `sudo systemctl start docker`, or run scripts/provision-engines.sh as "
    "root), then call preflight."
)


@contextlib.contextmanager
def _engine_errors(subject: str) -> Iterator[None]:
    """Translates docker SDK exceptions into the tool's error types, once, here."""
    try:
        yield
    except ToolError:
        raise  # already translated (and some are OSErrors, caught below otherwise)
    except docker.errors.NotFound as exc:
        raise NotFoundError(
            f"{subject} was not found ({exc.explanation or exc}).", hint="Call list to see names."
        ) from exc
    except docker.errors.APIError as exc:
        explanation = str(exc.explanation or exc)
        if exc.status_code == 409:
            raise ConflictError(
                f"{subject}: {explanation}", hint="Call status or list to see its state."
            ) from exc
        raise EngineError(f"{subject}: {explanation}", hint="Check the engine log.") from exc
    except docker.errors.DockerException as exc:
        raise RuntimeUnavailableError(
            f"Docker is not reachable ({type(exc).__name__}).", hint=UNAVAILABLE_HINT
        ) from exc
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise transport_error("Docker", subject, exc, UNAVAILABLE_HINT) from exc
