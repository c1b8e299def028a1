"""DockerRuntime's images: inspect, list, tag, remove, build, and commit by export/import."""

from __future__ import annotations

import contextlib
import secrets
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import docker
import docker.errors
import docker.tls

from containers_tool.runtime.commit import config_changes, final_env_labels
from containers_tool.runtime.docker.errors import _engine_errors
from containers_tool.runtime.inspect import image_info
from containers_tool.runtime.streams import (
    build_failed,
    plain,
)
from containers_tool.runtime.types import (
    BUILD_SILENCE_S,
    ImageInfo,
)

#: Names of the holder containers `derive_image` commits (never started, removed at once).
HOLDER_PREFIX = "ct-layer-holder-"
#: A holder older than this was left by a process that died; the next derive removes it.
HOLDER_STALE_S = 600


def _rows(rows: Any, shown: Callable[[str], bool]) -> list[ImageInfo]:
    """ImageInfos of an image list's rows, with the tags `shown` keeps."""
    return [
        ImageInfo(
            id=str(r.get("Id", "")),
            tags=[t for t in r.get("RepoTags") or [] if shown(t)],
            labels=dict(r.get("Labels") or {}),
            size=int(r.get("Size") or 0),
            created=str(r.get("Created") or ""),
        )
        for r in rows or []
    ]


class DockerImages:
    """Images over the Docker API; a mixin of DockerRuntime."""

    _api: docker.APIClient

    def inspect_image(self, ref: str) -> ImageInfo:
        """See Runtime.inspect_image."""
        with _engine_errors(f"Image {ref!r}"):
            data = self._api.inspect_image(ref)  # type: ignore[no-untyped-call]
        return image_info(data)

    def list_images(self, labels: Mapping[str, str]) -> list[ImageInfo]:
        """See Runtime.list_images."""
        filters = {"label": [f"{k}={v}" for k, v in labels.items()]}
        with _engine_errors("Docker"):
            rows = self._api.images(filters=filters)
        return _rows(rows, lambda tag: tag != "<none>:<none>")

    def derive_image(self, base: str, tar: bytes, ref: str) -> str:
        """See Layers.derive_image: a never-started holder container, one archive, one commit."""
        repo, _, tag = ref.rpartition(":")
        with _engine_errors(f"Image {base!r}"):
            self._sweep_holders()
            config = self._api.inspect_image(base).get("Config") or {}  # type: ignore[no-untyped-call]
            runs = config.get("Cmd") or config.get("Entrypoint")
            # No labels on the holder: a commit merges the container's labels into the image.
            holder = self._api.create_container(
                base,
                None if runs else ["true"],  # never run; create only needs a command
                name=f"{HOLDER_PREFIX}{secrets.token_hex(6)}",
                network_disabled=True,
            )["Id"]
            try:
                self._api.put_archive(holder, "/", tar)
                # `conf` is the base's config, so the holder's (its command, its hostname)
                # stays out of the image; a plain commit would copy them in.
                made = self._api.commit(holder, repository=repo, tag=tag, pause=False, conf=config)
            finally:
                self._api.remove_container(holder, force=True)
        return str(made["Id"])

    def derived_images(self, repository: str) -> list[ImageInfo]:
        """See Layers.derived_images."""
        with _engine_errors("Docker"):
            rows = self._api.images(name=repository)
        return _rows(rows, lambda tag: tag.startswith(repository + ":"))

    def _sweep_holders(self) -> None:
        # A process killed mid-derive leaves its holder: created, never started, unlabelled.
        old = time.time() - HOLDER_STALE_S
        for row in self._api.containers(all=True, filters={"name": HOLDER_PREFIX}):
            names = row.get("Names") or []
            if any(n.lstrip("/").startswith(HOLDER_PREFIX) for n in names) and (
                int(row.get("Created") or 0) < old
            ):
                with contextlib.suppress(docker.errors.APIError):
                    self._api.remove_container(row["Id"], force=True)

    def tag_image(self, ref: str, new_ref: str) -> None:
        """See Runtime.tag_image."""
        repo, _, tag = new_ref.rpartition(":")
        with _engine_errors(f"Image {ref!r}"):
            self._api.tag(ref, repo, tag, force=True)

    def remove_image(self, ref: str) -> None:
        """See Runtime.remove_image."""
        with _engine_errors(f"Image {ref!r}"):
            self._api.remove_image(ref)

    def commit_container(
        self,
        container: str,
        ref: str,
        *,
        labels: Mapping[str, str],
        env: Mapping[str, str],
        command: Sequence[str] | None = None,
        drop_labels: Collection[str] = (),
    ) -> str:
        """See Runtime.commit_container."""
        repo, _, tag = ref.rpartition(":")
        with _engine_errors(f"Container {container!r}"):
            # Not /commit: Docker copies the container's config, env values and labels
            # included, into the image. Export and import leave no such copy.
            config = self._api.inspect_container(container).get("Config") or {}
            entrypoint = config.get("Entrypoint")
            # A Docker change cannot hold a newline: env values and labels are set on a
            # container of the imported image instead, and that container is committed.
            changes = config_changes(
                config, entrypoint, labels, env, command, drop_labels, env_and_labels=False
            )
            envs, all_labels = final_env_labels(config, labels, env, drop_labels)
            self._api.pause(container)
            try:
                tar = self._api.export(container, chunk_size=1024 * 1024)
                self._api.import_image(
                    src=tar, repository=repo, tag=tag, changes=changes, stream_src=True
                )
            finally:
                self._api.unpause(container)
            bare = self._api.inspect_image(ref)["Id"]  # type: ignore[no-untyped-call]
            holder = self._api.create_container(
                ref, environment=[f"{k}={v}" for k, v in envs.items()], labels=all_labels
            )["Id"]
            try:
                self._api.commit(holder, repository=repo, tag=tag)
            finally:
                self._api.remove_container(holder, force=True)
            with contextlib.suppress(docker.errors.APIError):
                self._api.remove_image(bare)  # the untagged import, made just above
            created = self._api.inspect_image(ref)  # type: ignore[no-untyped-call]
        return str(created["Id"])

    def build_image(
        self,
        context: Path,
        tag: str,
        labels: Mapping[str, str],
        on_line: Callable[[str], None] | None = None,
        nocache: bool = False,
    ) -> str:
        """See Runtime.build_image."""
        tail: deque[str] = deque(maxlen=25)
        with _engine_errors(f"Image {tag!r}"):
            for chunk in self._api.build(
                path=str(context),
                tag=tag,
                labels=dict(labels),
                rm=True,
                forcerm=True,
                decode=True,
                pull=False,
                nocache=nocache,
                timeout=int(BUILD_SILENCE_S),
            ):
                if "error" in chunk:
                    raise build_failed(tag, str(chunk["error"]), tail)
                text = plain(str(chunk.get("stream") or chunk.get("status") or ""))
                if text.strip():
                    tail.append(text)
                    if on_line is not None:
                        on_line(text.rstrip())
            return str(self._api.inspect_image(tag)["Id"])  # type: ignore[no-untyped-call]
