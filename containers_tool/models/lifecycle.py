"""Input models of create, list, status, destroy and destroy_all."""

from __future__ import annotations

from pydantic import Field, field_validator

from containers_tool.labels import IMAGE_PATTERN, NAME_PATTERN, POOL_PREFIX, SESSION_PATTERN
from containers_tool.models.common import (
    SESSION_DESCRIPTION,
    ContainerInput,
    EnvMap,
    Input,
    MountInput,
    PortInput,
    checked_size,
)
from containers_tool.models.provision import ProvisionFields


class CreateInput(ProvisionFields, Input):
    """Creates and starts an isolated container; returns its name and the handoff command."""

    name: str | None = Field(
        None,
        pattern=NAME_PATTERN,
        description="Container name (letters, digits, _.-); generated when omitted.",
    )
    image: str | None = Field(
        None,
        min_length=1,
        max_length=512,
        pattern=IMAGE_PATTERN,
        description="Image reference (name[:tag][@digest]); defaults to the configured base image.",
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
    expires_after: int | None = Field(
        None,
        ge=0,
        le=90 * 86400,
        description="Seconds without activity after which the container is removed (any "
        "operation on it, a running background job or a shell command is activity); default "
        "the idle_timeout setting (20 min) for ephemeral containers, never for persistent ones; "
        "0 never. keep_alive resets the clock.",
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
    # --- networks and compose ---
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

    @field_validator("name")
    @classmethod
    def _not_pooled(cls, value: str | None) -> str | None:
        if value is not None and value.startswith(POOL_PREFIX):
            raise ValueError(f"name {value!r} starts with {POOL_PREFIX!r}, kept for the warm pool")
        return value

    @field_validator("memory_limit")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        return checked_size(value, "memory_limit")


class ListInput(Input):
    """Lists containers this tool created (running or stopped)."""

    session_id: str | None = Field(None, pattern=SESSION_PATTERN, description=SESSION_DESCRIPTION)


class StatusInput(ContainerInput):
    """Shows one container's state, image, ports, mounts, networks and limits."""


class KeepAliveInput(ContainerInput):
    """Resets a container's idle clock; returns its last_active_at and expires_at."""


class DestroyInput(ContainerInput):
    """Removes a container and its anonymous volumes."""


class DestroyAllInput(Input):
    """Removes every container this tool created, or one session's; needs confirm: true."""

    confirm: bool = Field(False, description="Must be true: removes many containers at once.")
    session_id: str | None = Field(None, pattern=SESSION_PATTERN, description=SESSION_DESCRIPTION)
