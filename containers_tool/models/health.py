"""Input models of logs and wait_healthy, the tools for service containers."""

from __future__ import annotations

from pydantic import Field, model_validator

from containers_tool.models.common import ContainerInput


class LogsInput(ContainerInput):
    """Returns the container's own output (its main command's stdout/stderr), bounded."""

    tail: int | None = Field(
        200,
        ge=1,
        le=100_000,
        description="Lines from the end of the output (both streams together) to return; "
        "default 200, null for all (still bounded by max_output).",
    )
    since: float | None = Field(
        None, ge=0, description="Only lines from the last `since` seconds (0: none)."
    )
    max_output: int | None = Field(
        None, ge=256, le=1_000_000, description="Bytes kept per stream (head+tail); default 16000."
    )


class WaitHealthyInput(ContainerInput):
    """Waits until a check passes: a command in the container, an HTTP URL, or a TCP port."""

    health_command: str | list[str] | None = Field(
        None,
        min_length=1,
        description="Command run in the container; healthy when it exits 0.",
    )
    url: str | None = Field(
        None,
        pattern=r"^https?://",
        description="URL fetched from inside the container; healthy on a 2xx/3xx answer.",
    )
    port: int | None = Field(
        None, ge=1, le=65535, description="TCP port inside the container; healthy when it accepts."
    )
    interval: float = Field(
        0.5, ge=0.05, le=60, description="Seconds between attempts; default 0.5."
    )
    retries: int | None = Field(
        None, ge=1, le=10_000, description="Attempts before giving up (instead of timeout)."
    )
    timeout: float | None = Field(
        None, gt=0, le=3600, description="Seconds before giving up; default 60."
    )

    @model_validator(mode="after")
    def _one_check(self) -> WaitHealthyInput:
        given = [n for n in ("health_command", "url", "port") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("health_command: give exactly one of health_command, url or port")
        return self
