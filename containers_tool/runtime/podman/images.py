"""PodmanRuntime's images: inspect, list, tag, remove, build, and commit by export/import."""

from __future__ import annotations

import io
import json
import tarfile
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path

from podman.api.client import APIClient

from containers_tool.runtime.commit import config_changes
from containers_tool.runtime.inspect import image_info
from containers_tool.runtime.podman.errors import _check, _engine_errors
from containers_tool.runtime.streams import (
    build_failed,
    plain,
)
from containers_tool.runtime.types import (
    BUILD_SILENCE_S,
    ImageInfo,
)


class PodmanImages:
    """Images over libpod; a mixin of PodmanRuntime."""

    _api: APIClient

    def inspect_image(self, ref: str) -> ImageInfo:
        """See Runtime.inspect_image."""
        with _engine_errors(f"Image {ref!r}"):
            data = _check(self._api.get(f"/images/{ref}/json")).json()
        return image_info(data)

    def list_images(self, labels: Mapping[str, str]) -> list[ImageInfo]:
        """See Runtime.list_images."""
        # Podman 4.3's image list answers nothing for two or more label filters: send one and
        # check the rest here.
        first = dict(list(labels.items())[:1])
        filters = {"label": [f"{k}={v}" for k, v in first.items()]}
        with _engine_errors("Podman"):
            rows = _check(
                self._api.get("/images/json", params={"filters": json.dumps(filters)})
            ).json()
        return [
            ImageInfo(
                id=str(r.get("Id", "")),
                tags=[t for t in r.get("RepoTags") or [] if t != "<none>:<none>"],
                labels=dict(r.get("Labels") or {}),
                size=int(r.get("Size") or 0),
                created=str(r.get("Created") or ""),
            )
            for r in rows or []
            if all((r.get("Labels") or {}).get(k) == v for k, v in labels.items())
        ]

    def tag_image(self, ref: str, new_ref: str) -> None:
        """See Runtime.tag_image."""
        repo, _, tag = new_ref.rpartition(":")
        with _engine_errors(f"Image {ref!r}"):
            _check(self._api.post(f"/images/{ref}/tag", params={"repo": repo, "tag": tag}))

    def remove_image(self, ref: str) -> None:
        """See Runtime.remove_image."""
        with _engine_errors(f"Image {ref!r}"):
            _check(self._api.delete(f"/images/{ref}"))

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
        subject = f"Container {container!r}"
        with _engine_errors(subject):
            data = _check(self._api.get(f"/containers/{container}/json")).json()
            config = data.get("Config") or {}
            # Podman 4 reports the entrypoint as one string; the image's is a list, and the
            # tool never overrides it.
            image = _check(self._api.get(f"/images/{data.get('Image', '')}/json")).json()
            entrypoint = (image.get("Config") or {}).get("Entrypoint")
            changes = config_changes(
                config, entrypoint, labels, env, command, drop_labels, escapes=False
            )
            # Not /commit: it copies every container label into the image, and no change can
            # remove one. Export and import give the image exactly the config built here.
            _check(self._api.post(f"/containers/{container}/pause"))
            try:
                exported = _check(self._api.get(f"/containers/{container}/export", stream=True))
                try:
                    created = _check(
                        self._api.post(
                            "/images/import",
                            params={"reference": ref, "changes": changes},
                            data=exported.iter_content(1024 * 1024),
                            headers={"Content-Type": "application/x-tar"},
                            timeout=600,  # a big filesystem takes a while to store
                        )
                    ).json()
                finally:
                    exported.close()
            finally:
                _check(self._api.post(f"/containers/{container}/unpause"))
        return str(created.get("Id") or created.get("id") or "")

    def build_image(
        self,
        context: Path,
        tag: str,
        labels: Mapping[str, str],
        on_line: Callable[[str], None] | None = None,
        nocache: bool = False,
    ) -> str:
        """See Runtime.build_image."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            tar.add(str(context), arcname=".")
        params = {
            "t": tag,
            "labels": json.dumps(dict(labels)),
            "rm": "true",
            "forcerm": "true",
            "layers": "false",  # one image per purpose; no labelled intermediates
            "pull": "false",
            "nocache": str(nocache).lower(),
        }
        tail: deque[str] = deque(maxlen=25)
        with _engine_errors(f"Image {tag!r}"):
            response = _check(
                self._api.post(
                    "/build",
                    params=params,
                    data=buf.getvalue(),
                    stream=True,
                    headers={"Content-Type": "application/x-tar"},
                    timeout=BUILD_SILENCE_S,
                )
            )
            for raw in response.iter_lines():
                if not raw:
                    continue
                chunk = json.loads(raw)
                if chunk.get("error"):
                    raise build_failed(tag, str(chunk["error"]), tail)
                text = plain(str(chunk.get("stream") or ""))
                if text.strip():
                    tail.append(text)
                    if on_line is not None:
                        on_line(text.rstrip())
            data = _check(self._api.get(f"/images/{tag}/json")).json()
        return str(data.get("Id", ""))
