"""The `backend` fixture: one connected runtime per registered backend (BACKENDS)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from containers_tool import labels as lb
from containers_tool.errors import RuntimeUnavailableError
from containers_tool.runtime.backends import BACKENDS, get_runtime
from containers_tool.runtime.protocol import Runtime
from containers_tool.settings import Settings

#: Every object the contract makes carries these labels; the fixture removes what is left.
SESSION = f"contract-{secrets.token_hex(4)}"
LABELS = lb.managed_filter(SESSION)


@pytest.fixture(scope="session", params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> Iterator[Runtime]:
    """A connected runtime of the backend; fails under CI=true when it does not answer."""
    try:
        runtime = get_runtime(Settings(runtime=request.param))
        runtime.info()
    except RuntimeUnavailableError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{request.param} is unreachable under CI=true: {exc.message}")
        pytest.skip(f"{request.param} unreachable: {exc.hint}")
    yield runtime
    for info in runtime.list_containers(LABELS):
        runtime.remove_container(info.id)
    runtime.close()
