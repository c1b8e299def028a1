"""Input models of persistent shells; `exec` takes `session` to use one."""

from __future__ import annotations

from pydantic import Field

from containers_tool.labels import SHELL_SESSION_PATTERN
from containers_tool.models.common import ContainerInput


class CloseSessionInput(ContainerInput):
    """Ends a persistent shell session that exec with session= opened (status lists them)."""

    session: str = Field(
        pattern=SHELL_SESSION_PATTERN, description="The session name given to exec."
    )
