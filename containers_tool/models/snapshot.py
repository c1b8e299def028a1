"""Input models of snapshots: snapshot, restore, list_snapshots, delete_snapshot."""

from __future__ import annotations

from pydantic import Field, model_validator

from containers_tool.labels import NAME_PATTERN
from containers_tool.models.common import ContainerInput, Input
from containers_tool.models.lifecycle import CreateInput

SnapshotName = Field(
    pattern=NAME_PATTERN,
    description="Snapshot name (letters, digits, _.-; starts with a letter or digit).",
)


class SnapshotInput(ContainerInput):
    """Saves a container's filesystem as a named snapshot image (forwarded secrets stripped)."""

    name: str = SnapshotName


class RestoreInput(CreateInput):
    """Creates a new container from a snapshot; takes create's fields (name, env, ports, ...)."""

    snapshot: str = SnapshotName

    @model_validator(mode="after")
    def _no_image(self) -> RestoreInput:
        if self.image is not None:
            raise ValueError("image: restore uses the snapshot's image; leave image out")
        return self


class ListSnapshotsInput(Input):
    """Lists the snapshots this tool made."""


class DeleteSnapshotInput(Input):
    """Deletes a snapshot image; refused while a container made from it exists."""

    snapshot: str = SnapshotName
