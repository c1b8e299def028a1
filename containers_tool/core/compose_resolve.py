"""Resolves a compose file the way compose would, so the policy judges what will run.

Checking the text is not enough: `pid: "${X:-host}"` is `host` once interpolated, `extends`
pulls a service from another file, `env_file` reads host files. `resolve` applies
interpolation, `extends`, `env_file` and profiles, and makes every host path absolute; the
result is checked (policy.compose) and then written out, with `$` escaped, as the one file
compose brings up. Compose then has nothing left to interpret, on any implementation.

Interpolation sees the project directory's `.env` file only, never the tool's environment,
which may hold credentials.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from containers_tool.errors import InvalidInputError, PolicyDeniedError
from containers_tool.policy.host_paths import HostPaths, shown

#: How deep a compose document may nest (YAML itself allows any depth; Python's stack does not).
MAX_DEPTH = 40
#: How many `extends` one service may chain.
MAX_EXTENDS = 10
_VAR = re.compile(
    r"\$(?:(?P<escaped>\$)|(?P<plain>[A-Za-z_][A-Za-z0-9_]*)|"
    r"\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\})"
)
_TOP_LEVEL = {"version", "name", "services", "networks", "volumes", "secrets", "configs"}


def _invalid(message: str, field: str) -> InvalidInputError:
    return InvalidInputError(
        message, hint="Fix the compose file and call create again.", field=field
    )


def _walk(value: Any, leaf: Callable[[str], Any], depth: int = 0) -> Any:
    """Maps `leaf` over every string value (not keys) of a YAML tree; bounded depth."""
    if depth > MAX_DEPTH:
        raise RecursionError
    if isinstance(value, str):
        return leaf(value)
    if isinstance(value, Mapping):
        return {k: _walk(v, leaf, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, leaf, depth + 1) for v in value]
    return value


def interpolate(value: Any, env: Mapping[str, str], field: str) -> Any:
    """Substitutes `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:?e}`, `${VAR:+a}`, `$$`.

    Raises:
        InvalidInputError: A `${VAR:?message}` is unset, a `$` is malformed, or the document
            nests too deeply.
    """

    def one(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("plain") or match.group("braced")
        op, arg = match.group("op"), match.group("arg") or ""
        have = env.get(name)
        empty = not have
        if op in (":-", "-"):
            return arg if (empty if op == ":-" else have is None) else str(have)
        if op in (":?", "?"):
            if empty if op == ":?" else have is None:
                raise _invalid(f"Compose variable {name} is required: {shown(arg)}", field)
            return str(have)
        if op in (":+", "+"):
            return "" if (empty if op == ":+" else have is None) else arg
        return have or ""

    def leaf(text: str) -> str:
        out = _VAR.sub(one, text)
        if "$" in _VAR.sub("", text):
            raise _invalid(f"Compose value {shown(text)!r} has a malformed `$`.", field)
        return out

    try:
        return _walk(value, leaf)
    except RecursionError:
        raise _invalid(f"The compose file nests deeper than {MAX_DEPTH} levels.", field) from None


def escape(value: Any) -> Any:
    """Escapes every `$` of a resolved tree, so compose interpolates nothing more."""
    return _walk(value, lambda text: text.replace("$", "$$"))


def dotenv(path: Path) -> dict[str, str]:
    """Reads a `.env`/env_file: KEY=VALUE lines, `#` comments, optional quotes and `export`."""
    out: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key.strip()] = value
    return out


class Resolver:
    """Resolves one compose document.

    Args:
        project_dir: What relative paths mean, and where env_file, extends, secrets and
            configs files must stay.
        paths: The host-path policy every host path is checked against.
        field: "compose_content" or "compose_file", for errors.
    """

    def __init__(self, project_dir: Path, paths: HostPaths, field: str) -> None:
        self.project_dir = project_dir
        self.paths = paths
        self.field = field
        env_path = project_dir / ".env"
        self.env = dotenv(env_path) if env_path.is_file() else {}

    def denied(self, owner: str, key: str, what: str, hint: str) -> PolicyDeniedError:
        """The refusal of one key of one service (or volume, secret, ...)."""
        return PolicyDeniedError(
            f"Compose {owner} sets {key} ({what}), which the tool's policy refuses.",
            hint=hint,
            field=self.field,
        )

    def project_file(self, owner: str, key: str, given: str, base: Path) -> Path:
        """Returns the real path of a file the compose file names, if it is in the project."""
        try:
            real = self.paths.check(base / Path(given).expanduser(), self.field, what=key)
        except PolicyDeniedError as exc:
            raise self.denied(owner, key, shown(given), exc.hint) from None
        root = self.project_dir.resolve()
        if real != root and not real.is_relative_to(root):
            raise self.denied(
                owner,
                key,
                f"{shown(given)}, outside the project directory {str(root)!r}",
                "Keep the files a compose file reads inside its own directory.",
            )
        return real

    def resolve(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """Returns the resolved document: interpolated, extends merged, env_file read, paths
        absolute, services of inactive profiles dropped.

        Raises:
            InvalidInputError: Malformed values, missing files, loops in extends.
            PolicyDeniedError: A file it reads is outside the project or the host-path policy.
        """
        unknown = sorted(
            str(k) for k in doc if str(k) not in _TOP_LEVEL and not str(k).startswith("x-")
        )
        if unknown:
            raise self.denied(
                "file",
                ", ".join(unknown),
                "a top-level key the policy does not know",
                "Use only version, name, services, networks, volumes, secrets and configs.",
            )
        resolved: dict[str, Any] = interpolate(
            {k: v for k, v in doc.items() if k in _TOP_LEVEL}, self.env, self.field
        )
        services: dict[str, Any] = {}
        for name, body in (resolved.get("services") or {}).items():
            service = self._service(str(name), body, self.project_dir, resolved, 0)
            if not service.get("profiles"):  # compose starts no profile unless asked
                services[str(name)] = service
        resolved["services"] = services
        for kind in ("secrets", "configs"):
            for name, body in (resolved.get(kind) or {}).items():
                if isinstance(body, Mapping) and body.get("file"):
                    owner = f"{kind[:-1]} {str(name)!r}"
                    real = self.project_file(owner, "file", str(body["file"]), self.project_dir)
                    resolved[kind][name] = {**body, "file": str(real)}
        return resolved

    def _service(
        self, name: str, body: Any, base: Path, doc: Mapping[str, Any], depth: int
    ) -> dict[str, Any]:
        if not isinstance(body, Mapping):
            raise _invalid(f"Compose service {name!r} is not a mapping.", self.field)
        if depth > MAX_EXTENDS:
            raise _invalid(
                f"Compose service {name!r} extends more than {MAX_EXTENDS} deep.", self.field
            )
        service = self._absolute(name, dict(body), base)
        ext = service.pop("extends", None)
        if ext is None:
            return service
        if isinstance(ext, str):
            ext = {"service": ext}
        if not isinstance(ext, Mapping) or not ext.get("service"):
            raise _invalid(f"Compose service {name!r} has a malformed extends.", self.field)
        parent_doc, parent_base = doc, base
        if ext.get("file"):
            path = self.project_file(f"service {name!r}", "extends.file", str(ext["file"]), base)
            try:
                loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError) as exc:
                raise _invalid(
                    f"extends file {shown(str(ext['file']))!r}: {exc}", self.field
                ) from None
            parent_doc = interpolate(
                loaded if isinstance(loaded, Mapping) else {}, self.env, self.field
            )
            parent_base = path.parent
        parent = (parent_doc.get("services") or {}).get(ext["service"])
        if parent is None:
            raise _invalid(
                f"Compose service {name!r} extends {shown(str(ext['service']))!r}, which is "
                "not defined.",
                self.field,
            )
        merged = self._service(str(ext["service"]), parent, parent_base, parent_doc, depth + 1)
        return merge(merged, service)

    def _absolute(self, name: str, service: dict[str, Any], base: Path) -> dict[str, Any]:
        """Makes the service's host paths absolute (relative to `base`) and reads env_file."""
        owner = f"service {name!r}"
        env = environment(service.get("environment"), self.env)
        files = service.pop("env_file", None)
        for entry in [files] if isinstance(files, str | Mapping) else files or ():
            given = str(entry.get("path", "")) if isinstance(entry, Mapping) else str(entry)
            real = self.project_file(owner, "env_file", given, base)
            if not real.is_file():
                if isinstance(entry, Mapping) and entry.get("required") is False:
                    continue
                raise _invalid(f"env_file {shown(given)!r} of {owner} does not exist.", self.field)
            env = {**dotenv(real), **env}
        if env or "environment" in service:
            service["environment"] = env
        volumes = []
        for entry in service.get("volumes") or ():
            if isinstance(entry, str):
                source, sep, rest = entry.partition(":")
                if sep and source.startswith(("/", ".", "~")):
                    entry = f"{(base / Path(source).expanduser()).resolve()}:{rest}"
            elif isinstance(entry, Mapping) and entry.get("type") == "bind" and entry.get("source"):
                entry = {
                    **entry,
                    "source": str((base / Path(str(entry["source"])).expanduser()).resolve()),
                }
            volumes.append(entry)
        if volumes:
            service["volumes"] = volumes
        build = service.get("build")
        if isinstance(build, str):
            service["build"] = str((base / build).resolve())
        elif isinstance(build, Mapping):
            service["build"] = {
                **build,
                "context": str((base / str(build.get("context", "."))).resolve()),
            }
        return service


