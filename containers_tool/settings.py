"""Settings: explicit argument > CONTAINERS_TOOL_* env > user YAML > defaults."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)


def config_dir() -> Path:
    """Returns the user's config directory for the tool (XDG_CONFIG_HOME aware)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "containers-tool"


def user_config_file() -> Path:
    """Returns the settings file: CONTAINERS_TOOL_CONFIG, else config.yaml in the config dir."""
    explicit = os.environ.get("CONTAINERS_TOOL_CONFIG")
    return Path(explicit) if explicit else config_dir() / "config.yaml"


class Settings(BaseSettings):
    """How the tool behaves here; read when a ContainersTool is built, never at import."""

    model_config = SettingsConfigDict(
        env_prefix="CONTAINERS_TOOL_", env_nested_delimiter="__", extra="forbid"
    )

    runtime: Literal["auto", "docker", "podman"] = "auto"
    docker_host: str | None = Field(None, description="Docker endpoint; else DOCKER_HOST/sockets.")
    podman_host: str | None = Field(
        None, description="Podman endpoint; else CONTAINER_HOST/sockets."
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
