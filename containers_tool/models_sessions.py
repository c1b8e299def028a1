"""Input models of persistent shell sessions (issue 4); `exec` takes `session` to use one."""

from __future__ import annotations

from pydantic import Field

from containers_tool.models import ContainerInput
from containers_tool.sessions import SHELL_SESSION_PATTERN


class CloseSessionInput(ContainerInput):
    """Ends a persistent shell session that exec with session= opened (status lists them)."""

    session: str = Field(
        pattern=SHELL_SESSION_PATTERN, description="The session name given to exec."
    )
