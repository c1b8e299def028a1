"""Input models of copy_in and copy_out."""

from __future__ import annotations

from pydantic import Field

from containers_tool.models.common import ContainerInput


class CopyInInput(ContainerInput):
    """Copies a host file or directory into the container."""

    source: str = Field(
        min_length=1,
        description="copy_in: host path to copy from. copy_out: path in the container.",
    )
    destination: str = Field(
        min_length=1,
        description=(
            "copy_in: path in the container (relative to the workdir). copy_out: host path. "
            "A path ending in / or an existing directory receives the item by its own name "
            "(the directory's other files stay); otherwise it is the new name."
        ),
    )


class CopyOutInput(CopyInInput):
    """Copies a file or directory out of the container to the host."""
