"""Pure logic of background jobs and service containers (no engine)."""

from __future__ import annotations

import pytest

from containers_tool.core import jobs


@pytest.mark.parametrize(
    ("memory", "size"),
    [(2 * 2**30, "524288k"), (32 * 2**20, "16384k"), (64 * 2**30, "1048576k")],
)
def test_tool_tmpfs_is_a_quarter_of_memory_within_bounds(memory, size):
    assert jobs.tmpfs_options(memory) == f"mode=1777,size={size}"