def environment(value: Any, env: Mapping[str, str]) -> dict[str, str]:
    """Returns a service's environment as a mapping; a bare NAME takes its value from `.env`."""
    out: dict[str, str] = {}
    items = (
        value.items()
        if isinstance(value, Mapping)
        else (
            (str(e).partition("=")[0], str(e).partition("=")[2] if "=" in str(e) else None)
            for e in value or ()
        )
    )
    for key, val in items:
        if val is None:
            if str(key) in env:
                out[str(key)] = env[str(key)]
            continue
        out[str(key)] = str(val).lower() if isinstance(val, bool) else str(val)
    return out


#: Keys whose lists extends concatenates (compose's merge rules); other lists are replaced.
_CONCATENATED = {
    "ports",
    "expose",
    "dns",
    "dns_search",
    "tmpfs",
    "volumes",
    "devices",
    "cap_add",
    "cap_drop",
    "security_opt",
    "external_links",
    "extra_hosts",
}


def merge(parent: Mapping[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """Merges an extended service under the extending one, as compose does (simplified:
    mappings merge, the lists above concatenate, everything else is the child's)."""
    out = dict(parent)
    for key, value in child.items():
        old = out.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            out[key] = {**old, **value}
        elif key in _CONCATENATED and isinstance(old, list) and isinstance(value, list):
            out[key] = old + [v for v in value if v not in old]
        else:
            out[key] = value
    return out
