"""Purposes as data: load the built-in YAML files, then the user's dir, and resolve images."""

from __future__ import annotations

import re
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from containers_tool.errors import InvalidInputError
from containers_tool.labels import PURPOSE_PATTERN
from containers_tool.rules import suggest
from containers_tool.settings import Settings, config_dir
from containers_tool.sizes import parse_size

#: Built-in purposes ship inside the package (package data), so an installed wheel has them;
#: the repo's root `purposes` is a link to this directory. pip installs packages unzipped,
#: so the resource is a real directory.
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
BUILTIN_DIR = Path(str(resources.files("containers_tool") / "purposes"))


class Forward(BaseModel):
    """What a purpose forwards from the host by default (create fields override each)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: Literal["auto", "none", "all"] | list[str] = "auto"
    git: bool = True
    gh: bool = True
    ssh: bool = False
    ca: bool = True
    dotfiles: bool = True


class Resources(BaseModel):
    """Default limits of a purpose's containers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    memory: str = "2g"
    cpus: float = Field(2.0, gt=0)
    pids: int = Field(1024, gt=0)

    @field_validator("memory")
    @classmethod
    def _size(cls, value: str) -> str:
        parse_size(value)
        return value


class Detect(BaseModel):
    """try-repo: a file that identifies a language, and the one-line setup to run for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str
    language: str
    setup: str


class Purpose(BaseModel):
    """One purpose: base image, OS packages, one-line setup steps, env, forwards, limits, probe."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=PURPOSE_PATTERN)
    description: str = Field(min_length=1)
    image: str = Field(min_length=1)
    packages: list[str] = Field(default_factory=list)
    setup: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    #: Build-time variables with their defaults ("" = unset): pins and mirror endpoints the
    #: setup steps read, overridden by the build_env setting (and create's amplifier_version).
    build_env: dict[str, str] = Field(default_factory=dict)
    workdir: str = Field("/workspace", pattern=r"^/")
    forward: Forward = Field(default_factory=Forward)
    resources: Resources = Field(default_factory=Resources)
    probe: str = Field(min_length=1)
    requires: list[Literal["repo_url"]] = Field(default_factory=list)
    detect: list[Detect] = Field(default_factory=list)
    config_dirs: list[str] = Field(default_factory=list)

    @field_validator("setup")
    @classmethod
    def _one_line(cls, steps: list[str]) -> list[str]:
        for step in steps:
            if "\n" in step or not step.strip():
                raise ValueError("setup steps are single non-empty lines")
        return steps

    @field_validator("packages")
    @classmethod
    def _package_names(cls, packages: list[str]) -> list[str]:
        for pkg in packages:
            if not pkg or not all(c.isalnum() or c in "+-._:" for c in pkg):
                raise ValueError(f"{pkg!r} is not a package name")
        return packages

    @field_validator("build_env")
    @classmethod
    def _env_names(cls, env: dict[str, str]) -> dict[str, str]:
        for name, value in env.items():
            if not ENV_NAME.fullmatch(name) or "\n" in value:
                raise ValueError(f"build_env {name!r} needs a shell variable name, one line")
        return env

    def with_build_env(self, **values: str) -> Purpose:
        """Returns this purpose with some build_env values replaced (e.g. a version pin)."""
        return self.model_copy(update={"build_env": {**self.build_env, **values}})

    def with_image(self, image: str) -> Purpose:
        """Returns this purpose on another base image."""
        return self.model_copy(update={"image": image})


def load_file(path: Path) -> Purpose:
    """Loads and validates one purpose file; its name must equal the file name.

    Raises:
        InvalidInputError: The file is not a valid purpose.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        purpose = Purpose.model_validate(data)
    except ValidationError as exc:
        # Every field error at once: fixing a file one error per create is slow.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: "
            f"{str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise InvalidInputError(
            f"Purpose file {str(path)!r} has {exc.error_count()} invalid field(s): {problems}.",
            hint="Fix those fields (see the built-in purposes for examples: name, description, "
            "image, packages, setup, env, build_env, forward, resources, probe).",
            field="purpose",
        ) from exc
    except (yaml.YAMLError, OSError) as exc:
        raise InvalidInputError(
            f"Purpose file {str(path)!r} is invalid: {str(exc).splitlines()[0]}",
            hint="Fix the YAML (fields: name, description, image, packages, setup, env, "
            "forward, resources, probe).",
            field="purpose",
        ) from exc
    if purpose.name != path.stem:
        raise InvalidInputError(
            f"Purpose file {path.name!r} names {purpose.name!r}.",
            hint="Make the file name equal the purpose name.",
            field="purpose",
        )
    return purpose


class PurposeRegistry:
    """Built-in purposes shadowed by the user's `purposes/` config directory.

    Args:
        settings: Settings (user purpose dir, per-purpose image overrides, registry prefix).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loaded: dict[str, tuple[int, Purpose]] = {}

    @cached_property
    def _files(self) -> dict[str, Path]:
        dirs = [BUILTIN_DIR, Path(self.settings.purposes_dir or config_dir() / "purposes")]
        files: dict[str, Path] = {}
        for folder in dirs:
            if folder.is_dir():
                files.update({p.stem: p for p in sorted(folder.glob("*.yaml"))})
        return files

    def names(self) -> list[str]:
        """Returns the known purpose names."""
        return sorted(self._files)

    def get(self, name: str) -> Purpose:
        """Returns a purpose with its image resolved through the settings.

        Raises:
            InvalidInputError: Unknown purpose (the hint lists the known ones).
        """
        path = self._files.get(name)
        if path is None:
            raise InvalidInputError(
                f"Unknown purpose {name!r}.",
                hint=f"Use one of: {', '.join(self.names())}; or add {name}.yaml to "
                f"{self.settings.purposes_dir or config_dir() / 'purposes'}."
                + suggest(name, self.names()),
                field="purpose",
            )
        stamp = path.stat().st_mtime_ns
        cached = self._loaded.get(name)
        if cached is None or cached[0] != stamp:
            cached = (stamp, load_file(path))
            self._loaded[name] = cached
        purpose = cached[1]
        # Settings (mirrors) beat the purpose's defaults; create's pins beat both, later. Only
        # variables the purpose declares: a Go mirror does not rebuild the Python image.
        mirrors = {k: v for k, v in self.settings.build_env.items() if k in purpose.build_env}
        resolved = purpose.with_build_env(**mirrors)
        return resolved.with_image(self.resolve_image(purpose))

    def resolve_image(self, purpose: Purpose) -> str:
        """Per-purpose override > image override/registry prefix > the purpose's own image."""
        if purpose.name in self.settings.purpose_images:
            return self.settings.purpose_images[purpose.name]
        return self.settings.resolve_image(purpose.image)
