"""Input models of background jobs: exec_background, exec_poll, exec_cancel, list_jobs."""

from __future__ import annotations

from pydantic import Field

from containers_tool.labels import JOB_ID_PATTERN
from containers_tool.models.common import ContainerInput, EnvMap

JobId = Field(
    pattern=JOB_ID_PATTERN,
    max_length=40,
    description="The job_id exec_background returned (list_jobs shows them).",
)


class ExecBackgroundInput(ContainerInput):
    """Starts a command in the background and returns a job_id at once; poll it with exec_poll."""

    command: str | list[str] = Field(
        description="A shell string (run by /bin/sh -c) or an argv list (run as is, no shell).",
        min_length=1,
    )
    workdir: str | None = Field(None, description="Directory to run in; default the workdir.")
    env: EnvMap = Field(default_factory=dict)
    as_root: bool = Field(False, description="Run as root instead of the mapped user.")


class ExecPollInput(ContainerInput):
    """Returns a background job's new output since offset, and its exit code once it ended."""

    job_id: str = JobId
    offset: int = Field(
        0, ge=0, description="Bytes of output already read: pass the offset the last poll gave."
    )
    wait: float = Field(
        0,
        ge=0,
        le=300,
        description="Seconds to wait for new output or the exit before answering (long-poll); "
        "it answers as soon as either arrives, so no sleep loop is needed.",
    )
    max_output: int | None = Field(
        None, ge=256, le=1_000_000, description="Bytes of new output returned (head+tail)."
    )


class ExecCancelInput(ContainerInput):
    """Kills a background job with its whole process group and reports its exit code."""

    job_id: str = JobId
    grace: float = Field(
        1.0, ge=0, le=60, description="Seconds between SIGTERM and SIGKILL; default 1."
    )


class ListJobsInput(ContainerInput):
    """Lists the container's background jobs with their state, exit code and output size."""
