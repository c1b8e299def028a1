"""Purpose images: built once from a generated context, tagged by a content hash, reused."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import secrets
import shlex
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from containers_tool import labels as lb
from containers_tool.errors import BuildFailedError, NotFoundError, ToolError
from containers_tool.provision.credentials import CA_PATH, CA_TARGET_VARS
from containers_tool.provision.purposes import Purpose
from containers_tool.runtime.capabilities import Images, require
from containers_tool.runtime.protocol import Runtime
from containers_tool.runtime.types import ContainerSpec, ExecRequest
from containers_tool.settings import Settings
from containers_tool.sizes import parse_size

#: Bump when the generated Dockerfile changes shape: every cache key changes with it.
BUILDER_VERSION = "3"
REPO = "localhost/containers-tool"
#: Session label of the throwaway container a new image's probe runs in.
PROBE_SESSION = "containers-tool-probe"
PROBE_TIMEOUT = 300.0

#: Installs OS packages with whichever manager the base image has.
INSTALL = (
    "set -e; if command -v apt-get >/dev/null; then export DEBIAN_FRONTEND=noninteractive; "
    "apt-get update -qq; apt-get install -y -qq --no-install-recommends {pkgs} >/dev/null; "
    "rm -rf /var/lib/apt/lists/*; elif command -v apk >/dev/null; then apk add --no-cache {pkgs}; "
    "elif command -v dnf >/dev/null; then dnf install -y -q {pkgs}; dnf clean all; "
    "elif command -v microdnf >/dev/null; then microdnf install -y {pkgs}; "
    "else echo 'no known package manager in the base image' >&2; exit 1; fi"
)


@dataclass(frozen=True, slots=True)
class CachedImage:
    """A purpose image ready to run."""

    tag: str
    key: str
    cache_used: bool
    build_ms: int
    steps: int
    #: The image's id, when asked for (`want_id`); "" otherwise.
    id: str = ""


def cache_key(purpose: Purpose, base_id: str, ca_digest: str | None) -> str:
    """Returns 12 hex digits of sha256 over the resolved purpose, base image id, builder version.

    The resolved purpose includes its build_env, so a mirror or a version pin is a new image.
    """
    material = {
        "purpose": purpose.model_dump(mode="json", exclude={"description"}),
        "base": base_id,
        "builder": BUILDER_VERSION,
        "ca": ca_digest,
    }
    canonical = json.dumps(material, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def build_env(purpose: Purpose) -> dict[str, str]:
    """The resolved purpose's build_env without the unset (empty) variables."""
    return {k: v for k, v in sorted(purpose.build_env.items()) if v}


