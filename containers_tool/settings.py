"""Settings: explicit argument > CONTAINERS_TOOL_* env > user YAML > defaults."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from containers_tool.labels import TENANT_PATTERN
from containers_tool.runtime.backends import runtime_choices
from containers_tool.sizes import parse_size


def config_dir() -> Path:
    """Returns the user's config directory for the tool (XDG_CONFIG_HOME aware)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "containers-tool"


def user_config_file() -> Path:
    """Returns the settings file: CONTAINERS_TOOL_CONFIG, else config.yaml in the config dir."""
    explicit = os.environ.get("CONTAINERS_TOOL_CONFIG")
    return Path(explicit) if explicit else config_dir() / "config.yaml"


def state_dir(settings: Settings) -> Path:
    """Returns where state shared by the tenant's processes lives (bindings, locks, activity).

    The `state_dir` setting, else $XDG_STATE_HOME/containers-tool, else
    ~/.local/state/containers-tool.
    """
    if settings.state_dir:
        return Path(settings.state_dir)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "containers-tool"


class Settings(BaseSettings):
    """How the tool behaves here; read when a ContainersTool is built, never at import."""

    model_config = SettingsConfigDict(
        env_prefix="CONTAINERS_TOOL_", env_nested_delimiter="__", extra="forbid"
    )

    runtime: str = Field("auto", description="A backend's name (BACKENDS), or auto.")
    docker_host: str | None = Field(
        None, description="Docker endpoint (unix://, tcp://, ssh://); else DOCKER_HOST/sockets."
    )
    podman_host: str | None = Field(
        None, description="Podman endpoint (unix://, ssh://.../podman.sock); else CONTAINER_HOST."
    )
    docker_cert_path: str | None = Field(
        None, description="Dir with ca.pem, cert.pem, key.pem: mutual TLS for a tcp:// Docker."
    )
    ssh_identity: str | None = Field(
        None, description="Private key for ssh:// engines; else ssh's defaults and agent."
    )
    ssh_known_hosts: str | None = Field(
        None, description="known_hosts for ssh:// engines; else ~/.ssh/known_hosts."
    )
    default_image: str = Field(
        "debian:12-slim", description="Image for create without image or purpose."
    )
    image_prefix: str = Field("", description="Registry prefix for default images (mirrors).")
    image_overrides: dict[str, str] = Field(
        default_factory=dict, description="Image ref -> replacement, e.g. for air-gapped machines."
    )
    purpose_images: dict[str, str] = Field(
        default_factory=dict, description="Purpose -> base image, e.g. {python: mirror/py:3.12}."
    )
    build_env: dict[str, str] = Field(
        default_factory=dict,
        description="Values for the build_env variables purposes declare (each purpose gets only "
        "its own), also left in the image's env: mirrors such as PIP_INDEX_URL, UV_INDEX_URL, "
        "GOPROXY, RUSTUP_DIST_SERVER, AMPLIFIER_SOURCE. Part of the cache key; never "
        "credentials (image history shows them).",
    )
    purposes_dir: str | None = Field(None, description="User purposes; default <config>/purposes.")
    cache_dir: str | None = Field(None, description="Build locks; default ~/.cache/containers-tool")
    pull: Literal["missing", "never"] = "missing"
    workdir: str = "/workspace"
    memory_limit: str = "2g"
    cpu_limit: float = 2.0
    pids_limit: int = 1024
    exec_timeout: float = Field(120.0, gt=0)
    max_exec_timeout: float = Field(3600.0, gt=0)
    output_limit: int = Field(16_000, ge=256)
    run_timeout: float = Field(300.0, gt=0, description="Default timeout of run, in seconds.")
    run_grace: float = Field(
        30.0,
        ge=1,
        description="Seconds a run's container outlives its timeout when nobody removes it "
        "(its tool process was killed); then it ends and the engine removes it.",
    )
    run_retention: float = Field(
        3600.0, ge=1, description="Seconds a finished run (wait: false) waits to be read."
    )
    session_network: bool = Field(
        False, description="Put every container of a session on its own private network."
    )
    pool: dict[str, int] = Field(
        default_factory=dict,
        description="Warm pool: image or purpose -> how many ready containers to keep (off: {}).",
    )
    allow_privileged: bool = False
    allow_engine_socket: bool = False
    # --- tenants, quotas, memory tiers, agent bindings ---
    tenant: str = Field(
        "default",
        pattern=TENANT_PATTERN,
        description="The tenant this tool serves; it never sees another tenant's objects.",
    )
    max_containers_per_tenant: int = Field(
        20, ge=1, description="Containers the tenant may have on the engine at once."
    )
    allowed_memory_tiers: list[str] = Field(
        default_factory=lambda: ["1g", "4g", "16g", "64g"],
        min_length=1,
        description="memory_limit values create accepts; memory_limit and default_auto_memory "
        "are always allowed too.",
    )
    default_auto_memory: str = Field("1g", description="Memory of the auto containers of agents.")
    fallback_to_auto_on_missing_binding: bool = Field(
        False, description="resolve_agent in explicit mode without a binding uses the auto one."
    )
    state_dir: str | None = Field(
        None,
        description="Bindings, locks, activity records; default $XDG_STATE_HOME/containers-tool.",
    )
    idle_timeout: float = Field(
        1200.0, ge=0, description="Seconds idle before an ephemeral container is removed; 0 never."
    )
    sweep_interval: float = Field(
        60.0, gt=0, description="Seconds between expiry/orphan sweeps of long-lived processes."
    )
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["debug", "info", "warning", "error"] = "warning"

    @field_validator("memory_limit", "default_auto_memory")
    @classmethod
    def _a_size(cls, value: str) -> str:
        parse_size(value)  # a ValueError names the value
        return value

    @field_validator("allowed_memory_tiers")
    @classmethod
    def _sizes(cls, value: list[str]) -> list[str]:
        for tier in value:
            parse_size(tier)
        return value

    @model_validator(mode="after")
    def _defaults_are_tiers(self) -> Settings:
        # The defaults are always allowed: a create that names them must not be refused.
        tiers = self.allowed_memory_tiers
        for default in (self.memory_limit, self.default_auto_memory):
            if parse_size(default) not in {parse_size(t) for t in tiers}:
                tiers.append(default)
        return self

    def memory_tiers(self) -> list[int]:
        """Returns the allowed memory limits in bytes, smallest first."""
        return sorted({parse_size(t) for t in self.allowed_memory_tiers})

    allowed_host_paths: list[str] = Field(
        default_factory=lambda: [".", tempfile.gettempdir()],
        description="Host directories mounts and copies may use ('.' is the working directory); "
        "sensitive paths inside them (/etc, ~/.ssh, ...) stay refused.",
    )

    @field_validator("runtime")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        choices = runtime_choices()
        if value not in choices:
            raise ValueError(f"unknown runtime {value!r}; choose one of {', '.join(choices)}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Orders the sources: init, env, then the user's YAML file."""
        return (
            init_settings,
            env_settings,
            YamlConfigSettingsSource(settings_cls, user_config_file()),
        )

    def resolve_image(self, ref: str, *, prefix: bool = True) -> str:
        """Applies overrides, then the registry prefix, to an image reference.

        Args:
            ref: The image reference.
            prefix: False for an image the caller named explicitly: image_prefix is for the
                default images (default_image, purposes), while image_overrides apply to all.
        """
        if ref in self.image_overrides:
            return self.image_overrides[ref]
        if prefix and self.image_prefix and not ref.startswith("localhost/"):
            return self.image_prefix.rstrip("/") + "/" + ref
        return ref
