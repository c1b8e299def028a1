"""Input model of cache_clear."""

from __future__ import annotations

from pydantic import Field

from containers_tool.models.common import Input


class CacheClearInput(Input):
    """Removes cached purpose images (all, or one purpose's); refuses while containers use them."""

    purpose: str | None = Field(
        None, pattern=r"^[a-z0-9][a-z0-9-]{0,40}$", description="Only this purpose's images."
    )
