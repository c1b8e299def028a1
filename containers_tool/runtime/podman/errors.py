"""Podman SDK errors translated into the tool's error types (podman-py, libpod REST)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import podman.errors
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
    "Start the Podman API socket (`systemctl --user enable --now podman.socket`, or as root "
    "`podman system service --time=0 unix:///run/podman/podman.sock &`, or run "
    "scripts/provision-engines.sh), then call preflight."
)


def _explain(exc: Any) -> str:
    response = getattr(exc, "response", None)
    with contextlib.suppress(Exception):
        body = response.json() if response is not None else {}
        if isinstance(body, dict) and body.get("message"):
            return str(body["message"])
    return str(getattr(exc, "explanation", None) or exc)


@contextlib.contextmanager
def _engine_errors(subject: str) -> Iterator[None]:
    """Translates podman SDK exceptions into the tool's error types, once, here."""
    try:
        yield
    except ToolError:
        raise  # already translated (and some are OSErrors, caught below otherwise)
    except (podman.errors.NotFound, podman.errors.ImageNotFound) as exc:
        # podman's ImageNotFound is not a NotFound: list both.
        raise NotFoundError(
            f"{subject} was not found ({_explain(exc)}).", hint="Call list to see names."
        ) from exc
    except podman.errors.APIError as exc:
        response = getattr(exc, "response", None)
        if response is None and exc.__cause__ is not None:
            # podman-py wraps a failed connection (an OSError) in an APIError with no answer.
            raise transport_error("Podman", subject, exc.__cause__, UNAVAILABLE_HINT) from exc
        status = getattr(response, "status_code", None)
        text = _explain(exc)
        # Podman answers 500 "no such container" for one removed while it is being looked at.
        if status == 404 or "no such container" in text:
            raise NotFoundError(f"{subject} was not found ({text}).", hint="Call list.") from exc
        # Docker says 404 with field image for these; Podman 500 "image not known".
        if "image not known" in text:
            raise NotFoundError(
                f"{subject}: {text}.",
                hint="Check the image name, or load the image (pull, or settings "
                "image_overrides / image_prefix for a local or mirrored one).",
                field="image",
            ) from exc
        # Podman 4 answers 500 for some conflicts; its messages are stable across versions.
        if status == 409 or "already in use" in text or "state improper" in text:
            raise ConflictError(
                f"{subject}: {text}", hint="Call status or list to see its state."
            ) from exc
        raise EngineError(f"{subject}: {text}", hint="Check the engine log.") from exc
    except podman.errors.PodmanError as exc:
        raise RuntimeUnavailableError(
            f"Podman is not reachable ({type(exc).__name__}).", hint=UNAVAILABLE_HINT
        ) from exc
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        # A read timeout of a streamed response (exec, logs, build) surfaces here unwrapped.
        raise transport_error("Podman", subject, exc, UNAVAILABLE_HINT) from exc


def _check(response: Any) -> Any:
    response.raise_for_status()
    return response
