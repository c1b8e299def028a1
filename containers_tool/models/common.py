"""Shared pieces of the input models: the base class, container names, mounts, ports."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from containers_tool.sizes import parse_size

ContainerName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        # Names and ids alike; anything else would reach the engines' URL paths (Podman read
        # "%2e" or a control character as another endpoint).
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Name of a container this tool created (call list to see them).",
    ),
]


SESSION_DESCRIPTION = "Session id that groups containers; destroy_all can remove one session's."


EnvMap = Annotated[
    dict[str, str],
    Field(description="Environment variables as NAME: value.", max_length=200),
]


class Input(BaseModel):
    """Base of every operation's input: unknown fields are errors, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ContainerInput(Input):
    container: ContainerName


class MountInput(Input):
    source: str = Field(
        description="Absolute host path to bind-mount, under the allowed host paths (by default "
        "the working directory and the temp dir).",
        min_length=1,
    )
    target: str = Field(description="Absolute path inside the container.", pattern=r"^/")
    read_only: bool = Field(False, description="Mount read-only.")


class PortInput(Input):
    container: int = Field(ge=1, le=65535, description="Port inside the container.")
    host: int | None = Field(
        None, ge=1, le=65535, description="Host port; omit to let the engine pick a free one."
    )
    protocol: Literal["tcp", "udp"] = Field("tcp", description="tcp or udp.")


def checked_size(value: str | None, field: str) -> str | None:
    """Returns `value` when it is a size such as "512m" or "2g" (or None); else a ValueError."""
    if value is not None:
        try:
            parse_size(value)
        except ValueError as exc:
            raise ValueError(f"{field} {value!r} is not a size") from exc
    return value
