"""Input models of one-shot runs (run, run_result, run_cancel) and stats."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from containers_tool.labels import RUN_ID_PATTERN, SESSION_PATTERN
from containers_tool.models.common import SESSION_DESCRIPTION, Input, checked_size

#: Names a run's env may use: they are exported by a shell, like the seeds' tool parameters.
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"

RunId = Field(pattern=RUN_ID_PATTERN, description="The run_id run returned.")


class RunInput(Input):
    """Runs one command in a fresh container (limits, no network by default) and removes it; \
returns exit code, bounded stdout/stderr, stdout parsed as JSON, and resource usage."""

    command: str | list[str] = Field(
        description="A shell string (run by /bin/sh -c) or an argv list (run as is, no shell).",
        min_length=1,
    )
    image: str | None = Field(
        None, min_length=1, description="Image reference; defaults to the configured base image."
    )
    purpose: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9-]{0,40}$",
        description="Ready-made environment to run in (python, node, ...) instead of an image; "
        "nothing from the host is forwarded.",
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        max_length=200,
        description="Variables the command sees, e.g. the tool's parameters; values are kept "
        "out of the container's config, labels and inspect.",
    )
    files: dict[str, str] = Field(
        default_factory=dict,
        max_length=200,
        description="Files written byte-exact before the command runs: {path: content}; "
        "absolute, ~/… (HOME) or relative (workdir).",
    )
    memory_limit: str | None = Field(
        None, description='Memory limit with a unit, e.g. "512m"; default the create default.'
    )
    cpu_limit: float | None = Field(None, gt=0, le=256, description="CPU limit in cores.")
    timeout: float | None = Field(
        None, gt=0, le=86400, description="Seconds before the command is killed; default 300."
    )
    network: str = Field(
        "none",
        min_length=1,
        description='Network of the run: "none" (default: no network), "bridge" or a name.',
    )
    wait: bool = Field(
        True,
        description="Wait for the end (default). false returns run_id at once: call "
        "run_result with it (the container is removed an hour after the end if unread).",
    )
    session_id: str | None = Field(None, pattern=SESSION_PATTERN, description=SESSION_DESCRIPTION)

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        bad = next((k for k in value if not re.match(ENV_NAME, k)), None)
        if bad is not None:
            raise ValueError(f"env name {bad!r} is not a shell variable name")
        return value

    @field_validator("memory_limit")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        return checked_size(value, "memory_limit")

    @model_validator(mode="after")
    def _one_source(self) -> RunInput:
        if self.image and self.purpose:
            raise ValueError("pass image or purpose, not both")
        return self


class RunResultInput(Input):
    """Returns a run's result (the same fields run returns), waiting up to `wait` seconds."""

    run_id: str = RunId
    wait: float = Field(
        0,
        ge=0,
        le=300,
        description="Seconds to wait for the run to end before answering (long-poll); "
        "it answers as soon as the run ends.",
    )


class RunCancelInput(Input):
    """Kills a run and removes its container; returns its usage so far."""

    run_id: str = RunId


class StatsInput(Input):
    """One resource sample per container (CPU %, memory, network, block I/O, pids, uptime), \
of one container, one session, or all of the tool's, with totals."""

    container: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="One container; omit it for a session's (session_id) or all of them.",
    )
    session_id: str | None = Field(
        None, pattern=SESSION_PATTERN, description="Only this session's containers."
    )
