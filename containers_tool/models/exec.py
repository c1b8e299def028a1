"""Input models of exec and exec_interactive_hint."""

from __future__ import annotations

from pydantic import Field

from containers_tool.labels import SHELL_SESSION_PATTERN
from containers_tool.models.common import ContainerInput, EnvMap


class ExecInput(ContainerInput):
    """Runs a command to completion and returns exit code, stdout and stderr (bounded)."""

    command: str | list[str] = Field(
        description="A shell string (run by /bin/sh -c) or an argv list (run as is, no shell).",
        min_length=1,
    )
    timeout: float | None = Field(
        None, gt=0, le=86400, description="Seconds before the command is killed; default 120."
    )
    workdir: str | None = Field(None, description="Directory to run in; default the workdir.")
    env: EnvMap = Field(default_factory=dict)
    as_root: bool = Field(False, description="Run as root instead of the mapped user.")
    max_output: int | None = Field(
        None, ge=256, le=1_000_000, description="Bytes kept per stream (head+tail); default 16000."
    )
    session: str | None = Field(
        None,
        pattern=SHELL_SESSION_PATTERN,
        description="Run in the named persistent shell of this container, made on first use: "
        "cd, exported variables and activated venvs carry over to later calls with the same "
        "session, and a call takes about a millisecond. `exit` ends only the command; stdin is "
        "/dev/null. workdir and env act as cd and export there. close_session ends it. "
        "Unrelated to session_id.",
    )


class ExecHintInput(ContainerInput):
    """Returns the shell line a human pastes to get an interactive shell in the container."""