def dockerfile(purpose: Purpose, with_ca: bool) -> str:
    """Returns the Dockerfile of a purpose image: base, CA, build env, packages, setup, env."""
    lines = [f"FROM {purpose.image}", "USER root"]
    # Mirrors a build needs are what the container needs too (pip, go mod, cargo), so they
    # stay in the image's env; an unset one stays unset, so each tool keeps its own default.
    lines += [f"ENV {name}={json.dumps(value)}" for name, value in build_env(purpose).items()]
    if with_ca:
        # The bundle (public certificates) stays in the image at CA_PATH; the variables are
        # ARGs, seen by RUN steps only, so containers without forward_ca do not use it.
        lines.append(f"COPY ca-bundle.crt {CA_PATH}")
        lines += [f"ARG {var}={CA_PATH}" for var in CA_TARGET_VARS]
    if purpose.packages:
        pkgs = " ".join(shlex.quote(p) for p in purpose.packages)
        lines.append(f"RUN {INSTALL.format(pkgs=pkgs)}")
    lines += [f"RUN {step}" for step in purpose.setup]
    for name, value in sorted(purpose.env.items()):
        lines.append(f"ENV {name}={json.dumps(value)}")
    # The image holds the workdir already: Podman spends ~30 ms of each start making a missing
    # one. WORKDIR needs no shell in the image, and comes last so setup steps keep their cwd.
    lines.append(f"WORKDIR {json.dumps(purpose.workdir)}")
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def _build_lock(settings: Settings, key: str) -> Iterator[None]:
    """Serialises builds of one key across threads and processes (flock on a file)."""
    folder = Path(settings.cache_dir or Path.home() / ".cache" / "containers-tool") / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{key}.lock").open("w", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_purpose_image(
    engine: Runtime,
    settings: Settings,
    purpose: Purpose,
    ca_bundle: Path | None,
    *,
    cache_bust: bool = False,
    on_line: Callable[[str], None] | None = None,
    want_id: bool = False,
) -> CachedImage:
    """Returns the purpose's cached image, building it once if needed.

    Nothing per-create ever enters the build: only the purpose and the (public) CA bundle.

    Raises:
        NotFoundError: The base image is missing and cannot be pulled.
        BuildFailedError: A package or setup step failed, or the probe failed in a fresh
            container of the new image (which is then not kept).
        InvalidInputError: The backend has no local images to build into.
    """
    runtime = require(engine, Images, "create with purpose")

    def present() -> str | None:
        # The id, not the tag, tells a cache_bust rebuild from the image it replaced.
        if not want_id:
            return "" if runtime.image_exists(tag) else None
        try:
            return runtime.inspect_image(tag).id
        except NotFoundError:
            return None

    try:  # one inspect says whether the base is present and its id
        base_id = runtime.inspect_image(purpose.image).id
    except NotFoundError:
        if settings.pull == "never":
            raise NotFoundError(
                f"Base image {purpose.image!r} of purpose {purpose.name!r} is not present.",
                hint="Load it, or set purpose_images / image_prefix in settings.",
                field="purpose",
            ) from None
        runtime.pull_image(purpose.image)
        base_id = runtime.inspect_image(purpose.image).id
    ca_bytes = ca_bundle.read_bytes() if ca_bundle is not None else None
    ca_digest = hashlib.sha256(ca_bytes).hexdigest() if ca_bytes is not None else None
    key = cache_key(purpose, base_id, ca_digest)
    tag = f"{REPO}/{purpose.name}:{key}"
    if not cache_bust and (found := present()) is not None:
        return CachedImage(tag, key, True, 0, 0, found)
    with _build_lock(settings, key):
        # Another process may have built it while this one waited for the lock.
        if not cache_bust and (found := present()) is not None:
            return CachedImage(tag, key, True, 0, 0, found)
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="containers-tool-build-") as ctx_dir:
            context = Path(ctx_dir)
            text = dockerfile(purpose, ca_bytes is not None)
            (context / "Dockerfile").write_text(text, encoding="utf-8")
            if ca_bytes is not None:
                (context / "ca-bundle.crt").write_bytes(ca_bytes)
            labels = {
                lb.MANAGED_BY: lb.MANAGER,
                lb.CACHE_LABEL: "true",
                lb.PURPOSE: purpose.name,
                lb.KEY_LABEL: key,
            }
            # Built under a candidate tag: the real tag appears only once the probe passed,
            # so no create (one waiting on this lock included) ever gets an unproven image.
            candidate = f"{tag}-candidate"
            runtime.build_image(context, candidate, labels, on_line, nocache=cache_bust)
        try:
            probe(runtime, purpose, candidate)
            runtime.tag_image(candidate, tag)
        finally:
            with contextlib.suppress(ToolError):
                runtime.remove_image(candidate)  # only the candidate tag once `tag` is on it
        steps = sum(1 for line in text.splitlines() if line.startswith(("RUN", "COPY", "ENV")))
        ms = int((time.perf_counter() - start) * 1000)
        return CachedImage(tag, key, False, ms, steps, present() or "")


def probe(runtime: Runtime, purpose: Purpose, image: str) -> None:
    """Runs the purpose's probe as root in a fresh container of `image`, then removes it.

    Raises:
        BuildFailedError: The probe did not exit 0 (the hint holds its output's tail).
    """
    spec = ContainerSpec(
        name=f"ct-probe-{purpose.name}-{secrets.token_hex(4)}",
        image=image,
        command=("sleep", "infinity"),
        labels={lb.MANAGED_BY: lb.MANAGER, lb.SESSION: PROBE_SESSION, lb.PURPOSE: purpose.name},
        workdir=purpose.workdir,
        user="0:0",
        memory_bytes=parse_size(purpose.resources.memory),
        nano_cpus=int(purpose.resources.cpus * 1e9),
        pids_limit=purpose.resources.pids,
    )
    cid = runtime.create_container(spec)
    try:
        runtime.start_container(cid)
        req = ExecRequest(
            argv=["/bin/sh", "-c", purpose.probe],
            workdir=purpose.workdir,
            user="0:0",
            timeout_s=PROBE_TIMEOUT,
            output_limit=2000,
        )
        result = runtime.exec_command(cid, req)
    finally:
        runtime.remove_container(cid)
    if result.exit_code != 0:
        output = (result.stderr.text + result.stdout.text).strip()[-1500:] or "no output"
        raise BuildFailedError(
            f"Purpose {purpose.name!r} built, but its probe failed in a fresh container "
            f"(exit {'timeout' if result.timed_out else result.exit_code}); the image was "
            "not kept.",
            hint=f"Fix the purpose's packages, setup or probe ({purpose.probe!r}). "
            f"Probe output:\n{output}",
            field="purpose",
        )
