"""The CLI as a new user meets it: full names in list on both engines, options after the
container, did-you-mean, hints in flag terms, tables instead of JSON cells."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from containers_tool import ContainersTool
from containers_tool.cli.main import main
from containers_tool.settings import Settings
from tests.integration.conftest import BUSYBOX, TEST_SESSION, unique

CLI = [sys.executable, "-m", "containers_tool"]


def _cli(*args: str, columns: int = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "dumb"}
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def on_both() -> Iterator[dict[str, str]]:
    """A container with a long name on each engine."""
    names: dict[str, str] = {}
    tools = []
    for engine in ("docker", "podman"):
        tool = ContainersTool(Settings(runtime=engine), session_id=f"{TEST_SESSION}-cli-{engine}")
        # Persistent: the CLI is another session, which sees only those of the tenant.
        made = tool.call(
            "create", image=BUSYBOX, name=unique(f"h11-a-long-{engine}-name-x"), persistent=True
        )
        assert made["ok"], made
        names[engine] = str(made["container"])
        tools.append(tool)
    yield names
    for tool in tools:
        tool.call("destroy_all", confirm=True, session_id=tool.session_id)
        tool.close()


@pytest.mark.parametrize("columns", [80, 120])
def test_list_shows_whole_names_from_both_engines(on_both, columns):
    out = _cli("list", columns=columns)
    assert out.returncode == 0, out.stderr
    for engine, name in on_both.items():
        line = next(x for x in out.stdout.splitlines() if name in x)  # the whole name, one line
        assert engine in line
    assert max(len(x) for x in out.stdout.splitlines()) <= columns


def test_exec_takes_options_after_the_container(on_both, capsys):
    name = on_both["docker"]
    assert main(["--runtime", "docker", "exec", name, "--timeout", "1", "sleep", "5"]) == 124
    assert main(["--runtime", "docker", "exec", name, "--workdir", "/tmp", "pwd"]) == 0
    assert capsys.readouterr().out.strip() == "/tmp"
    assert main(["--runtime", "docker", "exec", name, "--", "sh", "-c", "exit 3"]) == 3


def test_unknown_subcommands_and_purposes_get_did_you_mean():
    out = _cli("lsit")
    assert out.returncode == 2
    assert "Did you mean 'list'?" in out.stderr
    made = _cli("create", "--purpose", "pyhton")
    assert made.returncode == 1
    assert "Did you mean 'python'?" in " ".join(made.stderr.split())


def test_hints_name_the_subcommand_and_flags_and_jobs_print_as_a_table(on_both):
    name = on_both["podman"]
    started = _cli("--runtime", "podman", "exec-background", name, "--", "echo hi")
    assert started.returncode == 0, started.stderr
    text = " ".join(started.stdout.split())
    assert "containers-tool exec-poll" in text
    assert "--wait" in text
    assert "Call exec_poll" not in text
    jobs = _cli("--runtime", "podman", "list-jobs", name)
    assert jobs.returncode == 0, jobs.stderr
    assert "job_id" in jobs.stdout
    assert '[{"' not in jobs.stdout  # no raw JSON in a cell
