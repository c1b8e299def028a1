"""Background jobs whose whole state lives in files inside the container.

A job is a directory under `JOBS_DIR` holding its output, the pid of its process group, and its
exit code once it ends. Any tool process can therefore poll or cancel a job another one started:
nothing is kept on the side (the engine, here the container's filesystem, is the database).
`JOBS_DIR` is on the tmpfs create mounts at `/run/containers-tool`: job output may print a
forwarded secret, and a tmpfs is in no commit, snapshot or export (a restored container lists
none of its source's jobs either).

Layout of `JOBS_DIR/<job_id>/`: `command` (the text, for list_jobs), `started` (epoch seconds),
`wrapper` (pid of the shell that waits for the job), `pid` (the job's pid, which is also its
process group id thanks to setsid), `output` (stdout and stderr interleaved), `exit` (written
atomically when the job ends), `cancelled` (present when exec_cancel ended it).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from containers_tool import labels as lb
from containers_tool.errors import (
    EngineError,
    InvalidInputError,
    NotFoundError,
    QuotaExceededError,
    ToolError,
)
from containers_tool.runtime.streams import TREE_FUNCTIONS
from containers_tool.runtime.types import ExecRequest, ExecResult
from containers_tool.runtime.users import ROOT

#: Jobs of containers made by create: on the tool's tmpfs (see `tmpfs_options`).
JOBS_DIR = lb.ENVFILE_DIR + "/jobs"
#: Jobs of containers without that tmpfs (made by compose, or by an older version of the tool).
FALLBACK_DIR = "/tmp/.containers-tool-jobs"  # noqa: S108 - inside the container, sticky dir
#: Shell that sets $b to the container's jobs directory; the choice depends only on the container.
_BASE = f"b={JOBS_DIR}; [ -d {lb.ENVFILE_DIR} ] || b={FALLBACK_DIR}"
#: Bounds of the tmpfs: its pages count against the container's memory limit.
TMPFS_MIN, TMPFS_MAX = 16 * 2**20, 2**30
JOB_MARKER_VAR = "CONTAINERS_TOOL_JOB"
#: Seconds between a long-poll's checks inside the container (they bound how late an exit is
#: seen) after its first half second of 10 ms checks; its wait counts in 10 ms units.
TICK_S, FAST_TICK_S, FAST_TICKS, TICK_S_FAST = 0.05, 0.01, 50, 5
#: Exit status a shell reports for a job killed by SIGKILL.
KILLED = 137
#: Finished jobs kept (newest by exit time); older ones are removed when a job starts, since
#: their output sits in the container's memory. Running jobs are never removed.
KEEP_FINISHED = 32

_ID_RE = re.compile(lb.JOB_ID_PATTERN)

# $1 job id, $2 command text (recorded only), $3.. the argv to run, never re-split by a shell.
# Past KEEP_FINISHED finished jobs, the oldest finished ones go first (their output is in RAM).
# The wrapper subshell waits for the job and writes its exit; setsid gives the job its own
# process group, and the marker variable tags every descendant for cancel's /proc scan.
START_SCRIPT = f"""
{_BASE}; id="$1"; shift
mkdir -m 1777 "$b" 2>/dev/null
many() {{ [ $# -gt {KEEP_FINISHED} ]; }}
if many "$b"/*/exit; then
  ls -t "$b"/*/exit | tail -n +{KEEP_FINISHED + 1} | while read -r f; do rm -rf "${{f%/exit}}"; done
fi 2>/dev/null
d="$b/$id"
mkdir -m 0755 "$d" || {{ echo "cannot create $d" >&2; exit 90; }}
printf '%s' "$1" > "$d/command"; shift
date +%s > "$d/started"
: > "$d/output"
if command -v setsid >/dev/null 2>&1; then s=setsid; else s=; fi
(
  {JOB_MARKER_VAR}="$id" $s "$@" </dev/null >"$d/output" 2>&1 &
  echo $! > "$d/pid.tmp"; mv "$d/pid.tmp" "$d/pid"
  wait $!
  echo $? > "$d/exit.tmp"; mv "$d/exit.tmp" "$d/exit"
) </dev/null >/dev/null 2>&1 &
echo $! > "$d/wrapper"
i=0; while [ ! -e "$d/pid" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done
echo "$(cat "$d/pid") $d"
"""

# $1 job id, $2 offset, $3 ticks to wait for news, $4 byte limit of the output returned.
# stdout: the output's head; stderr: one META line, then the output's tail when it was cut.
# While the job runs, the answer ends before a UTF-8 character still being written ($z): the
# next poll starts at its first byte instead of in its middle.
POLL_SCRIPT = f"""
{_BASE}; d="$b/$1"; o=$2; t=$3; lim=$4
[ -d "$d" ] || {{ echo "META missing" >&2; exit 3; }}
w=$(cat "$d/wrapper" 2>/dev/null); i=0; k={FAST_TICK_S}; s=1
while [ ! -e "$d/exit" ] && [ $i -lt $t ] && [ -d "/proc/$w" ] \\
  && [ "$(stat -c %s "$d/output")" -le "$o" ]; do sleep $k; i=$((i+s))
  [ $i -lt {FAST_TICKS} ] || {{ k={TICK_S}; s={TICK_S_FAST}; }}; done
e=$(cat "$d/exit" 2>/dev/null); a=0; [ -n "$w" ] && [ -d "/proc/$w" ] && a=1
c=0; [ -e "$d/cancelled" ] && c=1
s=$(stat -c %s "$d/output"); z=$s
if [ -z "$e" ] && [ $s -gt $o ]; then
  m=$((s-o)); [ $m -gt 3 ] && m=3; k=0; lp=0; ll=0
  for x in $(od -An -tu1 -j $((s-m)) -N $m "$d/output"); do k=$((k+1))
    if [ $x -ge 240 ]; then lp=$k; ll=4; elif [ $x -ge 224 ]; then lp=$k; ll=3
    elif [ $x -ge 192 ]; then lp=$k; ll=2; elif [ $x -lt 128 ]; then lp=0; fi
  done
  [ $lp -gt 0 ] && [ $((k-lp+1)) -lt $ll ] && z=$((s-k+lp-1))
fi
echo "META ${{e:--}} $a $c $s $d/output $z" >&2
n=$((z-o))
if [ $n -le 0 ]; then :
elif [ $n -le $lim ]; then tail -c +$((o+1)) "$d/output" | head -c $n
else h=$((lim/2)); tail -c +$((o+1)) "$d/output" | head -c $h
  tail -c +$((z-h+1)) "$d/output" | head -c $h >&2; fi
"""

# $1 job id, $2 ticks of grace between SIGTERM and SIGKILL. Runs as the job's own user (the
# owner of its directory): on Docker a root exec in a container with a non-root user holds no
# capabilities, so it could neither write the job's files nor signal its processes. The tree
# (job, its marked descendants, and those that left the group with setsid and cleared their env)
# is found before anything dies: once a parent dies its children belong to PID 1, and only their
# session is left to find them by.
CANCEL_SCRIPT = (
    TREE_FUNCTIONS
    + f"""
{_BASE}; d="$b/$1"; g=$2; m="{JOB_MARKER_VAR}=$1"
[ -d "$d" ] || {{ echo missing; exit 3; }}
if [ -e "$d/exit" ]; then echo "done $(cat "$d/exit")"; exit 0; fi
[ -O "$d" ] || {{ echo "owner -"; exit 0; }}
p=$(cat "$d/pid"); : > "$d/cancelled"
tree "$m" "$p"; s=$t
kill -TERM -"$p" 2>/dev/null; for q in $s; do kill -TERM "$q" 2>/dev/null; done
i=0; while [ ! -e "$d/exit" ] && [ $i -lt $g ]; do sleep {TICK_S}; i=$((i+1)); done
reap "$m" $s
i=0; while [ ! -e "$d/exit" ] && [ $i -lt 60 ]; do sleep {TICK_S}; i=$((i+1)); done
[ -e "$d/exit" ] || echo {KILLED} > "$d/exit"
echo "cancelled $(cat "$d/exit")"
"""
)

LIST_SCRIPT = f"""
{_BASE}; for d in "$b"/*/; do [ -d "$d" ] || continue; d="${{d%/}}"
  e=$(cat "$d/exit" 2>/dev/null); w=$(cat "$d/wrapper" 2>/dev/null)
  a=0; [ -n "$w" ] && [ -d "/proc/$w" ] && a=1; c=0; [ -e "$d/cancelled" ] && c=1
  s=$(stat -c %s "$d/output" 2>/dev/null || echo 0); st=$(cat "$d/started" 2>/dev/null)
  cmd=$(head -c 200 "$d/command" 2>/dev/null | tr '\\n\\t' '  ')
  printf '%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "${{d##*/}}" "${{e:--}}" "$a" "$c" "$s" "$st" "$cmd"
done
"""

Runner = Callable[[ExecRequest], ExecResult]


@dataclass(frozen=True, slots=True)
class JobState:
    """A job as its files describe it."""

    job_id: str
    exit_code: int | None
    alive: bool
    cancelled: bool
    output_bytes: int

    @property
    def running(self) -> bool:
        """True while the job has not written its exit and its waiter still lives."""
        return self.exit_code is None and self.alive

    @property
    def state(self) -> str:
        """running, exited, cancelled, or lost (the waiter died with no exit, e.g. a restart)."""
        if self.exit_code is None:
            return "running" if self.alive else "lost"
        return "cancelled" if self.cancelled else "exited"


@dataclass(frozen=True, slots=True)
class PollResult:
    """New output since an offset, and the job's state at the end of the poll."""

    state: JobState
    output: str
    offset: int
    truncated: bool
    omitted_bytes: int
    #: Where the job's whole output is, inside the container.
    path: str


def new_job_id() -> str:
    """Returns a fresh job id (safe in paths and shell words by construction)."""
    return "j-" + secrets.token_hex(5)


def check_job_id(job_id: str) -> str:
    """Validates a job id, which becomes a path component inside the container.

    Raises:
        InvalidInputError: The id could name something other than a job directory.
    """
    if not _ID_RE.match(job_id):
        raise InvalidInputError(
            f"job_id {job_id!r} is not a job id.",
            hint="Use the job_id exec_background returned (call list_jobs to see them).",
            field="job_id",
        )
    return job_id


def tmpfs_options(memory_bytes: int) -> str:
    """Returns the mount options of the tool's tmpfs (env file, jobs) for a memory limit.

    A quarter of the limit, within [16 MiB, 1 GiB]: job output is kept in memory there.
    """
    size = min(max(memory_bytes // 4, TMPFS_MIN), TMPFS_MAX)
    return f"mode=1777,size={size // 1024}k"


def _script(script: str, *args: str, user: str | None, timeout_s: float, limit: int) -> ExecRequest:
    return ExecRequest(
        argv=["/bin/sh", "-c", script, "containers-tool-job", *args],
        user=user,
        timeout_s=timeout_s,
        output_limit=limit,
    )


def _not_found(job_id: str) -> NotFoundError:
    return NotFoundError(
        f"No job {job_id!r} in this container.",
        hint="Call list_jobs to see the container's jobs.",
        field="job_id",
    )


def _failed(what: str, result: ExecResult) -> ToolError:
    detail = (result.stderr.text or result.stdout.text).strip()[:300]
    if "No space left on device" in detail:
        # Job output lives on the tool's tmpfs: a full one is the jobs' doing, not the image's.
        return QuotaExceededError(
            f"Could not {what}: the tool's tmpfs {lb.ENVFILE_DIR} (job output, a quarter of the "
            "memory limit, at most 1 GiB) is full.",
            hint="Redirect large job output to a file elsewhere (e.g. `cmd > /tmp/out.log`), "
            "let finished jobs be pruned by starting fewer, or create the container with a "
            "larger memory_limit.",
        )
    return EngineError(
        f"Could not {what} (exit {result.exit_code}): {detail or 'no output'}.",
        hint="Check the container is running and has /bin/sh, /tmp and coreutils/busybox.",
    )


def start(
    run: Runner,
    argv: Sequence[str],
    record: str,
    *,
    env: dict[str, str],
    workdir: str | None,
    user: str | None,
) -> tuple[str, str]:
    """Starts `argv` in the background once its pid is on file.

    Args:
        run: Runs one exec in the container.
        argv: The command, passed as is (a shell string arrives as `/bin/sh -c <text>`).
        record: The command as the caller wrote it, for list_jobs.
        env: Extra environment of the job.
        workdir: Directory to run in; None for the container's.
        user: User to run as; None for the container's.

    Returns:
        The job id, and the path of its output file inside the container.

    Raises:
        EngineError: The job directory or the process could not be made.
    """
    job_id = new_job_id()
    req = ExecRequest(
        argv=["/bin/sh", "-c", START_SCRIPT, "containers-tool-job", job_id, record, *argv],
        env=env,
        workdir=workdir,
        user=user,
        timeout_s=30,
        output_limit=4096,
    )
    result = run(req)
    pid, _, folder = result.stdout.text.strip().partition(" ")
    if result.exit_code != 0 or not pid.isdigit() or not folder:
        raise _failed("start the job", result)
    return job_id, f"{folder}/output"


def _state(job_id: str, exit_text: str, alive: str, cancelled: str, size: str) -> JobState:
    return JobState(
        job_id=job_id,
        exit_code=int(exit_text) if exit_text.lstrip("-").isdigit() else None,
        alive=alive == "1",
        cancelled=cancelled == "1",
        output_bytes=int(size) if size.isdigit() else 0,
    )


def poll(run: Runner, job_id: str, offset: int, wait_s: float, limit: int) -> PollResult:
    """Returns output after `offset`, waiting up to `wait_s` for news (output or the exit).

    Args:
        run: Runs one exec in the container.
        job_id: A validated job id.
        offset: Byte offset already read.
        wait_s: Seconds to wait for new output or the exit; 0 answers at once.
        limit: Bytes of new output returned at most (head and tail kept).

    Raises:
        NotFoundError: No such job.
        InvalidInputError: The offset is past the end of the output.
    """
    ticks = int(wait_s / FAST_TICK_S)
    req = _script(
        POLL_SCRIPT,
        job_id,
        str(offset),
        str(ticks),
        str(limit),
        user=ROOT,
        timeout_s=wait_s + 30,
        limit=limit + 8192,
    )
    result = run(req)
    meta, _, tail = result.stderr.text.partition("\n")
    words = meta.split()
    if words[:2] == ["META", "missing"]:
        raise _not_found(job_id)
    if len(words) != 7 or words[0] != "META" or not words[6].isdigit():
        raise _failed("read the job", result)
    state = _state(job_id, *words[1:5])
    end = int(words[6])  # output_bytes, or less while a character is half written
    if offset > state.output_bytes:
        raise InvalidInputError(
            f"offset {offset} is past the end of the output ({state.output_bytes} bytes).",
            hint="Pass the offset the previous exec_poll returned, or 0.",
            field="offset",
        )
    new = max(end - offset, 0)
    truncated = new > limit
    text = result.stdout.text
    omitted = 0
    if truncated:
        omitted = new - 2 * (limit // 2)
        text = f"{text}\n… [{omitted:,} bytes omitted] …\n{tail}"
    return PollResult(state, text, max(end, offset), truncated, omitted, words[5])


def cancel(run: Runner, job_id: str, grace_s: float) -> tuple[bool, int | None]:
    """Ends a job's process group (SIGTERM, then SIGKILL after `grace_s`) and its strays.

    Returns:
        Whether this call ended it (False when it had already ended), and its exit code.

    Raises:
        NotFoundError: No such job.
    """
    ticks = max(int(grace_s / TICK_S), 1)
    words: list[str] = []
    # Most jobs run as the container's user; an as_root job answers "owner" to it, then root acts.
    for user in (None, ROOT):
        req = _script(
            CANCEL_SCRIPT, job_id, str(ticks), user=user, timeout_s=grace_s + 30, limit=4096
        )
        result = run(req)
        words = result.stdout.text.split()
        if words[:1] != ["owner"]:
            break
    if words[:1] == ["missing"]:
        raise _not_found(job_id)
    if len(words) != 2 or words[0] not in ("done", "cancelled"):
        raise _failed("cancel the job", result)
    code = int(words[1]) if words[1].lstrip("-").isdigit() else None
    return words[0] == "cancelled", code


@dataclass(frozen=True, slots=True)
class JobRow:
    """One line of list_jobs."""

    state: JobState
    started: int | None
    command: str


def list_jobs(run: Runner) -> list[JobRow]:
    """Returns every job of the container, oldest first."""
    result = run(_script(LIST_SCRIPT, user=ROOT, timeout_s=30, limit=1_000_000))
    if result.exit_code != 0:
        raise _failed("list the jobs", result)
    rows = []
    for line in result.stdout.text.splitlines():
        parts = line.split("\t", 6)
        if len(parts) != 7 or not _ID_RE.match(parts[0]):
            continue
        started = int(parts[5]) if parts[5].isdigit() else None
        rows.append(JobRow(_state(*parts[:5]), started, parts[6]))
    rows.sort(key=lambda r: (r.started or 0, r.state.job_id))
    return rows
