"""Which host paths a caller may mount, copy from or copy to: one policy for all of them.

`mounts`, `mount_cwd`, compose bind sources (volumes, secrets, configs, env_file, build
contexts), `copy_in` sources and `copy_out` destinations all pass through `HostPaths.check`.
A path is judged by its real path (symlinks resolved), so a link cannot smuggle in what its
target would not get. In order, a path is refused when it:

1. is malformed (NUL, longer than the kernel allows);
2. is, contains or lies in an engine's or containerd's socket or state directory; sockets are
   compared by inode (st_dev, st_ino), so a hard link or a bind mount of one is caught too;
3. lies outside every root of the `allowed_host_paths` setting (default: the working directory
   and the temp dir);
4. is, contains or lies in a sensitive path of the deny-list that is inside its allowed root
   (an operator who allows `/` still cannot mount `/etc`; a working directory of `/root` is
   still usable, since the root itself is what was allowed).

Rule 2 is lifted by `allow_engine_socket`; rules 3 and 4 by widening `allowed_host_paths`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from containers_tool.envelope import clip
from containers_tool.errors import InvalidInputError, PolicyDeniedError
from containers_tool.runtime.discovery import docker_sockets, podman_sockets
from containers_tool.settings import Settings

#: Sockets of containerd and other engines' helpers, beside those discovery knows.
OTHER_SOCKETS = (
    "/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock.ttrpc",
    "/run/docker/containerd/containerd.sock",
    "/run/docker/containerd/containerd.sock.ttrpc",
    "/run/buildkit/buildkitd.sock",
    "/run/crio/crio.sock",
)
#: Directories holding an engine's images, containers, sockets and namespaces.
STATE_DIRS = (
    "/var/lib/docker",
    "/var/lib/containers",
    "/var/lib/containerd",
    "/run/docker",
    "/run/containerd",
    "/run/podman",
    "/run/containers",
    "/run/crio",
    "/run/buildkit",
    "~/.local/share/containers",
    "~/.local/share/docker",
)
#: Host paths never mounted nor copied, even inside an allowed root.
DENIED = (
    "/",
    "/etc",
    "/dev",
    "/proc",
    "/sys",
    "/boot",
    "/root",
    "/bin",
    "/sbin",
    "/lib",
    "/usr",
    "/var/log",
    "~/.ssh",
    "~/.gnupg",
    "~/.docker",
    "~/.config/containers",
    "~/.config/containers-tool",  # its settings could lift this very policy
    "~/.aws",
    "~/.kube",
    "~/.netrc",
    "~/.git-credentials",
    "~/.config/gh",
    "~/.config/gcloud",
)
#: Entries a directory may hold before it is too big to search for sockets.
WALK_BUDGET = 300_000
PATH_MAX = 4096
NAME_MAX = 255
_HINT_ALLOW = (
    "Use a path under an allowed root ({roots}); an operator can add roots to "
    "allowed_host_paths in settings."
)


def shown(text: str, limit: int = 120) -> str:
    """Returns caller input cut to `limit` characters, for a message that echoes it."""
    return clip(text, limit)


def _expand(path: str) -> str:
    return os.path.realpath(Path(path).expanduser())


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _overlaps(path: str, other: str) -> bool:
    """Tells whether `path` is in `other` or holds it (what does not exist holds nothing)."""
    return _within(path, other) or (_within(other, path) and os.path.lexists(other))


def _mount_points() -> list[str]:
    """Mount points of this process's namespace, from /proc/self/mountinfo (empty elsewhere)."""
    try:
        lines = Path("/proc/self/mountinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        parts = line.split(" ")
        if len(parts) > 4:
            # Spaces and the like are octal-escaped (\040).
            found.append(parts[4].encode().decode("unicode_escape"))
    return found


def socket_keys(extra: Iterable[str] = ()) -> frozenset[tuple[int, int]]:
    """Returns (st_dev, st_ino) of every engine and containerd socket that exists here."""
    keys: set[tuple[int, int]] = set()
    for path in [*docker_sockets(), *podman_sockets(), "/run/podman/podman.sock", *OTHER_SOCKETS]:
        keys |= _socket_key(path)
    for url in extra:
        if url and url.startswith("unix://"):
            keys |= _socket_key(url.removeprefix("unix://"))
    return frozenset(keys)


def _socket_key(path: str) -> set[tuple[int, int]]:
    try:
        info = Path(path).stat()
    except OSError:
        return set()
    return {(info.st_dev, info.st_ino)} if stat.S_ISSOCK(info.st_mode) else set()


def _walk(top: str, budget: list[int]) -> Iterator[os.DirEntry[str]]:
    """Yields the entries under `top` without following links; stops when the budget is spent."""
    stack = [top]
    while stack and budget[0] > 0:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    budget[0] -= 1
                    yield entry
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            continue


@dataclass(frozen=True, slots=True)
class HostPaths:
    """The host-path policy of one call.

    Attributes:
        allowed: Real paths of the allowed roots.
        allow_engine_socket: The operator lifted rule 2 (sockets and state directories).
        sockets: (st_dev, st_ino) of the engine sockets.
    """

    allowed: tuple[str, ...]
    allow_engine_socket: bool = False
    sockets: frozenset[tuple[int, int]] = field(default_factory=frozenset)

    def check(self, path: str | Path, field: str, *, what: str = "Host path") -> Path:
        """Returns the real path of `path` if the policy lets a caller use it.

        Args:
            path: The host path as given (relative paths mean the working directory).
            field: The input field, for the error.
            what: How the message names the path ("Mount source", "copy_in source").

        Raises:
            InvalidInputError: The path is malformed.
            PolicyDeniedError: A rule above refuses it; the message says which.
        """
        text = str(path)
        brief = shown(text)
        too_long = len(text) > PATH_MAX or any(len(p) > NAME_MAX for p in text.split("/"))
        if "\x00" in text or too_long:
            raise InvalidInputError(
                f"{what} {brief!r} is not a valid host path (NUL, or longer than the kernel "
                f"allows: {PATH_MAX} bytes, {NAME_MAX} per name).",
                hint="Pass a shorter absolute path that exists on the host.",
                field=field,
            )
        try:
            real = _expand(text)
        except OSError as exc:  # e.g. /proc/1/root, whose link only PID 1's peers may read
            raise PolicyDeniedError(
                f"{what} {brief!r} cannot be resolved to a real path ({exc.strerror}), so the "
                "policy cannot judge it.",
                hint="Pass a plain directory of your project or a temp directory.",
                field=field,
            ) from None
        if self.allow_engine_socket and self._is_socket(real):
            return Path(real)  # the operator allows engine sockets, wherever they are
        if not self.allow_engine_socket:
            self._check_engine(real, brief, field, what, search=False)
        roots = [r for r in self.allowed if _within(real, r)]
        if not roots:
            raise PolicyDeniedError(
                f"{what} {brief!r} (real path {shown(real)!r}) is outside the allowed host paths.",
                hint=_HINT_ALLOW.format(roots=", ".join(self.allowed) or "none"),
                field=field,
            )
        for denied in map(_expand, DENIED):
            if any(_within(denied, r) and denied != r for r in roots) and _overlaps(real, denied):
                raise PolicyDeniedError(
                    f"{what} {brief!r} (real path {shown(real)!r}) is or holds {denied!r}, "
                    "a sensitive host path the policy refuses.",
                    hint="Use a directory of your project or a temp directory instead.",
                    field=field,
                )
        if not self.allow_engine_socket:  # last: searching a tree is the costly part
            self._check_engine(real, brief, field, what, search=True)
        return Path(real)

    def _check_engine(self, real: str, brief: str, field: str, what: str, *, search: bool) -> None:
        """Refuses engine sockets and state directories; `search` looks inside directories."""
        hint = "Leave it out; an operator can set allow_engine_socket: true in settings."
        found = self._socket_in(real) if search else (real if self._is_socket(real) else None)
        if found is not None:
            raise PolicyDeniedError(
                f"{what} {brief!r} is or holds an engine socket ({found!r}, compared by inode): "
                "it would give the container control of the engine.",
                hint=hint,
                field=field,
            )
        for state in () if search else map(_expand, STATE_DIRS):
            if _overlaps(real, state):
                raise PolicyDeniedError(
                    f"{what} {brief!r} (real path {shown(real)!r}) is or holds {state!r}, an "
                    "engine's state directory: it would give the container control of the engine.",
                    hint=hint,
                    field=field,
                )

    def _is_socket(self, real: str) -> bool:
        try:
            info = Path(real).stat()
        except OSError:
            return False
        return (info.st_dev, info.st_ino) in self.sockets

    def _socket_in(self, real: str) -> str | None:
        """Returns a path at or under `real` that is one of the engine sockets, or None."""
        try:
            top = Path(real).stat()
        except OSError:
            return None
        if (top.st_dev, top.st_ino) in self.sockets:
            return real
        if not stat.S_ISDIR(top.st_mode):
            return None
        # A hard link lives on its socket's filesystem: search only the parts of the tree on
        # one (the tree itself, or a file system mounted inside it).
        devices = {dev for dev, _ in self.sockets}
        starts = [real] if top.st_dev in devices else []
        for point in _mount_points():
            if point != real and _within(point, real):
                try:
                    if Path(point).stat().st_dev in devices:
                        starts.append(point)
                except OSError:
                    continue
        budget = [WALK_BUDGET]
        for start in starts:
            for entry in _walk(start, budget):
                if entry.is_dir(follow_symlinks=False) or entry.is_file(follow_symlinks=False):
                    continue
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                named = entry.name.endswith(("docker.sock", "podman.sock"))
                if (info.st_dev, info.st_ino) in self.sockets or (
                    named and stat.S_ISSOCK(info.st_mode)
                ):
                    return entry.path
            if budget[0] <= 0:
                return f"{start} (more than {WALK_BUDGET:,} entries to search)"
        return None


def allowed_roots(entries: Iterable[str], cwd: Path | None = None) -> tuple[str, ...]:
    """Returns the real paths of the `allowed_host_paths` entries ("." is the working dir)."""
    base = cwd or Path.cwd()
    roots = []
    for entry in entries:
        path = Path(entry).expanduser()
        roots.append(os.path.realpath(path if path.is_absolute() else base / path))
    return tuple(dict.fromkeys(roots))


def for_settings(settings: Settings, cwd: Path | None = None) -> HostPaths:
    """Returns the host-path policy the settings describe."""
    endpoints = [
        settings.docker_host or "",
        settings.podman_host or "",
        os.environ.get("DOCKER_HOST", ""),
        os.environ.get("CONTAINER_HOST", ""),
    ]
    return HostPaths(
        allowed=allowed_roots(settings.allowed_host_paths, cwd),
        allow_engine_socket=settings.allow_engine_socket,
        sockets=socket_keys(endpoints),
    )
