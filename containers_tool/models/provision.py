"""create's purpose and provisioning fields : purposes, image cache, credentials."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: Paths for config_files/dotfiles_inline: absolute, ~/ (HOME) or relative (workdir); no NULs.


class RepoInput(BaseModel):
    """A repository to clone inside the container (never on the host)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(min_length=1, max_length=2048, description="Clone URL (https or ssh).")
    path: str | None = Field(
        None, description="Where to clone: relative to the workdir, ~/…, or absolute."
    )
    install: str | None = Field(
        None, description="One shell line run in the clone afterwards, e.g. 'npm ci'."
    )
    branch: str | None = Field(None, pattern=r"^[A-Za-z0-9._/-]{1,200}$", description="Branch/tag.")


class ProvisionFields(BaseModel):
    """Fields of create that choose a purpose and provision the container."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    purpose: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9-]{0,40}$",
        description="Ready-made environment: python, node, rust, go, general, clean, try-repo, "
        "amplifier (or a user purpose). Built once into a cached image.",
    )
    repo_url: str | None = Field(
        None, max_length=2048, description="try-repo: repository to clone into the workdir."
    )
    cache_bust: bool = Field(False, description="Rebuild the purpose image even if cached.")
    env_passthrough: Literal["auto", "none", "all"] | list[str] | None = Field(
        None,
        description='Host variables to forward: "auto" (API keys/tokens/secrets, not passwords), '
        '"none", "all", or a list of names. Values never appear in inspect, labels or images.',
    )
    forward_git: bool | None = Field(None, description="Forward the host's git identity/config.")
    forward_gh: bool | None = Field(
        None, description="Forward GitHub auth (GH_TOKEN, kept out of the container's config)."
    )
    forward_ssh: bool | None = Field(
        None, description="Forward the host's SSH agent socket (opt-in); keys are never copied."
    )
    forward_ca: Literal["auto"] | bool = Field(
        "auto", description="Forward the host's CA bundle (needed behind TLS-intercepting proxies)."
    )
    dotfiles_repo: str | None = Field(
        None,
        max_length=2048,
        description="Dotfiles repo cloned to ~/.dotfiles; its install "
        "script (install.sh, bootstrap.sh or setup.sh) runs.",
    )
    dotfiles_inline: dict[str, str] = Field(
        default_factory=dict, max_length=100, description="Dotfiles as {path under HOME: content}."
    )
    dotfiles_script: str | None = Field(
        None, max_length=10000, description="Shell script run in HOME after the dotfiles."
    )
    dotfiles_skip: bool = Field(False, description="Skip every dotfiles step.")
    repos: list[RepoInput] = Field(
        default_factory=list, max_length=20, description="Repositories to clone inside."
    )
    config_files: dict[str, str] = Field(
        default_factory=dict,
        max_length=200,
        description="Files written byte-exact, no shell: {path: content}; path absolute, ~/… "
        "(HOME) or relative (workdir). Owned by the mapped user.",
    )
    as_root: bool = Field(
        False,
        description="Run the container's commands as root by default (package installs, system "
        'changes) instead of the host user\'s uid:gid; the same as user "0:0".',
    )
    amplifier_version: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$",
        description='purpose="amplifier" only: the Amplifier version to install (a tag or commit '
        "of its git source, or a package version); part of the image cache key. Default latest.",
    )
    amplifier_bundle: str | None = Field(
        None,
        max_length=2048,
        pattern=r"^[^\s]+$",
        description='purpose="amplifier" only: a bundle URI (e.g. git+https://...) registered and '
        "made the active bundle inside the container after provisioning.",
    )
    setup_commands: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Shell lines run in order after provisioning; failures are reported.",
    )
