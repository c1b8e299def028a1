"""Pydantic input models, one per operation. Field descriptions are written for the LLM."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from containers_tool.models_provision import ProvisionFields
from containers_tool.sessions import SHELL_SESSION_PATTERN
from containers_tool.sizes import parse_size

NAME_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$"
SESSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

ContainerName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
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
    source: str = Field(description="Absolute host path to bind-mount.", min_length=1)
    target: str = Field(description="Absolute path inside the container.", pattern=r"^/")
    read_only: bool = Field(False, description="Mount read-only.")


class PortInput(Input):
    container: int = Field(ge=1, le=65535, description="Port inside the container.")
    host: int | None = Field(
        None, ge=1, le=65535, description="Host port; omit to let the engine pick a free one."
    )
    protocol: Literal["tcp", "udp"] = Field("tcp", description="tcp or udp.")


class PreflightInput(Input):
    """Checks that an engine is reachable and usable; call first, or after runtime_unavailable."""


class CreateInput(ProvisionFields, Input):
    """Creates and starts an isolated container; returns its name and the handoff command."""

    name: str | None = Field(
        None,
        pattern=NAME_PATTERN,
        description="Container name (letters, digits, _.-); generated when omitted.",
    )
    image: str | None = Field(
        None, min_length=1, description="Image reference; defaults to the configured base image."
    )
    workdir: str | None = Field(
        None, pattern=r"^/", description="Absolute working directory; default /workspace."
    )
    env: EnvMap = Field(default_factory=dict)
    mounts: list[MountInput] = Field(
        default_factory=list, max_length=32, description="Host directories to bind-mount."
    )
    mount_cwd: bool = Field(
        False, description="Bind-mount the caller's current directory at the workdir."
    )
    ports: list[PortInput] = Field(
        default_factory=list, max_length=32, description="Ports to publish on 127.0.0.1."
    )
    memory_limit: str | None = Field(
        None, description='Memory limit with a unit, e.g. "512m" or "2g"; default 2g.'
    )
    cpu_limit: float | None = Field(
        None, gt=0, le=256, description="CPU limit in cores, e.g. 1.5; default 2."
    )
    network: str | None = Field(
        None, min_length=1, description='Network to join: a network name, "bridge" or "none".'
    )
    labels: dict[str, str] = Field(
        default_factory=dict, max_length=64, description="Extra labels (not secrets)."
    )
    persistent: bool = Field(
        False, description="Keep the container after this session ends (default: removed)."
    )
    keep_command: bool = Field(
        False,
        description="Run the image's own ENTRYPOINT/CMD (a service) instead of keeping the "
        "container alive with sleep, as the image's USER in its WORKDIR unless user/workdir "
        "are given; create fails, quoting its output, if that command exits.",
    )
    settle_seconds: float | None = Field(
        None,
        ge=0,
        le=30,
        description="With keep_command: seconds create watches the service's command before "
        "reporting it started (default 1.5); a command that exits within them fails create. "
        "Readiness is wait_healthy's job.",
    )
    session_id: str | None = Field(None, pattern=SESSION_PATTERN, description=SESSION_DESCRIPTION)
    user: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$",
        description="User[:group] the container and commands run as; default the host user's "
        "uid:gid, or with keep_command the image's own USER.",
    )
    privileged: bool = Field(
        False,
        description="Privileged mode; refused unless the operator's policy allows it. Also lets "
        "compose services use privileged, cap_add, devices and host namespaces.",
    )
    # --- networks and compose (issue 5) ---
    session_network: bool | None = Field(
        None,
        description="Join the session's private network, shared only by this session's "
        "containers and removed with the session (default: the session_network setting).",
    )
    compose_content: str | None = Field(
        None,
        min_length=1,
        max_length=200_000,
        description="Compose YAML to bring up before the container; the container joins the "
        "stack's network and reaches services by name. destroy tears the stack down. Relative "
        "paths in it (build, env_file, bind mounts) mean the tool process's working directory.",
    )
    compose_file: str | None = Field(
        None,
        pattern=r"^/",
        description="Absolute host path of a compose file (instead of compose_content); "
        "relative paths in it mean the file's directory.",
    )
    compose_project: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$",
        description="Compose project name; derived from the container name when omitted.",
    )
    # --- end issue 5 ---

    @field_validator("memory_limit")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_size(value)
            except ValueError as exc:
                raise ValueError(f"memory_limit {value!r} is not a size") from exc
        return value


class ExecInput(ContainerInput):
    """Runs a command to completion and returns exit code, stdout and stderr (bounded)."""

    command: str | list[str] = Field(
        description="A shell string (run by /bin/sh -c) or an argv list (run as is, no shell).",
        min_length=1,
    )
    timeout: float | None = Field(
        None, gt=0, le=86400, description="Seconds before the command is killed; default 120."
    )
    workdir: str | None = Field(None, description="Directory to run in; default the workdir.")
    env: EnvMap = Field(default_factory=dict)
    as_root: bool = Field(False, description="Run as root instead of the mapped user.")
    max_output: int | None = Field(
        None, ge=256, le=1_000_000, description="Bytes kept per stream (head+tail); default 16000."
    )
    session: str | None = Field(
        None,
        pattern=SHELL_SESSION_PATTERN,
        description="Run in the named persistent shell of this container, made on first use: "
        "cd, exported variables and activated venvs carry over to later calls with the same "
        "session, and a call takes about a millisecond. `exit` ends only the command; stdin is "
        "/dev/null. workdir and env act as cd and export there. close_session ends it. "
        "Unrelated to session_id.",
    )


class ExecHintInput(ContainerInput):
    """Returns the shell line a human pastes to get an interactive shell in the container."""


class ListInput(Input):
    """Lists containers this tool created (running or stopped)."""

    session_id: str | None = Field(None, pattern=SESSION_PATTERN, description=SESSION_DESCRIPTION)


class StatusInput(ContainerInput):
    """Shows one container's state, image, ports, mounts, networks and limits."""


class DestroyInput(ContainerInput):
    """Removes a container and its anonymous volumes."""


class DestroyAllInput(Input):
    """Removes every container this tool created, or one session's; needs confirm: true."""

    confirm: bool = Field(False, description="Must be true: removes many containers at once.")
    session_id: str | None = Field(None, pattern=SESSION_PATTERN, description=SESSION_DESCRIPTION)


class CopyInInput(ContainerInput):
    """Copies a host file or directory into the container."""

    source: str = Field(
        min_length=1,
        description="copy_in: host path to copy from. copy_out: path in the container.",
    )
    destination: str = Field(
        min_length=1,
        description=(
            "copy_in: path in the container (relative to the workdir). copy_out: host path. "
            "A path ending in / or an existing directory receives the item by its own name "
            "(the directory's other files stay); otherwise it is the new name."
        ),
    )


class CopyOutInput(CopyInInput):
    """Copies a file or directory out of the container to the host."""
