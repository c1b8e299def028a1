"""Purpose images: built once from a generated context, tagged by a content hash, reused."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import shlex
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from containers_tool import labels as lb
from containers_tool.credentials import CA_PATH, CA_TARGET_VARS
from containers_tool.errors import NotFoundError
from containers_tool.purposes import Purpose
from containers_tool.runtime import Runtime
from containers_tool.settings import Settings

#: Bump when the generated Dockerfile changes shape: every cache key changes with it.
BUILDER_VERSION = "1"
CACHE_LABEL = lb.PREFIX + "purpose-cache"
KEY_LABEL = lb.PREFIX + "cache-key"
REPO = "localhost/containers-tool"

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


def cache_key(purpose: Purpose, base_id: str, ca_digest: str | None) -> str:
    """Returns 12 hex digits of sha256 over the resolved purpose, base image id, builder version."""
    material = {
        "purpose": purpose.model_dump(mode="json", exclude={"description"}),
        "base": base_id,
        "builder": BUILDER_VERSION,
        "ca": ca_digest,
    }
    canonical = json.dumps(material, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def dockerfile(purpose: Purpose, with_ca: bool) -> str:
    """Returns the Dockerfile of a purpose image: base, CA (build-time), packages, setup, env."""
    lines = [f"FROM {purpose.image}", "USER root"]
    if with_ca:
        # Build-time only: ARGs are visible to RUN steps but not kept in the image's env.
        lines.append(f"COPY ca-bundle.crt {CA_PATH}")
        lines += [f"ARG {var}={CA_PATH}" for var in CA_TARGET_VARS]
    if purpose.packages:
        pkgs = " ".join(shlex.quote(p) for p in purpose.packages)
        lines.append(f"RUN {INSTALL.format(pkgs=pkgs)}")
    lines += [f"RUN {step}" for step in purpose.setup]
    for name, value in sorted(purpose.env.items()):
        lines.append(f"ENV {name}={json.dumps(value)}")
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
    runtime: Runtime,
    settings: Settings,
    purpose: Purpose,
    ca_bundle: Path | None,
    *,
    cache_bust: bool = False,
    on_line: Callable[[str], None] | None = None,
) -> CachedImage:
    """Returns the purpose's cached image, building it once if needed.

    Nothing per-create ever enters the build: only the purpose and the (public) CA bundle.

    Raises:
        NotFoundError: The base image is missing and cannot be pulled.
        BuildFailedError: A package or setup step failed.
    """
    if not runtime.image_exists(purpose.image):
        if settings.pull == "never":
            raise NotFoundError(
                f"Base image {purpose.image!r} of purpose {purpose.name!r} is not present.",
                hint="Load it, or set purpose_images / image_prefix in settings.",
                field="purpose",
            )
        runtime.pull_image(purpose.image)
    base_id = runtime.inspect_image(purpose.image).id
    ca_bytes = ca_bundle.read_bytes() if ca_bundle is not None else None
    ca_digest = hashlib.sha256(ca_bytes).hexdigest() if ca_bytes is not None else None
    key = cache_key(purpose, base_id, ca_digest)
    tag = f"{REPO}/{purpose.name}:{key}"
    if not cache_bust and runtime.image_exists(tag):
        return CachedImage(tag, key, True, 0, 0)
    with _build_lock(settings, key):
        # Another process may have built it while this one waited for the lock.
        if not cache_bust and runtime.image_exists(tag):
            return CachedImage(tag, key, True, 0, 0)
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="containers-tool-build-") as ctx_dir:
            context = Path(ctx_dir)
            text = dockerfile(purpose, ca_bytes is not None)
            (context / "Dockerfile").write_text(text, encoding="utf-8")
            if ca_bytes is not None:
                (context / "ca-bundle.crt").write_bytes(ca_bytes)
            labels = {
                lb.MANAGED_BY: lb.MANAGER,
                CACHE_LABEL: "true",
                lb.PURPOSE: purpose.name,
                KEY_LABEL: key,
            }
            runtime.build_image(context, tag, labels, on_line, nocache=cache_bust)
        steps = sum(1 for line in text.splitlines() if line.startswith(("RUN", "COPY", "ENV")))
        return CachedImage(tag, key, False, int((time.perf_counter() - start) * 1000), steps)
