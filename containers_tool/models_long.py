"""Input models of long-running work: background jobs, health waits, logs and snapshots."""

from __future__ import annotations

from pydantic import Field, model_validator

from containers_tool.jobs import JOB_ID_PATTERN
from containers_tool.models import NAME_PATTERN, ContainerInput, CreateInput, EnvMap, Input

JobId = Field(
    pattern=JOB_ID_PATTERN,
    max_length=40,
    description="The job_id exec_background returned (list_jobs shows them).",
)
SnapshotName = Field(
    pattern=NAME_PATTERN,
    description="Snapshot name (letters, digits, _.-; starts with a letter or digit).",
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


class LogsInput(ContainerInput):
    """Returns the container's own output (its main command's stdout/stderr), bounded."""

    tail: int | None = Field(
        200,
        ge=1,
        le=100_000,
        description="Lines from the end of the output (both streams together) to return; "
        "default 200, null for all (still bounded by max_output).",
    )
    since: float | None = Field(
        None, ge=0, description="Only lines from the last `since` seconds (0: none)."
    )
    max_output: int | None = Field(
        None, ge=256, le=1_000_000, description="Bytes kept per stream (head+tail); default 16000."
    )


class WaitHealthyInput(ContainerInput):
    """Waits until a check passes: a command in the container, an HTTP URL, or a TCP port."""

    health_command: str | list[str] | None = Field(
        None,
        min_length=1,
        description="Command run in the container; healthy when it exits 0.",
    )
    url: str | None = Field(
        None,
        pattern=r"^https?://",
        description="URL fetched from inside the container; healthy on a 2xx/3xx answer.",
    )
    port: int | None = Field(
        None, ge=1, le=65535, description="TCP port inside the container; healthy when it accepts."
    )
    interval: float = Field(
        0.5, ge=0.05, le=60, description="Seconds between attempts; default 0.5."
    )
    retries: int | None = Field(
        None, ge=1, le=10_000, description="Attempts before giving up (instead of timeout)."
    )
    timeout: float | None = Field(
        None, gt=0, le=3600, description="Seconds before giving up; default 60."
    )

    @model_validator(mode="after")
    def _one_check(self) -> WaitHealthyInput:
        given = [n for n in ("health_command", "url", "port") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("health_command: give exactly one of health_command, url or port")
        return self


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
