"""ComposeDriver: runs whichever compose the machine has; no SDK covers compose.

Four implementations are known, and each engine prefers its own: `docker compose` (v2 plugin),
`docker-compose` (v1), `podman compose` (a wrapper around an external provider) and
`podman-compose`. They differ in argv, in the text of `version`, and in how they report
failure; this module hides those differences. It never reads their `ps` output: what a stack
holds is read back from the engine by label.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from containers_tool.errors import OperationTimeoutError

_VERSION = re.compile(r"v?(\d+\.\d+(?:\.\d+)?)")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: podman-compose's words when a service's dependency does not exist (see `_run`).
_STALLED = re.compile(r"cannot be used as a dependency")


@dataclass(frozen=True, slots=True)
class Candidate:
    """One way to invoke compose, and how to recognise it."""

    label: str  # how preflight names it
    argv: tuple[str, ...]
    flavor: str  # "docker-v2", "docker-v1", "podman", "podman-compose"


@dataclass(frozen=True, slots=True)
class ComposeResult:
    """How one compose command ended; `output` is stdout and stderr, ANSI codes removed."""

    exit_code: int
    output: str


#: In order of preference per engine: the engine's own compose first, v2 before v1.
CANDIDATES: dict[str, tuple[Candidate, ...]] = {
    "docker": (
        Candidate("docker compose (v2)", ("docker", "compose"), "docker-v2"),
        Candidate("docker-compose (v1)", ("docker-compose",), "docker-v1"),
    ),
    "podman": (
        Candidate("podman compose", ("podman", "compose"), "podman"),
        Candidate("podman-compose", ("podman-compose",), "podman-compose"),
        Candidate("docker compose (v2)", ("docker", "compose"), "docker-v2"),
        Candidate("docker-compose (v1)", ("docker-compose",), "docker-v1"),
    ),
}


def _env(flavor: str, endpoint: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("COMPOSE_PROJECT_NAME", None)
    env.pop("COMPOSE_FILE", None)
    env.pop("COMPOSE_PROJECT_DIR", None)  # podman-compose would change to it
    if flavor.startswith("docker"):
        # Docker's compose talks to whichever engine DOCKER_HOST names (Podman has a compat API).
        env["DOCKER_HOST"] = endpoint
    env.setdefault("COMPOSE_INTERACTIVE_NO_CLI", "1")
    return env


def _run(
    argv: Sequence[str],
    env: dict[str, str],
    timeout_s: float,
    cwd: Path | None = None,
    stdin: bytes | None = None,
) -> ComposeResult:
    """Runs one compose command in `cwd`, feeding it `stdin`; stdout and stderr merged in order.

    podman-compose 1.x waits forever for a dependency that could not be created (it polls
    `podman wait --condition=running` for a container that does not exist); once it has said
    so, it is stopped and the run counts as failed, with its text.

    Raises:
        OperationTimeoutError: It ran past `timeout_s` (it was killed); the message has its tail.
    """
    with subprocess.Popen(  # noqa: S603 - an argv list of a located binary, no shell
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
        env=env,
        cwd=cwd,
    ) as proc:
        if proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):  # it may fail before reading
                proc.stdin.write(stdin or b"")
            proc.stdin.close()
        return _collect(proc, argv[0], timeout_s)


def _collect(proc: subprocess.Popen[bytes], program: str, timeout_s: float) -> ComposeResult:
    lines: list[str] = []
    stalled = threading.Event()

    def pump() -> None:
        for raw in proc.stdout or ():
            line = _ANSI.sub("", raw.decode("utf-8", "replace")).replace("\r", "")
            lines.append(line)
            if _STALLED.search(line) and not stalled.is_set():
                stalled.set()
                proc.kill()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        reader.join(timeout=5)
        tail = "".join(lines).strip()[-500:]
        raise OperationTimeoutError(
            f"{program} did not finish within {timeout_s:.0f} s: …{tail}",
            hint="Check the compose file's images and commands; then call create again.",
        ) from None
    reader.join(timeout=5)
    code = proc.returncode
    if stalled.is_set():
        code = code or 1
        lines.append(f"{program} stopped: a service it waits for was never created.\n")
    return ComposeResult(code, "".join(lines))


@dataclass(frozen=True, slots=True)
class ComposeDriver:
    """One detected compose implementation bound to an engine endpoint.

    Args:
        candidate: Which implementation and how to call it.
        version: Its version as it reports it.
        endpoint: The engine's API endpoint.
    """

    candidate: Candidate
    version: str
    endpoint: str

    @property
    def description(self) -> str:
        """What preflight shows, e.g. "docker-compose (v1) 1.29.2"."""
        return f"{self.candidate.label} {self.version}".strip()

    def up(
        self,
        project: str,
        files: Sequence[Path | str],
        timeout_s: float,
        *,
        project_dir: Path,
        scratch: Path,
    ) -> ComposeResult:
        """Brings the stack up detached; a non-zero exit is data, not an error.

        Args:
            project: The project name.
            files: Compose files in order; a `str` is a file's content (only the first may be).
            timeout_s: How long `up` may take.
            project_dir: What relative paths in the files (build, env_file, bind mounts) mean.
            scratch: A private directory for content that has to become a file.

        Raises:
            OperationTimeoutError: It ran past `timeout_s` (it was killed).
        """
        argv = list(self.candidate.argv)
        stdin: bytes | None = None
        paths: list[str] = []
        for file in files:
            if isinstance(file, Path):
                paths.append(str(file))
            elif self.candidate.flavor.startswith("podman"):
                # podman-compose has no --project-directory: the project directory is the first
                # file's, and stdin's ("-") is the working directory.
                paths.append("-")
                stdin = file.encode("utf-8")
            else:
                inline = scratch / "compose.yaml"
                inline.write_text(file, encoding="utf-8")
                paths.append(str(inline))
        if self.candidate.flavor == "podman-compose":
            # A pod would be one more object to clean up, and would share the network namespace.
            argv += ["--in-pod", "false"]
        if self.candidate.flavor.startswith("docker"):
            argv += ["--project-directory", str(project_dir)]
        argv += ["-p", project]
        for path in paths:
            argv += ["-f", path]
        argv += ["up", "-d"]
        env = _env(self.candidate.flavor, self.endpoint)
        return _run(argv, env, timeout_s, cwd=project_dir, stdin=stdin)


def _probe(candidate: Candidate, endpoint: str) -> str | None:
    if shutil.which(candidate.argv[0]) is None:
        return None
    try:
        done = _run([*candidate.argv, "version"], _env(candidate.flavor, endpoint), timeout_s=20.0)
    except OperationTimeoutError:
        return None
    if done.exit_code != 0:
        return None
    # podman-compose also prints podman's version; its own comes first.
    match = _VERSION.search(done.output)
    return match.group(1) if match else ""


@cache
def detect(engine: str, endpoint: str) -> ComposeDriver | None:
    """Returns the preferred compose implementation for an engine, or None; cached per process.

    Args:
        engine: The runtime's name ("docker" or "podman").
        endpoint: The engine's API endpoint, passed on to docker-flavoured composes.
    """
    for candidate in CANDIDATES.get(engine, ()):
        version = _probe(candidate, endpoint)
        if version is not None:
            return ComposeDriver(candidate, version, endpoint)
    return None
